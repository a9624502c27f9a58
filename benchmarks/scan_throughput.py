"""Scan throughput: safeforge's scan (HTTP target + runner + SQLite store) against a bare
aiohttp loop, same loopback server, same concurrency, same run.

    .venv/bin/python benchmarks/scan_throughput.py [--n 3000] [--concurrency 64] [--latency 0.05]

The server (``python -m safeforge.testing``) runs in its own process with a fixed artificial
latency, so it shares no GIL with the clients. Each client is timed end to end: safeforge's
figure includes loading the probe file, building records and committing every attempt to the
run store. The two are interleaved over ``--rounds`` and the best round of each is reported.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

from safeforge.records import Attempt, Completion, Expected, Message, Probe
from safeforge.run import ScanConfig, scan
from safeforge.run.store import Store


def start_server(latency: float, workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port_file = workdir / "server.url"
    cmd = [
        sys.executable,
        "-m",
        "safeforge.testing",
        "--latency",
        str(latency),
        "--port-file",
        str(port_file),
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    for _ in range(600):
        if port_file.exists():
            return proc, port_file.read_text()
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    proc.kill()
    raise SystemExit("the loopback server did not start")


async def bare_loop_async(base_url: str, prompts: list[str], concurrency: int) -> float:
    """The reference: one aiohttp session, a semaphore, one POST per prompt, JSON parsed."""
    semaphore = asyncio.Semaphore(concurrency)
    url = f"{base_url}/chat/completions"

    async def one(session: aiohttp.ClientSession, prompt: str) -> str:
        body = {"model": "bench", "messages": [{"role": "user", "content": prompt}], "max_tokens": 256}
        async with semaphore, session.post(url, json=body) as resp:
            data = await resp.json()
            return str(data["choices"][0]["message"]["content"])

    start = time.perf_counter()
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        answers = await asyncio.gather(*(one(session, p) for p in prompts))
    elapsed = time.perf_counter() - start
    assert len(answers) == len(prompts)
    return len(prompts) / elapsed


async def bare_httpx_async(base_url: str, prompts: list[str], concurrency: int) -> float:
    """The same loop on httpx (``--httpx``): why safeforge's HTTP target is built on aiohttp."""
    import httpx  # not a safeforge dependency; only for this comparison

    semaphore = asyncio.Semaphore(concurrency)
    url = f"{base_url}/chat/completions"
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async def one(client: httpx.AsyncClient, prompt: str) -> str:
        body = {"model": "bench", "messages": [{"role": "user", "content": prompt}], "max_tokens": 256}
        async with semaphore:
            resp = await client.post(url, json=body)
            return str(resp.json()["choices"][0]["message"]["content"])

    start = time.perf_counter()
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:
        answers = await asyncio.gather(*(one(client, p) for p in prompts))
    assert len(answers) == len(prompts)
    return len(prompts) / (time.perf_counter() - start)


def safeforge_scan(base_url: str, dataset: Path, run_dir: Path, n: int, concurrency: int) -> float:
    config = ScanConfig(
        target="openai:bench",
        base_url=base_url,
        datasets=[str(dataset)],
        concurrency=concurrency,
        run_dir=run_dir,
        judges=[],  # generation + store only: the bare loop does no judging either
        report=False,
    )
    start = time.perf_counter()
    run = scan(config, progress=False)
    elapsed = time.perf_counter() - start
    total, answered = run.counts()
    assert (total, answered) == (n, n), (total, answered)
    return n / elapsed


def store_overhead_us(workdir: Path, n: int) -> float:
    """Microseconds per attempt to serialize and commit attempts in batches of 32."""
    probe = Probe(
        id="x",
        intent_id="x",
        family="bench",
        messages=(Message(role="user", content="a prompt of ordinary length " * 4),),
        expected=Expected.REFUSE,
        group_id="x",
    )
    completion = Completion(text="I'm sorry, but I can't help with that. " * 3, finish_reason="stop")
    rows = [
        (i, Attempt(probe=probe.model_copy(update={"id": f"p{i}"}), target="bench", completion=completion))
        for i in range(n)
    ]
    with Store(workdir / "overhead.sqlite", create=True) as store:
        start = time.perf_counter()
        for i in range(0, n, 32):
            store.put_attempts(rows[i : i + 32])
        elapsed = time.perf_counter() - start
    return elapsed / n * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=3000, help="prompts per client per round")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--latency", type=float, default=0.05, help="server latency in seconds")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--httpx", action="store_true", help="also time a bare httpx loop (needs httpx)")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="sf-bench-"))
    proc, base_url = start_server(args.latency, workdir)
    try:
        prompts = [f"benchmark prompt number {i}" for i in range(args.n)]
        dataset = workdir / "prompts.csv"
        dataset.write_text("prompt\n" + "\n".join(prompts) + "\n", encoding="utf-8")
        asyncio.run(bare_loop_async(base_url, prompts[:200], args.concurrency))  # warm-up
        bare, ours = [], []
        for r in range(args.rounds):
            bare.append(asyncio.run(bare_loop_async(base_url, prompts, args.concurrency)))
            ours.append(safeforge_scan(base_url, dataset, workdir / f"run{r}", args.n, args.concurrency))
        overhead = store_overhead_us(workdir, 2000)
        httpx_rate = (
            asyncio.run(bare_httpx_async(base_url, prompts, args.concurrency)) if args.httpx else None
        )
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)

    ceiling = args.concurrency / args.latency
    print(f"loopback server: {args.latency * 1000:g} ms latency, concurrency {args.concurrency}, n={args.n}")
    print(f"  ceiling (concurrency / latency): {ceiling:8.0f} req/s")
    print(f"  bare aiohttp loop:               {max(bare):8.0f} req/s  (rounds: {_fmt(bare)})")
    print(f"  safeforge scan (incl. store):    {max(ours):8.0f} req/s  (rounds: {_fmt(ours)})")
    median_ratio = statistics.median(ours) / statistics.median(bare)
    ratio = max(ours) / max(bare)
    print(f"  ratio safeforge / bare:          {ratio:8.2f}x  (median of rounds {median_ratio:.2f}x)")
    if httpx_rate is not None:
        print(f"  bare httpx loop (comparison):    {httpx_rate:8.0f} req/s")
    print(f"  store: {overhead:.0f} us per attempt (serialize + commit, batches of 32)")


def _fmt(values: list[float]) -> str:
    return ", ".join(f"{v:.0f}" for v in values)


if __name__ == "__main__":
    main()
