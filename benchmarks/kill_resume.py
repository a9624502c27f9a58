"""kill -9 and resume, over and over: how many requests a resumed scan sends again.

    .venv/bin/python benchmarks/kill_resume.py [--n 3000] [--kills 10] [--concurrency 16]

One ``safeforge scan`` (default judges and report, so the judges are running when it dies)
against the loopback server (``--latency`` 50 ms) is SIGKILLed ``--kills`` times at seeded
random moments and resumed each time with ``--resume``; the last resume runs to the end. For
every kill it prints how many requests the server had received that the store did not hold
(what was in flight: the most a resume can send again), and at the end how many requests the
whole run took beyond one per prompt, and whether the store holds every prompt exactly once,
each judged once by every judge.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from safeforge.testing import OpenAIServer, echo

CLI = [sys.executable, "-c", "from safeforge.cli import console; console()"]


def stored_ids(db_path: Path) -> list[str]:
    """Probe ids in the store, read-only (the scan may be writing)."""
    if not db_path.exists():
        return []
    try:
        with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5) as db:
            return [row[0] for row in db.execute("SELECT probe_id FROM attempts")]
    except sqlite3.OperationalError:  # created, no table yet
        return []


def kill_at(command: list[str], db_path: Path, at_least: int, delay: float) -> None:
    """Start ``command``; SIGKILL it ``delay`` s after the store holds ``at_least`` attempts."""
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and len(stored_ids(db_path)) < at_least and proc.poll() is None:
        time.sleep(0.005)
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    if proc.returncode != -signal.SIGKILL:
        err = proc.stderr.read().decode() if proc.stderr else ""
        raise SystemExit(f"the scan ended before it was killed ({proc.returncode}): {err[-1000:]}")


def main() -> None:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument("--n", type=int, default=3000, help="prompts")
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--latency", type=float, default=0.05, help="server latency in seconds")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sf-kill-"))
    try:
        measure(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def measure(args: argparse.Namespace, work: Path) -> None:
    data = work / "d.csv"
    data.write_text("id,prompt\n" + "".join(f"{i},prompt {i}\n" for i in range(args.n)), encoding="utf-8")
    run_dir, rng = work / "run", random.Random(args.seed)
    db_path = run_dir / "run.sqlite"
    os.environ["OPENAI_API_KEY"] = ""
    marks = sorted(rng.sample(range(args.n // 20, args.n * 9 // 10), args.kills))
    server = OpenAIServer(echo, latency_s=args.latency)
    print(f"n={args.n}, concurrency {args.concurrency}, {args.latency * 1000:g} ms, default judges + report")
    with server.running() as url:
        command = [
            *CLI, "scan", "--target", "openai:m", "--dataset", str(data), "--run-dir", str(run_dir),
            "--concurrency", str(args.concurrency), "--base-url", url, "-q",
        ]  # fmt: skip
        worst = 0
        for k, mark in enumerate(marks, 1):
            seen = len(server.requests)
            kill_at(command, db_path, mark, rng.uniform(0.0, 0.1))
            time.sleep(0.3)  # let the server read what the killed client had already sent
            stored = {f"prompt {pid.rsplit(':', 1)[1]}" for pid in stored_ids(db_path)}
            in_flight = {r.prompt for r in server.requests[seen:]} - stored
            worst = max(worst, len(in_flight))
            print(f"  kill {k:2d}: {len(stored):5d} stored, {len(in_flight):2d} sent but not stored")
            command = [*CLI, "scan", "--resume", str(run_dir), "--base-url", url, "-q"]
        done = subprocess.run(command, capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            raise SystemExit(done.stderr[-2000:])
        requests = len(server.requests)
    ids = stored_ids(db_path)
    with sqlite3.connect(db_path) as db:
        per_judge = dict(db.execute("SELECT judge, COUNT(DISTINCT probe_id) FROM verdicts GROUP BY judge"))
        twice = db.execute(
            "SELECT COUNT(*) FROM (SELECT 1 FROM verdicts GROUP BY probe_id, judge HAVING COUNT(*) > 1)"
        ).fetchone()[0]
    print(f"  most sent but not stored at a kill: {worst} (concurrency {args.concurrency})")
    extra = requests - args.n
    print(f"  requests in all: {requests} for {args.n} prompts ({extra} re-sent over {args.kills} kills)")
    print(f"  store: {len(ids)} attempts, {len(set(ids))} distinct, {args.n - len(set(ids))} missing")
    print(f"  verdicts: {per_judge} distinct attempts per judge, {twice} (attempt, judge) pairs twice")


if __name__ == "__main__":
    main()
