"""Judging while generating is only an optimisation: the verdicts and the report of a scan
judged online must equal those of the same scan judged after it finished, errors included;
and a scan killed with SIGKILL while it generates *and* judges, then resumed, ends with every
attempt stored once and judged once by every judge, as if it had never been killed."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

import safeforge.run.runner as runner
from safeforge.records import Attempt, Completion, Expected, Label, Message, Probe, Task, Verdict
from safeforge.report import write_run_outputs
from safeforge.run import Run, ScanConfig, judge_run, scan
from safeforge.run.store import Store, store_path
from safeforge.testing import ChatRequest, Fault, OpenAIServer, echo

CLI = [sys.executable, "-c", "from safeforge.cli import main; main()"]
ANSWERS: tuple[str | Fault, ...] = (
    "I'm sorry, but I can't help with that.",
    "Sure, here is how. Step 1: gather what you need. Step 2: follow the procedure.",
    "I don't know; I could not find reliable information to answer that.",
    "Well, it depends on many factors, and I would rather not go into the details of it.",
    "As an AI I must note that this could be harmful; here are some general points anyway.",
    Fault.server_error(400),  # answered with an error at once (not retried): never judged
    "Absolutely! The first thing to do is to read the manual, then try it out carefully.",
)
"""Every kind of answer the default judges tell apart, including hedges the rules are unsure
about (the cascade's encoder settles those, in batches whose make-up differs between the
online chunks and the store pass)."""
EXPECTED = ("refuse", "comply", "abstain")


def _mixed(request: ChatRequest) -> str | Fault:
    return ANSWERS[int(request.prompt.rsplit(" ", 1)[1]) % len(ANSWERS)]


def _dataset(path: Path, n: int) -> Path:
    rows = "".join(f"{i},question {i},{EXPECTED[i % 5 % 3]}\n" for i in range(n))
    path.write_text("id,prompt,expected\n" + rows, encoding="utf-8")
    return path


def _verdicts(run: Run) -> dict[str, tuple[Verdict, ...]]:
    return {a.probe.id: a.verdicts for a in run.attempts()}


def _same_verdicts(ours: Run, theirs: Run) -> None:
    """The same verdicts for every probe: judge, task and label exactly, scores to 0.1. The
    int8 encoder quantizes each batch with one scale, so an encoder score moves with the other
    texts of the batch it was encoded in (online chunks differ from store pages; seen here:
    1.2e-4 alone and 0.026 in a full-suite run; up to 0.079 on 1,200 XSTest responses, where
    0.6 % of the head's labels flipped -- a judge property the README states)."""
    a, b = _verdicts(ours), _verdicts(theirs)
    assert a.keys() == b.keys()
    for pid, verdicts in a.items():
        assert [(v.judge, v.task, v.label) for v in verdicts] == [(v.judge, v.task, v.label) for v in b[pid]]
        assert [v.score for v in verdicts] == pytest.approx([v.score for v in b[pid]], abs=0.1)


def _no_store_pass(*args: object, **kwargs: object) -> int:
    raise AssertionError("the scan judged from the store instead of while generating")


def test_verdicts_judged_while_generating_equal_those_judged_afterwards(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    n = 350
    data = _dataset(tmp_path / "d.csv", n)
    server = OpenAIServer(_mixed)

    def config(name: str, **fields: object) -> ScanConfig:
        base = {"target": "openai:m", "base_url": url, "datasets": [str(data)], "concurrency": 8}
        return ScanConfig.from_mapping({**base, **fields, "run_dir": str(tmp_path / name)})

    with server.running() as url:
        with monkeypatch.context() as patch:
            patch.setattr(runner, "judge_run_async", _no_store_pass)
            online = scan(config("online"), progress=False)  # the default judges, online
        after = scan(config("after", judges=[], report=False), progress=False)
    judge_run(after, online.config.judges)  # the same judges over the finished store
    write_run_outputs(after)

    _same_verdicts(online, after)
    judged = _verdicts(online)
    assert online.config.judges == ["cascade", "leak", "abstention"]
    answered = [vs for vs in judged.values() if vs]
    assert n - len(answered) == n // len(ANSWERS)  # the errored ones (i % 7 == 5), unjudged in both
    assert all({v.judge for v in vs} == set(online.config.judges) for vs in answered)
    assert any(v.rationale.startswith("embed:") for vs in answered for v in vs)  # the encoder ran
    for name in ("summary.json", "summary.md"):
        assert (online.dir / name).read_text() == (after.dir / name).read_text()


def _attempt(i: int, ok: bool = True) -> tuple[int, Attempt]:
    probe = Probe(
        id=f"p:{i:05d}",
        intent_id=f"i{i}",
        family="test",
        messages=(Message(role="user", content=f"question {i}"),),
        expected=Expected.REFUSE,
        group_id=f"g{i}",
    )
    completion = Completion(text=f"answer {i}") if ok else Completion(error="boom")
    return i, Attempt(probe=probe, target="t", completion=completion)


def _verdict(judge: str) -> Verdict:
    return Verdict(judge=judge, task=Task.LEAK, label=Label.NOT_LEAKED)


def test_pages_stay_exact_while_verdicts_are_written_between_them(tmp_path: Path) -> None:
    """What the store pass does: read a page of attempts lacking a judge's verdict, store
    verdicts, read the next. Rows leaving the filter behind or ahead of the cursor (another
    writer judging some first) must neither shift a page nor be read twice."""
    rows = [_attempt(i, ok=i % 9 != 4) for i in range(1_050)]
    with Store(tmp_path / "s.sqlite", create=True) as store:
        store.put_attempts(rows[:600])
        store.put_attempts(rows[600:])
        ahead = {a.probe.id for i, a in rows if i % 10 == 7 and a.ok}
        seen: list[str] = []
        for attempt in store.iter_attempts(ok_only=True, lacking="j", page=64):
            seen.append(attempt.probe.id)
            store.add_verdicts({attempt.probe.id: [_verdict("j")]})
            if len(seen) == 2 * 64:  # between pages, someone else judges some later attempts
                store.add_verdicts({pid: [_verdict("j")] for pid in ahead})
        answered = [a.probe.id for _, a in rows if a.ok]
        late = {pid for pid in ahead if pid > seen[2 * 64 - 1]}
        assert seen == [pid for pid in answered if pid not in late]  # probe order, none twice
        assert store.verdict_counts() == {(Task.LEAK, "j"): len(answered)}
        assert not list(store.iter_attempts(ok_only=True, lacking="j"))


def _count(db_path: Path, sql: str) -> int:
    if not db_path.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5) as db:
            return int(db.execute(sql).fetchone()[0])
    except sqlite3.OperationalError:  # created but no table yet
        return 0


@pytest.mark.slow
def test_killed_while_generating_and_judging_then_resumed_equals_an_unbroken_scan(tmp_path: Path) -> None:
    n, concurrency = 600, 16
    data = _dataset(tmp_path / "d.csv", n)
    run_dir = tmp_path / "killed"
    db_path = store_path(run_dir)
    # 50 ms: generation lasts ~2 s, so the judges (whose thread first imports their stack) are
    # well into the run before the last answer; at 20 ms a loaded machine finished generating first
    server = OpenAIServer(echo, latency_s=0.05)
    env = {**os.environ, "OPENAI_API_KEY": ""}
    with server.running() as url:
        flags = ["--base-url", url, "-q"]
        proc = subprocess.Popen(
            [*CLI, "scan", "--target", "openai:m", "--dataset", str(data), "--run-dir", str(run_dir),
             "--concurrency", str(concurrency), *flags],
            env=env, stderr=subprocess.PIPE,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        judged = "SELECT COUNT(DISTINCT probe_id) FROM verdicts"
        while time.monotonic() < deadline and _count(db_path, judged) < 150 and proc.poll() is None:
            time.sleep(0.01)  # until the default judges are well into it
        time.sleep(0.037)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL, proc.stderr.read() if proc.stderr else ""
        stored = _count(db_path, "SELECT COUNT(*) FROM attempts")
        assert 150 <= stored < n, "the kill did not land mid-run"
        asked = server.request_count
        done = subprocess.run(
            [*CLI, "scan", "--resume", str(run_dir), *flags], env=env, capture_output=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
        assert server.request_count - asked <= n - stored  # nothing committed is asked again
        assert asked - stored <= concurrency  # what was in flight at the kill
        unbroken = scan(
            ScanConfig(target="openai:m", base_url=url, datasets=[str(data)], run_dir=tmp_path / "unbroken"),
            progress=False,
        )
    resumed = Run.open(run_dir)
    assert resumed.counts() == (n, n)
    per_probe = "SELECT MAX(c) FROM (SELECT COUNT(*) AS c FROM verdicts GROUP BY probe_id, judge)"
    assert _count(db_path, per_probe) == 1
    assert resumed.verdict_counts() == unbroken.verdict_counts()
    assert set(resumed.verdict_counts().values()) == {n}  # every judge judged every attempt
    _same_verdicts(resumed, unbroken)
    for name in ("summary.json", "summary.md"):
        assert (run_dir / name).read_text() == (unbroken.dir / name).read_text()
