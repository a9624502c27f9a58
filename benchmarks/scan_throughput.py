"""Scan throughput and memory: ``safeforge scan`` against a bare aiohttp script, same loopback
server, same prompts, same concurrency, measured in the same run.

    .venv/bin/python benchmarks/scan_throughput.py [--n 4000] [--concurrency 64] [--latency 0.05]
    .venv/bin/python benchmarks/scan_throughput.py --rss 5000,50000,500000   # peak memory

End to end (the default): each client is its own process, timed from start to exit. The bare
script (``bare_client.py`` beside this one: only aiohttp and the standard library) reads the
prompt CSV and POSTs every prompt; ``safeforge scan`` does everything a user gets —
imports, probe loading, generation, the SQLite store, the default judges, summary.json,
report.html, summary.md and the terminal table. The two are interleaved over ``--rounds``,
after a warm-up run of each; both start with Python bytecode cached (see ``child_env``).

``--window`` also times the request window alone in this process (the Python API with no judges
and no report, against the bare loop), and the store's cost per attempt.

``--rss`` scans the loopback server at 0 ms latency with ``n`` prompts per size, default judges
and report, and prints each process's peak resident memory (``getrusage`` of the child).

The server (``python -m safeforge.testing``) runs in its own process. On a shared machine the
load average is printed with the figures: ratios measured in the same run are what to compare.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

from bare_client import bare_loop_async

SAFEFORGE = [sys.executable, "-c", "from safeforge.cli import console; console()"]
BARE_CLIENT = Path(__file__).with_name("bare_client.py")


def start_server(latency: float, workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port_file = workdir / f"server-{latency:g}.url"
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


def write_dataset(path: Path, n: int) -> Path:
    with path.open("w", encoding="utf-8") as fh:
        fh.write("prompt\n")
        fh.writelines(f"benchmark prompt number {i}\n" for i in range(n))
    return path


def child_env(workdir: Path) -> dict[str, str]:
    """The clients' environment: Python bytecode cached under ``workdir``. An installed package
    has its ``.pyc`` files; under ``PYTHONDONTWRITEBYTECODE=1`` (set on some machines) every
    start would compile safeforge's modules from source (0.2-0.3 s of CPU each time) while the
    bare script's aiohttp comes precompiled. A warm-up run of each client fills the cache."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return {**env, "PYTHONPYCACHEPREFIX": str(workdir / "pycache")}


class Timed(NamedTuple):
    """One child process: wall seconds from start to exit, CPU seconds (user + system), peak
    RSS in MiB."""

    wall: float
    cpu: float
    rss: float


def timed_process(cmd: list[str], env: dict[str, str] | None = None) -> Timed:
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        err = proc.stderr.read().decode() if proc.stderr else ""
        raise SystemExit(f"{cmd[3:5]} failed ({proc.returncode}): {err[-2000:]}")
    return Timed(elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


def scan_command(base_url: str, dataset: Path, run_dir: Path, concurrency: int) -> list[str]:
    """``safeforge scan`` with the default judges and report, as a user runs it."""
    return [
        *SAFEFORGE, "scan", "--target", "openai:bench", "--base-url", base_url, "--dataset", str(dataset),
        "--concurrency", str(concurrency), "--run-dir", str(run_dir), "-q",
    ]  # fmt: skip


def end_to_end(base_url: str, dataset: Path, workdir: Path, args: argparse.Namespace) -> None:
    env = child_env(workdir)
    bare_cmd = [sys.executable, str(BARE_CLIENT), base_url, str(dataset), str(args.concurrency)]
    timed_process(bare_cmd, env)  # warm-up: bytecode, page cache, server connections
    warm = write_dataset(workdir / "warm-up.csv", 64)
    timed_process(scan_command(base_url, warm, workdir / "warm-up", args.concurrency), env)
    bare: list[Timed] = []
    ours: list[Timed] = []
    for r in range(args.rounds):
        bare.append(timed_process(bare_cmd, env))
        run_dir = workdir / f"e2e{r}"
        ours.append(timed_process(scan_command(base_url, dataset, run_dir, args.concurrency), env))
        shutil.rmtree(run_dir)
    bare_rate, our_rate = [args.n / t.wall for t in bare], [args.n / t.wall for t in ours]
    ratios = [o / b for o, b in zip(our_rate, bare_rate, strict=True)]
    print(
        f"end to end, process start to exit: n={args.n}, concurrency {args.concurrency}, "
        f"{args.latency * 1000:g} ms latency, {args.rounds} interleaved rounds"
    )
    print(f"  ceiling (concurrency / latency):  {args.concurrency / args.latency:8.0f} prompts/s")
    for name, rates, runs in (("bare aiohttp script", bare_rate, bare), ("safeforge scan", our_rate, ours)):
        cpu = min(t.cpu for t in runs)
        print(
            f"  {name + ':':32s}  {max(rates):8.0f} prompts/s  (rounds: {_fmt(rates)}); "
            f"CPU {cpu:.2f} s = {cpu / args.n * 1e3:.2f} ms per prompt"
        )
    per_round = ", ".join(f"{r:.2f}" for r in ratios)
    print(
        f"  ratio safeforge / bare:           {max(our_rate) / max(bare_rate):8.2f}x best of each; "
        f"per round {per_round} (median {statistics.median(ratios):.2f}x)"
    )
    print("  (safeforge: default judges, summary.json, report.html, summary.md, terminal table)")


def request_window(base_url: str, dataset: Path, workdir: Path, args: argparse.Namespace) -> None:
    """The engine alone, in this process: generation + store, no judges, no report."""
    from safeforge.run import ScanConfig, scan

    prompts = [f"benchmark prompt number {i}" for i in range(args.n)]
    bare, ours = [], []
    for r in range(args.rounds):
        bare.append(asyncio.run(bare_loop_async(base_url, prompts, args.concurrency)))
        config = ScanConfig(
            target="openai:bench", base_url=base_url, datasets=[str(dataset)], concurrency=args.concurrency,
            run_dir=workdir / f"window{r}", judges=[], report=False,
        )  # fmt: skip
        start = time.perf_counter()
        run = scan(config, progress=False)
        ours.append(args.n / (time.perf_counter() - start))
        assert run.counts() == (args.n, args.n)
    print("request window (in process; generation + store only, no judges or report):")
    print(f"  bare aiohttp loop: {max(bare):8.0f} req/s  (rounds: {_fmt(bare)})")
    print(f"  safeforge scan:    {max(ours):8.0f} req/s  (rounds: {_fmt(ours)})")
    print(f"  ratio:             {max(ours) / max(bare):8.2f}x")
    print(
        f"  store: {store_overhead_us(workdir, 2000):.0f} us per attempt (serialize + commit, groups of 16)"
    )


def store_overhead_us(workdir: Path, n: int) -> float:
    """Microseconds per attempt to serialize and commit attempts in groups of 16."""
    from safeforge.records import Attempt, Completion, Expected, Message, Probe
    from safeforge.run.store import Store

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
        for i in range(0, n, 16):
            store.put_attempts(rows[i : i + 16])
        elapsed = time.perf_counter() - start
    return elapsed / n * 1e6


def peak_memory(sizes: list[int], workdir: Path, concurrency: int) -> None:
    """Peak RSS of whole scans (0 ms server, default judges and report) at each size."""
    proc, base_url = start_server(0.0, workdir)
    try:
        rows = []
        for n in sizes:
            dataset = write_dataset(workdir / f"rss{n}.csv", n)
            run_dir = workdir / f"rss{n}"
            scan_cmd = scan_command(base_url, dataset, run_dir, concurrency)
            wall, _, rss = timed_process(scan_cmd, child_env(workdir))
            rows.append((n, wall, rss, (run_dir / "run.sqlite").stat().st_size))
            shutil.rmtree(run_dir)
            dataset.unlink()
            print(
                f"  n={n:>9,}: peak RSS {rss:7.0f} MiB, {n / wall:6.0f} prompts/s, {wall:7.1f} s", flush=True
            )
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    by_n = {n: rss for n, _, rss, _ in rows}
    print(f"peak RSS, 0 ms server, concurrency {concurrency}, default judges and report:")
    for n, wall, rss, store_bytes in rows:
        per = store_bytes / n
        print(f"  {n:>9,} prompts: {rss:7.0f} MiB peak RSS  (store {per:,.0f} B/attempt, {wall:.0f} s)")
    if 50_000 in by_n and 500_000 in by_n:
        print(f"  500k / 50k: {by_n[500_000] / by_n[50_000]:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=4000, help="prompts per client per round")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--latency", type=float, default=0.05, help="server latency in seconds")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--window", action="store_true", help="also time the request window in process")
    parser.add_argument("--rss", default="", help="comma-separated sizes: peak-RSS scans instead")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="sf-bench-"))
    print(f"load average at start: {_load()} ({os.cpu_count()} CPUs)")
    try:
        if args.rss:
            peak_memory([int(s) for s in args.rss.split(",")], workdir, args.concurrency)
            return
        proc, base_url = start_server(args.latency, workdir)
        try:
            dataset = write_dataset(workdir / "prompts.csv", args.n)
            end_to_end(base_url, dataset, workdir, args)
            if args.window:
                request_window(base_url, dataset, workdir, args)
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        print(f"load average at end: {_load()}")


def _load() -> str:
    return ", ".join(f"{x:.1f}" for x in os.getloadavg())


def _fmt(values: list[float]) -> str:
    return ", ".join(f"{v:.0f}" for v in values)


if __name__ == "__main__":
    main()
