"""kill -9 at concurrency 16, resumed, three times over: the endpoint sees at most 16 requests
again (what was in flight), no answer is lost and none is stored twice."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from safeforge.testing import OpenAIServer, echo

CLI = [sys.executable, "-c", "from safeforge.cli import main; main()"]
CONCURRENCY = 16


def _stored(db_path: Path) -> list[str]:
    """Probe ids in the store, read-only (the scan may be writing)."""
    if not db_path.exists():
        return []
    try:
        with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5) as db:
            return [row[0] for row in db.execute("SELECT probe_id FROM attempts")]
    except sqlite3.OperationalError:  # created but no table yet
        return []


def _prompt(probe_id: str) -> str:
    return f"prompt {probe_id.rsplit(':', 1)[1]}"


def _kill_after_stored(proc: subprocess.Popen[bytes], db_path: Path, at_least: int, delay: float) -> None:
    """SIGKILL ``delay`` seconds after the store holds ``at_least`` attempts (not right after a
    commit, which would be the kindest moment)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(_stored(db_path)) < at_least and proc.poll() is None:
        time.sleep(0.01)
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read() if proc.stderr else ""


def test_sigkill_at_concurrency_16_resends_at_most_what_was_in_flight(tmp_path: Path) -> None:
    n = 900
    data = tmp_path / "d.csv"
    data.write_text("id,prompt\n" + "".join(f"{i},prompt {i}\n" for i in range(n)), encoding="utf-8")
    config = tmp_path / "scan.yaml"
    config.write_text("judges: []\nreport: false\n", encoding="utf-8")  # generation only: quick
    run_dir = tmp_path / "run"
    db_path = run_dir / "run.sqlite"
    server = OpenAIServer(echo, latency_s=0.05)
    env = {**os.environ, "OPENAI_API_KEY": ""}
    first = [
        *CLI, "scan", "--config", str(config), "--target", "openai:m", "--dataset", str(data),
        "--concurrency", str(CONCURRENCY), "--run-dir", str(run_dir), "-q",
    ]  # fmt: skip
    resume = [*CLI, "scan", "--resume", str(run_dir), "-q"]
    with server.running() as url:
        command = [*first, "--base-url", url]
        for kill_at, delay in ((150, 0.043), (400, 0.071), (650, 0.029)):  # three different moments
            seen = len(server.requests)
            proc = subprocess.Popen(command, env=env, stderr=subprocess.PIPE)
            _kill_after_stored(proc, db_path, kill_at, delay)
            time.sleep(0.3)  # let the server read what the killed client had already sent
            stored = set(_stored(db_path))
            assert kill_at <= len(stored) < n, "the kill did not land mid-run"
            sent = [r.prompt for r in server.requests[seen:]]
            in_flight = set(sent) - {_prompt(pid) for pid in stored}
            assert len(in_flight) <= CONCURRENCY, f"{len(in_flight)} sent but not stored"
            command = [*resume, "--base-url", url]
        seen = len(server.requests)
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        final = [r.prompt for r in server.requests[seen:]]
    rows = _stored(db_path)
    assert len(rows) == len(set(rows)) == n  # none lost, none twice
    before_last = {_prompt(pid) for pid in stored}
    assert not before_last & set(final)  # nothing committed was asked again
    assert len(final) == len(set(final)) == n - len(stored)
    every_request = [r.prompt for r in server.requests]
    assert len(every_request) - n <= 3 * CONCURRENCY  # the whole run re-sent at most 16 per kill
