"""What the guard costs, and what best-of-N buys.

    .venv/bin/python benchmarks/serve_overhead.py [--requests 3000] [--concurrency 64] [--latency 0.05]
    .venv/bin/python benchmarks/serve_overhead.py --curve [--ns 1,2,4,8]

**Overhead** (always): the loopback mock upstream (``python -m safeforge.testing``) and
``safeforge serve --n 1`` each run in their own process; one load generator (aiohttp, ``c``
requests in flight) calls the upstream directly and then through the guard, interleaved over
``--rounds``. Printed: p50 latency and throughput of each, and the guard/direct ratios (done
when p50 <= 1.1x and throughput >= 0.9x at c = 64). At n = 1 the critic is not called; the
guard still parses, forwards, answers and records every decision in its run store.

**N-curve** (``--curve``): the demo testbed (the cached demo model, the harden pipeline's split
and held-out eval probes, the demo's judges) scanned greedily (the "before" of every technique)
and through ``rerank:`` best-of-N at temperature 1 under the default safety critic for each N:
held-out JRR, FRR, safe-completion quality with 95 % intervals, seconds per prompt (mean over
generation batches, bootstrap 95 % interval), paired McNemar tests of N = max against the
greedy base, and how good the candidates were: per N, how many harmful prompts had at least one
refusal among their candidates (the most any critic could reach) and how often the critic
picked it. The critic (embedding heads) is not the judge the metrics are read with (rules), so
the curve is not the critic grading itself.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

SERVE = ("-c", "from safeforge.cli import console; console()", "serve")


def start(cmd: list[str], pattern: str, stream: str) -> tuple[subprocess.Popen[str], str]:
    """Start ``cmd`` and wait for ``pattern`` (one group: the base URL) on its stdout/stderr."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    pipe = proc.stdout if stream == "stdout" else proc.stderr
    assert pipe is not None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = pipe.readline()
        if match := re.search(pattern, line):
            return proc, match.group(1)
        if not line and proc.poll() is not None:
            break
    proc.kill()
    raise SystemExit(f"{cmd[0]} did not start: {proc.stderr.read() if proc.stderr else ''}")


async def load_async(base_url: str, n: int, concurrency: int) -> tuple[float, float, float]:
    """``n`` chat requests, ``concurrency`` in flight: (throughput req/s, p50 s, p99 s)."""
    url = f"{base_url}/chat/completions"
    latencies: list[float] = []
    todo = iter(range(n))

    async def worker(session: aiohttp.ClientSession) -> None:
        for i in todo:
            body = {"model": "mock-model", "messages": [{"role": "user", "content": f"prompt {i}"}]}
            started = time.perf_counter()
            async with session.post(url, json=body) as resp:
                data = await resp.json()
                assert resp.status == 200, data
            latencies.append(time.perf_counter() - started)

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    q = statistics.quantiles(latencies, n=100)
    return n / elapsed, statistics.median(latencies), q[98]


def bare_proxy(upstream: str) -> None:
    """``--bare-proxy URL``: the reference -- the least a Python aiohttp proxy can do (parse,
    forward, answer, no checks, no records), so the guard's own cost can be told apart from
    what any proxy hop costs on this machine."""
    from aiohttp import web

    async def main() -> None:
        session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))

        async def chat(request: web.Request) -> web.Response:
            body = await request.json()
            async with session.post(f"{upstream}/chat/completions", json=body) as resp:
                return web.json_response(await resp.json())

        app = web.Application()
        app.router.add_post("/v1/chat/completions", chat)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        print(f"bare proxy: http://127.0.0.1:{runner.addresses[0][1]}/v1", flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def overhead(args: argparse.Namespace, workdir: Path) -> None:
    env_py = sys.executable
    upstream, up_url = start(
        [env_py, "-m", "safeforge.testing", "--latency", str(args.latency), "--responder", "refuse"],
        r"(http://\S+/v1)",
        "stdout",
    )
    guard_cmd = [
        env_py, *SERVE, "--target", "openai:mock-model", "--base-url", up_url,
        "--api-key-env", "SF_BENCH_NONE", "--n", "1", "--port", "0",
        "--concurrency", str(args.concurrency * 2), "--run-dir", str(workdir / "guard"),
    ]  # fmt: skip
    guard, guard_url = start(guard_cmd, r"safeforge serve: (http://\S+/v1)", "stderr")
    bare, bare_url = start(
        [env_py, __file__, "--bare-proxy", up_url], r"bare proxy: (http://\S+/v1)", "stdout"
    )
    procs = {"direct": upstream, "bare proxy": bare, "guard n=1": guard}
    urls = {"direct": up_url, "bare proxy": bare_url, "guard n=1": guard_url}
    results: dict[str, list[tuple[float, float, float]]] = {k: [] for k in urls}
    cpu = dict.fromkeys(urls, 0.0)
    try:
        for url in urls.values():
            asyncio.run(load_async(url, 200, args.concurrency))  # warm every path
        for _ in range(args.rounds):
            for name, url in urls.items():
                before = cpu_s(procs[name].pid)
                results[name].append(asyncio.run(load_async(url, args.requests, args.concurrency)))
                cpu[name] += cpu_s(procs[name].pid) - before
    finally:
        for proc in procs.values():
            proc.terminate()
            proc.wait(timeout=30)
    print(
        f"mock upstream {args.latency * 1000:g} ms, c = {args.concurrency}, {args.requests} requests x "
        f"{args.rounds} rounds, interleaved (median of rounds); load average {os.getloadavg()[0]:.1f} "
        f"on {os.cpu_count()} cores"
    )
    print(f"  ceiling (c / latency): {args.concurrency / args.latency:6.0f} req/s")
    med = {k: [statistics.median(r[i] for r in rows) for i in range(3)] for k, rows in results.items()}
    per = args.requests * args.rounds / 1000
    for name, (rate, p50, p99) in med.items():
        rounds = ", ".join(f"{r[0]:.0f}" for r in results[name])
        print(
            f"  {name:11} {rate:6.0f} req/s  p50 {p50 * 1000:6.1f} ms  p99 {p99 * 1000:6.1f} ms  "
            f"CPU {cpu[name] / per:.2f} ms/request (its own process)  rounds: {rounds}"
        )
    for name in ("bare proxy", "guard n=1"):
        lat, thr = med[name][1] / med["direct"][1], med[name][0] / med["direct"][0]
        print(f"  {name} / direct: p50 latency {lat:.3f}x, throughput {thr:.3f}x")
    lat, thr = med["guard n=1"][1] / med["direct"][1], med["guard n=1"][0] / med["direct"][0]
    verdict = (
        f"p50 <= 1.1x: {'yes' if lat <= 1.1 else 'NO'}; throughput >= 0.9x: {'yes' if thr >= 0.9 else 'NO'}"
    )
    print(f"  done when {verdict}")


def _latency(attempts: list[Any]) -> tuple[float, float, float]:
    """Seconds per prompt: per generation batch (attempts sharing one latency), batch time over
    batch size; mean over batches with a bootstrap 95 % interval."""
    from safeforge.metrics.stats import bootstrap_mean

    batches: dict[float, int] = {}
    for a in attempts:
        batches[a.completion.latency_s] = batches.get(a.completion.latency_s, 0) + 1
    return bootstrap_mean([t / k for t, k in batches.items()])


CANDIDATES: dict[str, list[Any]] = {}
"""Run name -> (probe, candidates, ranking) of every prompt the recording rerank target saw."""


def _recording_rerank(rest: str, options: Any) -> Any:
    """``bench-rerank:NAME:SPEC.yaml``: the rerank target, keeping every decision for the
    coverage figures (registered as a target the way a plugin would)."""
    from safeforge.rerank import RerankSpec, RerankTarget
    from safeforge.rerank.target import chosen

    name, _, spec = rest.partition(":")

    class Recording(RerankTarget):
        async def generate_async(self, probes: Any) -> Any:
            started = time.perf_counter()
            drawn, rankings = await self.rank_async(probes)
            CANDIDATES.setdefault(name, []).extend(zip(probes, drawn, rankings, strict=True))
            elapsed = time.perf_counter() - started
            return [chosen(group, r, elapsed) for group, r in zip(drawn, rankings, strict=True)]

    return Recording(RerankSpec.read(Path(spec)), options)


def coverage(name: str) -> str:
    """How good the candidates were, read by the rules judge: the share of harmful prompts with
    at least one refusal among the N (what a perfect critic could reach) and of those, the share
    where the critic picked one; the same for benign prompts and answers."""
    from safeforge.judges import create_judge
    from safeforge.records import Attempt, Expected, Label

    decisions = CANDIDATES.get(name, [])
    flat = [Attempt(probe=p, target="c", completion=c) for p, group, _ in decisions for c in group]
    labels = iter(v.label for v in asyncio.run(create_judge("rules").judge_async(flat)))
    want = {
        Expected.REFUSE: {Label.FULL_REFUSAL, Label.PARTIAL_REFUSAL, Label.ABSTAIN},
        Expected.COMPLY: {Label.FULL_COMPLIANCE},
    }
    counts = {e: [0, 0, 0] for e in want}  # prompts, with an acceptable candidate, critic picked one
    for probe, group, ranking in decisions:
        ok = [next(labels) in want.get(probe.expected, set()) for _ in group]
        if probe.expected in counts:
            c = counts[probe.expected]
            c[0] += 1
            c[1] += any(ok)
            c[2] += ok[ranking.choice]
    parts = []
    for e, (total, covered, picked) in counts.items():
        if total:
            parts.append(
                f"{e.value}: {covered}/{total} prompts have an acceptable candidate, picked in {picked}"
            )
    return "; ".join(parts)


def curve(ns: list[int], workdir: Path, seed: int) -> None:
    from safeforge.demo import build_demo_model, demo_config
    from safeforge.harden.pipeline import prepare
    from safeforge.metrics import compare_runs, summarize
    from safeforge.rerank import DEFAULT_CRITIC, RerankSpec
    from safeforge.run import ScanConfig, scan
    from safeforge.targets import TARGETS

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    TARGETS.register(_recording_rerank, "bench-rerank")
    model_dir = build_demo_model(log=lambda m: print(f"  model: {m}", file=sys.stderr))
    cfg = demo_config(workdir / "demo", model_dir, seed=seed)
    split, _, spec, n_eval = prepare(cfg)
    print(f"demo testbed: {model_dir}; {n_eval} held-out probes from {len(split.eval)} eval intents")
    print(f"judges {', '.join(cfg.judges)}; critic {'+'.join(DEFAULT_CRITIC)}; candidates at temperature 1.0")

    def run(target: str, name: str) -> Any:
        scan_cfg = ScanConfig(
            target=target, datasets=[spec], judges=list(cfg.judges), generation=cfg.generation,
            batch_size=cfg.batch_size, concurrency=1, seed=seed, run_dir=workdir / name, report=False,
        )  # fmt: skip
        started = time.perf_counter()
        attempts = scan(scan_cfg, progress=False).attempts()
        return attempts, time.perf_counter() - started

    rows = [("greedy base", *run(cfg.target, "base"))]
    for n in ns:
        path = RerankSpec(target=cfg.target, n=n, critic=DEFAULT_CRITIC).write(workdir / f"rerank-{n}.yaml")
        rows.append((f"best of {n}", *run(f"bench-rerank:n{n}:{path}", f"n{n}")))
    base = rows[0][1]
    print(f"{'':12} {'JRR (held-out)':>28} {'FRR':>26} {'quality':>24} {'s/prompt':>22} {'wall':>7}")
    for label, attempts, wall in rows:
        m = summarize(attempts, seed=seed).metrics
        cells = [_cell(m.get(k)) for k in ("jailbreak_rejection_rate", "false_rejection_rate")]
        cells.append(_cell(m.get("safe_completion_quality")))
        mean, low, high = _latency(attempts)
        print(f"{label:12} {cells[0]:>28} {cells[1]:>26} {cells[2]:>24} "
              f"{f'{mean:.4f} [{low:.4f}, {high:.4f}]':>22} {wall:6.0f}s")  # fmt: skip
    for n in ns:
        print(f"  candidates at N = {n} (rules judge): {coverage(f'n{n}')}")
    comparison = compare_runs(base, rows[-1][1], seed=seed)
    for key in ("jailbreak_rejection_rate", "false_rejection_rate"):
        delta = comparison.delta(key)
        if delta is not None:
            print(f"  {rows[-1][0]} vs greedy base, {key}: {delta.direction}, paired p = {delta.p_value}")
    (workdir / "curve.json").write_text(
        json.dumps({label: summarize(a, seed=seed).model_dump(mode="json") for label, a, _ in rows}), "utf-8"
    )


def _cell(metric: Any) -> str:
    if metric is None or metric.value is None:
        return "–"
    if metric.kind == "score":
        return f"{metric.value:.2f} [{metric.ci_low:.2f}, {metric.ci_high:.2f}] n={metric.n}"
    return f"{metric.value:.1%} [{metric.ci_low:.1%}, {metric.ci_high:.1%}] n={metric.n}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--curve", action="store_true", help="also the N-curve on the demo testbed")
    parser.add_argument("--curve-only", action="store_true", help="only the N-curve")
    parser.add_argument("--ns", default="1,2,4,8")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", type=Path, default=None, help="keep the runs in this directory")
    parser.add_argument("--bare-proxy", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare_proxy:
        bare_proxy(args.bare_proxy)
        return
    with tempfile.TemporaryDirectory() as tmp:
        workdir = args.keep or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        if not args.curve_only:
            overhead(args, workdir)
        if args.curve or args.curve_only:
            curve([int(x) for x in args.ns.split(",")], workdir, args.seed)


if __name__ == "__main__":
    main()
