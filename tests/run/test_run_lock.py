"""One scan per run directory: a second scan into a busy run dir is refused at once with the
owner's pid; a lock left by a dead scan is taken over; a refused or failed scan leaves nothing."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from safeforge.errors import SafeforgeError
from safeforge.run import scan
from safeforge.run.lock import LOCK_FILE, RunLock
from safeforge.testing import ChatRequest, Fault, OpenAIServer, echo

CLI = [sys.executable, "-c", "from safeforge.cli import main; main()"]


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_second_scan_into_a_busy_run_dir_is_refused(tmp_path: Path) -> None:
    n = 200
    data = tmp_path / "d.csv"
    data.write_text("prompt,expected\n" + "".join(f"prompt {i},comply\n" for i in range(n)))
    run_dir = tmp_path / "run"
    released = threading.Event()  # the first scan answers slowly (>= 30 s in all) until released

    def slow_until_released(request: ChatRequest) -> str | Fault:
        return echo(request) if released.is_set() else Fault(status=200, delay_s=0.3, text=echo(request))

    server = OpenAIServer(slow_until_released)
    env = {**os.environ, "OPENAI_API_KEY": ""}
    with server.running() as url:
        args = ["scan", "--target", "openai:m", "--base-url", url, "--dataset", str(data), "--judge", "rules"]
        first = subprocess.Popen(
            [*CLI, *args, "--concurrency", "2", "--run-dir", str(run_dir), "-q"], env=env, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while not (run_dir / LOCK_FILE).exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        owner = json.loads((run_dir / LOCK_FILE).read_text())
        assert owner["pid"] == first.pid
        second = subprocess.run(
            [*CLI, *args, "--run-dir", str(run_dir), "-q"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        released.set()
        out, err = first.communicate(timeout=120)
    assert second.returncode != 0
    lines = second.stderr.strip().splitlines()
    assert len(lines) == 1, second.stderr
    assert f"is in use by another scan (pid {first.pid}" in lines[0]
    assert first.returncode == 0, err
    assert f"{n} attempts ({n} answered, 0 errors)" in out
    assert len(server.requests) == n  # the refused scan asked nothing
    assert not (run_dir / LOCK_FILE).exists()  # released at the end


def test_a_stale_lock_is_taken_over_with_a_note(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    pid = _dead_pid()
    (run_dir / LOCK_FILE).write_text(json.dumps({"pid": pid, "host": socket.gethostname(), "started": "x"}))
    data = tmp_path / "d.csv"
    data.write_text("prompt,expected\nhi,comply\n")
    run = scan(target="mock", datasets=[str(data)], run_dir=run_dir, judges=["rules"], progress=False)
    assert run.counts() == (1, 1)
    assert f"took over the lock of a scan that is no longer running (pid {pid})" in capsys.readouterr().err
    assert not (run_dir / LOCK_FILE).exists()


def test_a_live_or_foreign_lock_refuses_and_a_created_dir_is_removed(tmp_path: Path) -> None:
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / LOCK_FILE).write_text(json.dumps({"pid": os.getpid(), "host": "elsewhere", "started": "t"}))
    with pytest.raises(SafeforgeError, match=r"pid \d+ on elsewhere"), RunLock(busy):
        pass
    assert (busy / LOCK_FILE).exists()  # someone else's lock is left alone
    fresh = tmp_path / "fresh"
    with RunLock(fresh):
        assert (fresh / LOCK_FILE).exists()
        with pytest.raises(SafeforgeError, match="in use by another scan"), RunLock(fresh):
            pass
    assert not fresh.exists()  # nothing was written: no run dir left behind
