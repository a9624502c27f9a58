"""``kill -9`` in the middle of an attack (PAIR, TAP and Crescendo at once), twice, then resumed:
no attacker reply and no target answer that was stored is asked for again, every goal finishes,
and the report gives each method's ASR with its interval."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from conftest import Loopback

CLI = [sys.executable, "-c", "from safeforge.cli import main; main()"]


def _nodes(db_path: Path) -> dict[str, dict[str, object]]:
    """Stored nodes, read-only (the attack may be writing)."""
    if not db_path.exists():
        return {}
    try:
        with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5) as db:
            return {i: json.loads(raw) for i, raw in db.execute("SELECT node_id, node FROM conversations")}
    except sqlite3.OperationalError:  # created but no table yet
        return {}


def _kill_after(proc: subprocess.Popen[bytes], db_path: Path, at_least: int, delay: float) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and len(_nodes(db_path)) < at_least and proc.poll() is None:
        time.sleep(0.01)
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read() if proc.stderr else ""


def test_sigkill_mid_attack_then_resume_repeats_nothing_stored(loopback: Loopback, tmp_path: Path) -> None:
    loopback.server.latency_s = 0.04  # slow enough for the kills to land mid-run
    run_dir = tmp_path / "attack"
    db_path = run_dir / "run.sqlite"
    env = {**os.environ, "OPENAI_API_KEY": ""}
    urls = ["--base-url", loopback.url, "--attacker-base-url", loopback.url]
    first = [
        *CLI, "attack", "--target", "openai:target", "--attacker", "openai:attacker",
        "--method", "pair", "--method", "tap", "--method", "crescendo",
        "--judge", "rules", "--judge", loopback.judge("harm"),
        "--prune-judge", loopback.judge("request_harm"),
        "--limit", "4", "--max-turns", "15", "--backtracks", "2", "--run-dir", str(run_dir), "-q", *urls,
    ]  # fmt: skip
    resume = [*CLI, "attack", "--resume", str(run_dir), "-q", *urls]
    command = first
    stored: dict[str, dict[str, object]] = {}
    kills: list[tuple[dict[str, dict[str, object]], int, int]] = []  # stored, requests so far
    for at_least, delay in ((12, 0.05), (40, 0.11)):
        proc = subprocess.Popen(command, env=env, stderr=subprocess.PIPE)
        _kill_after(proc, db_path, at_least, delay)
        time.sleep(0.3)  # let the server read what the killed client had already sent
        now = _nodes(db_path)
        assert all(now[i] == n for i, n in stored.items() if n["status"] != "proposed")  # kept as stored
        stored = now
        assert len(stored) >= at_least
        kills.append((stored, len(loopback.requests("attacker")), len(loopback.requests("target"))))
        command = resume
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    final = _nodes(db_path)
    assert len(final) > len(stored), "the second kill did not land mid-run"
    for node_id, node in stored.items():
        if node["status"] != "proposed":
            assert final[node_id] == node
        else:  # its answer was in flight: answered now, from the reply already stored
            assert final[node_id]["attacker_output"] == node["attacker_output"]
            assert final[node_id]["status"] in ("answered", "pruned")
    # nothing stored at a kill was asked again after it: attacker requests are unique to their
    # node (the reply that was stored names its request), target prompts carry a unique #n; a
    # request in flight at the kill (its reply never stored) is asked again, and may be
    for at_kill, attacker_mark, target_mark in kills:
        later_asked = {
            json.dumps(r.messages, sort_keys=True) for r in loopback.requests("attacker")[attacker_mark:]
        }
        later_sent = {r.prompt for r in loopback.requests("target")[target_mark:]}
        for node in at_kill.values():
            assert loopback.script.replies[str(node["attacker_output"])] not in later_asked, node["id"]
            if node["status"] == "answered":
                assert node["prompt"] not in later_sent, node["id"]
    sent = Counter(r.prompt for r in loopback.requests("target"))
    assert all(sent[str(n["prompt"])] <= 1 + len(kills) for n in final.values() if n["status"] == "answered")
    assert all(node["status"] != "proposed" for node in final.values())
    report = json.loads((run_dir / "attacks.json").read_text(encoding="utf-8"))
    assert [m["method"] for m in report["methods"]] == ["pair", "tap", "crescendo"]
    for method in report["methods"]:
        assert method["finished"] == method["goals"] == 4
        assert method["asr"]["n"] == 4
        assert method["asr"]["ci_low"] is not None
        assert method["asr"]["ci_low"] <= method["asr"]["value"] <= method["asr"]["ci_high"]
    with sqlite3.connect(db_path) as db:
        attempts = [row[0] for row in db.execute("SELECT probe_id FROM attempts")]
    answered = [i for i, n in final.items() if n["status"] == "answered"]
    assert sorted(attempts) == sorted(answered)  # one attempt per answered node, none twice
