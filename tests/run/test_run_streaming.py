"""Streaming over the run store: paged reads, the schema migration, the report built while the
scan judges (online) against the one built from the store afterwards and the one built from a
list in memory, judges running while the target is still answering, and the fallbacks."""

from __future__ import annotations

import asyncio
import json
import random
import sqlite3
from collections.abc import Sequence
from pathlib import Path

import pytest

import safeforge.run.judging as judging
from safeforge.errors import SafeforgeError
from safeforge.judges._base import JUDGES
from safeforge.metrics import summarize
from safeforge.records import Attempt, Label, Task, Verdict
from safeforge.report import write_outputs, write_run_outputs
from safeforge.run import Run, ScanConfig, scan
from safeforge.run.store import SCHEMA, SCHEMA_VERSION, Store, store_path
from safeforge.testing import OpenAIServer, echo


def _suite_scan(run_dir: Path, **fields: object) -> Run:
    """Paired probes (harsh/polite, plain/base64): every part of the summary is exercised."""
    config = {"target": "mock:inverse", "suite": "quick", "transforms": ["base64", "polite"]}
    return scan(**{**config, **fields}, run_dir=run_dir, progress=False)  # type: ignore[arg-type]


def _files(run_dir: Path) -> dict[str, str]:
    return {name: (run_dir / name).read_text() for name in ("summary.json", "report.html", "summary.md")}


def test_online_report_equals_the_store_report_and_the_in_memory_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_store_pass(*args: object, **kwargs: object) -> None:
        raise AssertionError("the scan fell back to reading the whole store")

    with monkeypatch.context() as patch:
        patch.setattr("safeforge.report.write_run_outputs", no_store_pass)
        run = _suite_scan(tmp_path / "run")  # the report built while judging during the scan
    online = _files(run.dir)
    summary = json.loads(online["summary.json"])
    assert summary["metrics"]["politeness_gap"]["n"] > 0
    assert summary["metrics"]["obfuscation_drop[base64]"]["n"] > 0
    write_run_outputs(run)  # streamed from the store
    assert _files(run.dir) == online
    memory = tmp_path / "memory"
    write_outputs(memory, run.attempts())  # from a list in memory
    assert _files(memory) == online


def test_summary_does_not_depend_on_attempt_order(tmp_path: Path) -> None:
    attempts = _suite_scan(tmp_path / "run", report=False).attempts()
    shuffled = list(attempts)
    random.Random(7).shuffle(shuffled)
    assert summarize(shuffled) == summarize(attempts)


def test_paged_reads_match_the_whole_run_and_filter_by_judge(tmp_path: Path) -> None:
    run = _suite_scan(tmp_path / "run", report=False)
    with Store(store_path(run.dir)) as store:
        everything = store.attempts()
        assert list(store.iter_attempts(page=7)) == everything
        assert [a.probe.id for a in everything] == [a.probe.id for a in run.iter_attempts()]
        first = everything[0].probe.id
        store._db.execute("DELETE FROM verdicts WHERE probe_id = ? AND judge = 'leak'", (first,))
        lacking = [a.probe.id for a in store.iter_attempts(ok_only=True, lacking="leak", page=3)]
        assert lacking == [first]
        groups = list(store.iter_groups())
    assert groups
    assert all(len(g) > 1 for g in groups)
    keys = [(g[0].target, g[0].probe.group_id) for g in groups]
    assert keys == sorted(keys)
    assert all({(a.target, a.probe.group_id) for a in g} == {k} for g, k in zip(groups, keys, strict=True))


def test_a_version_1_store_is_migrated_and_a_newer_one_refused(tmp_path: Path) -> None:
    run = _suite_scan(tmp_path / "run", report=False)
    rows = list(
        sqlite3.connect(store_path(run.dir)).execute("SELECT probe_id, seq, ok, attempt FROM attempts")
    )
    old = tmp_path / "old.sqlite"  # what safeforge wrote before the schema was versioned
    with sqlite3.connect(old) as db:
        db.executescript(SCHEMA)
        db.executemany("INSERT INTO attempts VALUES (?, ?, ?, ?, 0)", rows)
    with Store(old) as store:
        assert store._db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 3
        assert store.nodes() == []  # version 3: the conversations of attacker-driven attacks
        migrated = {pid: (t, g, e) for pid, t, g, e in store._db.execute(
            "SELECT probe_id, target, group_id, expected FROM attempts")}  # fmt: skip
        assert len(list(store.iter_groups())) == len(list(Run.open(run.dir).iter_groups()))
    for a in run.attempts():
        assert migrated[a.probe.id] == (a.target, a.probe.group_id, a.probe.expected.value)
    with sqlite3.connect(old) as db:
        db.execute("PRAGMA user_version = 99")
    with pytest.raises(SafeforgeError, match="newer safeforge"):
        Store(old)


class StampJudge:
    """Test judge: records how many requests the server had seen when it was called."""

    name = "test_stamp"
    task = Task.LEAK
    server: OpenAIServer | None = None
    stamps: list[int] = []  # noqa: RUF012

    async def judge_async(self, attempts: Sequence[Attempt]) -> list[Verdict]:
        assert StampJudge.server is not None
        StampJudge.stamps.append(StampJudge.server.request_count)
        return [Verdict(judge=self.name, task=self.task, label=Label.NOT_LEAKED) for _ in attempts]


class BrokenJudge:
    name = "test_broken"
    task = Task.LEAK

    async def judge_async(self, attempts: Sequence[Attempt]) -> list[Verdict]:
        raise SafeforgeError("the judge's endpoint went away")


def test_stamp() -> StampJudge:
    return StampJudge()


def test_broken() -> BrokenJudge:
    return BrokenJudge()


for _factory in (test_stamp, test_broken):
    _factory.__test__ = False  # type: ignore[attr-defined]
    if _factory.__name__ not in JUDGES:
        JUDGES.register(_factory)


def _dataset(tmp_path: Path, n: int) -> Path:
    path = tmp_path / "d.csv"
    path.write_text("prompt\n" + "".join(f"question {i}\n" for i in range(n)), encoding="utf-8")
    return path


def _http_config(tmp_path: Path, url: str, n: int, judges: list[str]) -> ScanConfig:
    return ScanConfig(
        target="openai:m",
        base_url=url,
        datasets=[str(_dataset(tmp_path, n))],
        judges=judges,
        concurrency=8,
        run_dir=tmp_path / "run",
    )


def test_judges_run_while_the_target_is_still_answering(tmp_path: Path) -> None:
    n = 240
    server = OpenAIServer(echo, latency_s=0.02)
    StampJudge.server, StampJudge.stamps = server, []
    with server.running() as url:
        run = scan(_http_config(tmp_path, url, n, ["test_stamp", "rules"]), progress=False)
    assert StampJudge.stamps
    assert StampJudge.stamps[0] < n / 2  # judging began early in the scan
    assert sum(s < n for s in StampJudge.stamps) >= 2
    assert run.verdict_counts() == {(Task.LEAK, "test_stamp"): n, (Task.REFUSAL, "rules"): n}
    assert json.loads((run.dir / "summary.json").read_text())["n_attempts"] == n


def test_a_failing_judge_stops_the_scan_and_keeps_what_was_answered(tmp_path: Path) -> None:
    n = 400
    server = OpenAIServer(echo, latency_s=0.02)
    with server.running() as url:
        cfg = _http_config(tmp_path, url, n, ["test_broken"])
        with pytest.raises(SafeforgeError, match="endpoint went away"):
            scan(cfg, progress=False)
        asked = server.request_count
    assert asked < n  # it stopped instead of generating everything first
    with Store(store_path(cfg.run_dir)) as store:
        assert store.count()[0] > 0


def test_judges_falling_behind_leave_the_rest_to_the_store_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(judging, "ONLINE_QUEUE", 5)  # the online queue overflows at once
    run = _suite_scan(tmp_path / "run")
    with Store(store_path(run.dir)) as store:
        assert not list(store.iter_attempts(ok_only=True, lacking="cascade"))  # all judged anyway
    online = _files(run.dir)
    write_run_outputs(run)
    assert _files(run.dir) == online


def test_judge_run_async_fills_only_what_is_missing(tmp_path: Path) -> None:
    run = _suite_scan(tmp_path / "run", report=False)
    n_ok = run.counts()[1]
    assert asyncio.run(judging.judge_run_async(run, ["rules"])) == n_ok
    assert asyncio.run(judging.judge_run_async(run, ["rules", "cascade"])) == 0
