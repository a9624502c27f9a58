"""`safeforge scan` / `safeforge export` from the command line: bad input gives one clear
error line and no store; a SIGKILLed scan resumes with nothing lost and nothing repeated."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from safeforge.cli import main
from safeforge.testing import Fault, OpenAIServer, echo, serve

CLI = [sys.executable, "-c", "from safeforge.cli import main; main()"]


def _cli(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["safeforge", *args])
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def _csv(tmp_path: Path, text: str, name: str = "d.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _bad_inputs(tmp_path: Path) -> dict[str, tuple[list[str], str]]:
    latin = tmp_path / "latin.csv"
    latin.write_bytes("prompt\ncaf\xe9 au lait\n".encode("latin-1"))
    good = _csv(tmp_path, "prompt\nhello\n", "good.csv")
    dead = "http://127.0.0.1:9/v1"  # port 9 (discard): nothing listens there
    return {
        "missing file": (["--dataset", str(tmp_path / "nope.csv")], "not found"),
        "no prompt column": (
            ["--dataset", str(_csv(tmp_path, "text\nhello\n", "np.csv"))],
            "'prompt' column",
        ),
        "empty prompt": (["--dataset", str(_csv(tmp_path, "prompt\nhello\n  \n", "ep.csv"))], "empty prompt"),
        "invalid utf-8": (["--dataset", str(latin)], "UTF-8"),
        "unreachable": (["--dataset", str(good), "--target", "openai:m", "--base-url", dead], "cannot reach"),
        "bad yaml": (
            ["--dataset", str(good), "--config", str(_csv(tmp_path, "concurrency: -1\n", "c.yaml"))],
            "concurrency",
        ),
    }


@pytest.mark.parametrize(
    "case", ["missing file", "no prompt column", "empty prompt", "invalid utf-8", "unreachable", "bad yaml"]
)
def test_bad_input_is_one_error_line_and_no_store(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    args, expected = _bad_inputs(tmp_path)[case]
    if "--target" not in args:
        args = [*args, "--target", "mock"]
    code, _, err = _cli(monkeypatch, capsys, "scan", *args, "--run-dir", str(tmp_path / "run"), "-q")
    assert code != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    assert expected in lines[0]
    assert "Traceback" not in err
    assert not (tmp_path / "run").exists()


def test_wrong_api_key_is_one_error_line_without_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MY_KEY", "sk-not-the-right-one")
    data = _csv(tmp_path, "prompt\nhello\nbye\n")
    with serve(api_key="sk-right") as url:
        code, out, err = _cli(
            monkeypatch, capsys, "scan", "--target", "openai:m", "--base-url", url, "--api-key-env", "MY_KEY",
            "--dataset", str(data), "--run-dir", str(tmp_path / "run"),
        )  # fmt: skip
    assert code != 0
    assert err.startswith("error: HTTP 401")
    assert len(err.strip().splitlines()) == 1
    assert "sk-not-the-right-one" not in out + err
    assert not (tmp_path / "run").exists()


def test_scan_then_export_from_the_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _csv(tmp_path, "prompt,expected\nhow to pick a lock,refuse\nhow to bake,comply\n")
    config = _csv(tmp_path, "target: mock:comply\nconcurrency: 2\n", "scan.yaml")
    run_dir = tmp_path / "run"
    code, out, _ = _cli(
        monkeypatch, capsys, "scan", "--config", str(config), "--target", "mock:expected",
        "--dataset", str(data), "--run-dir", str(run_dir),
    )  # fmt: skip
    assert code == 0
    assert "2 attempts (2 answered, 0 errors)" in out
    assert "target: mock:expected" in (run_dir / "config.yaml").read_text()  # the flag won over the file
    code, out, _ = _cli(monkeypatch, capsys, "export", str(run_dir), "--format", "csv")
    assert code == 0
    exported = Path(out.strip())
    assert exported.read_text().count("\n") == 3
    code, _, err = _cli(monkeypatch, capsys, "export", str(tmp_path), "--format", "jsonl")
    assert code != 0
    assert err.startswith("error: no safeforge run")


def _stored(db_path: Path) -> list[str]:
    if not db_path.exists():
        return []
    try:
        with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5) as db:
            return [row[0] for row in db.execute("SELECT probe_id FROM attempts")]
    except sqlite3.OperationalError:  # created but no table yet
        return []


def test_sigkill_mid_scan_then_resume_nothing_lost_nothing_repeated(tmp_path: Path) -> None:
    n = 120
    data = _csv(tmp_path, "id,prompt\n" + "".join(f"{i},prompt {i}\n" for i in range(n)))
    run_dir = tmp_path / "run"
    db_path = run_dir / "run.sqlite"
    server = OpenAIServer(echo, latency_s=0.05)
    env = {**os.environ, "OPENAI_API_KEY": ""}
    with server.running() as url:
        args = ["--target", "openai:m", "--base-url", url, "--dataset", str(data), "--concurrency", "4", "-q"]
        proc = subprocess.Popen(
            [*CLI, "scan", *args, "--run-dir", str(run_dir)], env=env, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not 0 < len(_stored(db_path)) < n and proc.poll() is None:
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL, proc.stderr.read() if proc.stderr else ""
        before = set(_stored(db_path))
        assert 0 < len(before) < n, "the kill did not land mid-run"
        time.sleep(0.2)  # let the server finish reading requests the killed client had sent
        asked_before = len(server.requests)

        resumed = subprocess.run(
            [*CLI, "scan", "--resume", str(run_dir), "-q"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert resumed.returncode == 0, resumed.stderr
    stored = _stored(db_path)
    assert len(stored) == n
    assert len(set(stored)) == n
    asked_after = [r.prompt for r in server.requests[asked_before:]]
    committed = {f"prompt {pid.rsplit(':', 1)[1]}" for pid in before}
    assert len(committed) == len(before)
    # the resume asked exactly the probes that were not committed, each once
    assert sorted(asked_after) == sorted({f"prompt {i}" for i in range(n)} - committed)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--dataset", "x.csv"], "no target"),
        (["--resume", "no-such-run"], "nothing to resume"),
    ],
)
def test_missing_target_or_run_is_one_error_line(
    args: list[str], expected: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _cli(monkeypatch, capsys, "scan", *args)
    assert code != 0
    assert err.startswith("error: ")
    assert expected in err
    assert len(err.strip().splitlines()) == 1


def test_generation_and_client_flags_reach_the_request_and_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _csv(tmp_path, "prompt\nhello\n")
    server = OpenAIServer(echo)
    with server.running() as url:
        code, _, err = _cli(
            monkeypatch, capsys, "scan", "--target", "openai:m", "--base-url", url, "--dataset", str(data),
            "--run-dir", str(tmp_path / "run"), "--max-new-tokens", "7", "--temperature", "0.5",
            "--rpm", "6000", "--timeout", "5", "--max-retries", "1", "--seed", "3",
        )  # fmt: skip
    assert code == 0, err
    assert (server.requests[0].max_tokens, server.requests[0].temperature) == (7, 0.5)
    saved = (tmp_path / "run" / "config.yaml").read_text()
    for line in ("requests_per_minute: 6000.0", "timeout_s: 5.0", "max_retries: 1", "seed: 3"):
        assert line in saved


def test_full_disk_stops_with_one_error_line_and_resume_completes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A store capped with ``PRAGMA max_page_count`` raises SQLite's real "database or disk is
    full"; the scan stops with one line, keeps its commits, and a resume finishes the job."""
    n = 150
    data = _csv(tmp_path, "id,prompt\n" + "".join(f"{i},prompt {i} {'x' * 200}\n" for i in range(n)))
    run_dir = tmp_path / "run"
    server = OpenAIServer(echo)
    with server.running() as url:
        args = ["--target", "openai:m", "--base-url", url, "--dataset", str(data), "--concurrency", "4", "-q"]
        monkeypatch.setenv("SAFEFORGE_STORE_MAX_PAGES", "24")
        code, _, err = _cli(monkeypatch, capsys, "scan", *args, "--run-dir", str(run_dir), "--no-report")
        assert code != 0
        lines = err.strip().splitlines()
        assert len(lines) == 1, err
        assert lines[0].startswith("error: disk full")
        assert str(run_dir) in lines[0]
        assert f"--resume {run_dir}" in lines[0]
        before = set(_stored(run_dir / "run.sqlite"))
        assert 0 < len(before) < n
        asked_before = len(server.requests)

        monkeypatch.delenv("SAFEFORGE_STORE_MAX_PAGES")
        code, out, err = _cli(monkeypatch, capsys, "scan", "--resume", str(run_dir), "-q", "--no-report")
        assert code == 0, err
    stored = _stored(run_dir / "run.sqlite")
    assert len(stored) == n
    assert len(set(stored)) == n
    assert f"{n} attempts ({n} answered, 0 errors)" in out
    committed = {f"prompt {pid.rsplit(':', 1)[1]} {'x' * 200}" for pid in before}
    asked_after = [r.prompt for r in server.requests[asked_before:]]
    assert not committed & set(asked_after)  # nothing committed before the failure was asked again
    assert len(asked_after) == len(set(asked_after)) == n - len(before)


def test_repeated_base_url_spreads_the_scan_and_routes_around_a_failing_replica(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    n = 24
    data = _csv(tmp_path, "prompt\n" + "".join(f"prompt {i}\n" for i in range(n)))
    bad, good = OpenAIServer(lambda r: Fault.server_error()), OpenAIServer(echo)
    run_dir = tmp_path / "run"
    with bad.running() as url_bad, good.running() as url_good:
        code, out, err = _cli(
            monkeypatch, capsys, "scan", "--target", "openai:m", "--base-url", url_bad,
            "--base-url", url_good, "--dataset", str(data), "--run-dir", str(run_dir),
            "--max-retries", "1", "--concurrency", "4", "-q", "--no-report",
        )  # fmt: skip
    assert code == 0, err
    assert f"{n} attempts ({n} answered, 0 errors)" in out
    assert len(bad.requests) > 0
    assert sorted(r.prompt for r in good.requests) == sorted(f"prompt {i}" for i in range(n))
    assert f"base_url:\n- {url_bad}\n- {url_good}\n" in (run_dir / "config.yaml").read_text()


def test_the_console_script_leaves_complete_outputs_and_the_right_status(tmp_path: Path) -> None:
    """``console()`` skips interpreter teardown: everything a scan writes must be on disk and
    in the pipes by then, and an error still exits 2 with its one line."""
    console = [sys.executable, "-c", "from safeforge.cli import console; console()"]
    data = _csv(tmp_path, "prompt,expected\n" + "".join(f"question {i},comply\n" for i in range(40)))
    run_dir = tmp_path / "run"
    args = ["scan", "--target", "mock", "--dataset", str(data), "--run-dir", str(run_dir)]
    done = subprocess.run([*console, *args], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "40 attempts" in done.stdout  # the terminal table's last line reached the pipe
    for name in ("summary.json", "report.html", "summary.md", "config.yaml"):
        assert (run_dir / name).stat().st_size > 0
    with sqlite3.connect(run_dir / "run.sqlite") as db:
        assert db.execute("SELECT COUNT(*) FROM attempts").fetchone()[0] == 40
        judged = dict(db.execute("SELECT judge, COUNT(*) FROM verdicts GROUP BY judge").fetchall())
    assert judged == {"cascade": 40, "leak": 40, "abstention": 40}
    bad = subprocess.run(
        [*console, "scan", "--dataset", str(tmp_path / "nope.csv")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines()[-1].startswith("error: ")
