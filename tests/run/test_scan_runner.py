"""The scan runner end to end: loopback server with injected faults, resume semantics, the
config fingerprint, judging, and no store left behind by a failed start."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Sequence
from pathlib import Path

import pytest

import safeforge.targets.openai as openai_target
from safeforge.errors import SafeforgeError
from safeforge.judges._base import JUDGES
from safeforge.probes import resolve_probes
from safeforge.records import Attempt, Label, Task, Verdict
from safeforge.run import Run, ScanConfig, judge_run, scan
from safeforge.testing import ChatRequest, Fault, OpenAIServer, echo, serve


class KeywordJudge:
    """Test judge: refusal iff the response says sorry. Counts how many attempts it saw."""

    name = "test_keyword"
    task = Task.REFUSAL
    seen = 0

    async def judge_async(self, attempts: Sequence[Attempt]) -> list[Verdict]:
        KeywordJudge.seen += len(attempts)
        return [
            Verdict(
                judge=self.name,
                task=self.task,
                label=Label.FULL_REFUSAL if "sorry" in (a.response or "").lower() else Label.FULL_COMPLIANCE,
                score=1.0,
            )
            for a in attempts
        ]


def test_keyword() -> KeywordJudge:
    return KeywordJudge()


test_keyword.__test__ = False  # type: ignore[attr-defined]
if "test_keyword" not in JUDGES:
    JUDGES.register(test_keyword)


@pytest.fixture(autouse=True)
def _fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(openai_target, "BACKOFF_BASE_S", 0.01)


def _dataset(tmp_path: Path, n: int) -> Path:
    path = tmp_path / "probes.csv"
    path.write_text("prompt,expected\n" + "".join(f"question number {i},refuse\n" for i in range(n)))
    return path


def _config(tmp_path: Path, url: str, n: int = 30, **kw: object) -> ScanConfig:
    fields = {
        "target": "openai:mock-model",
        "base_url": url,
        "datasets": [str(_dataset(tmp_path, n))],
        "run_dir": tmp_path / "run",
        "concurrency": 8,
        "timeout_s": 0.3,
        "max_retries": 2,
        **kw,
    }
    return ScanConfig.from_mapping(fields)


def _rows(run_dir: Path) -> list[tuple[str, int]]:
    with sqlite3.connect(run_dir / "run.sqlite") as db:
        return list(db.execute("SELECT probe_id, ok FROM attempts"))


def test_every_probe_answered_or_errored_with_retry_count(tmp_path: Path) -> None:
    def responder(req: ChatRequest) -> str | Fault:
        n = int(req.prompt.rsplit(" ", 1)[1])
        if n % 5 == 0 and req.seen == 0:
            return Fault.rate_limited(retry_after=0.05)  # recovers after one retry
        if n % 5 == 1 and req.seen < 2:
            return Fault.server_error()  # recovers after two retries
        if n % 5 == 2:
            return Fault.slow(1.0)  # always past the 0.3 s timeout
        if n % 5 == 3:
            return Fault.server_error(502)  # never recovers
        return echo(req)

    with serve(responder) as url:
        run = scan(_config(tmp_path, url), progress=False)
    attempts = run.attempts()
    assert len(attempts) == 30
    assert [a.probe.prompt for a in attempts] == [f"question number {i}" for i in range(30)]
    by_kind: dict[int, list[Attempt]] = {}
    for i, a in enumerate(attempts):
        by_kind.setdefault(i % 5, []).append(a)
    assert all(a.ok and a.completion.retries == 1 for a in by_kind[0])
    assert all(a.ok and a.completion.retries == 2 for a in by_kind[1])
    assert all(not a.ok and "timed out" in (a.completion.error or "") for a in by_kind[2])
    assert all(not a.ok and "HTTP 502" in (a.completion.error or "") for a in by_kind[3])
    assert all(a.completion.retries == 2 for a in by_kind[2] + by_kind[3])
    assert all(a.response == f"echo: {a.probe.prompt}" for a in by_kind[4])


def test_rerun_retries_only_errors_and_never_repeats_answers(tmp_path: Path) -> None:
    broken = {"on": True}

    def responder(req: ChatRequest) -> str | Fault:
        if broken["on"] and req.prompt.endswith("7"):
            return Fault.server_error()
        return echo(req)

    server = OpenAIServer(responder)
    with server.running() as url:
        cfg = _config(tmp_path, url, n=20)
        scan(cfg, progress=False)
        assert sum(ok for _, ok in _rows(cfg.run_dir)) == 18
        first = server.request_count
        broken["on"] = False
        run = scan(cfg, progress=False)
    assert server.request_count - first == 2  # only the two errored probes were asked again
    rows = _rows(cfg.run_dir)
    assert len(rows) == 20
    assert len({pid for pid, _ in rows}) == 20
    assert all(ok for _, ok in rows)
    assert run.counts() == (20, 20)


def test_resume_refuses_a_different_config_unless_forced(tmp_path: Path) -> None:
    with serve(echo) as url:
        cfg = _config(tmp_path, url, n=6)
        scan(cfg, progress=False)
        changed = cfg.model_copy(update={"target": "openai:other-model"})
        with pytest.raises(SafeforgeError, match=r"different config.*target") as info:
            scan(changed, progress=False)
        assert "--force" in str(info.value)
        limited = cfg.model_copy(update={"limit": 3, "force": True})
        run = scan(limited, progress=False)
    assert run.counts() == (3, 3)  # forced: probes outside the new set are dropped
    expected_order = resolve_probes(datasets=cfg.datasets, limit=3, seed=cfg.seed)
    assert [a.probe.id for a in run.attempts()] == [p.id for p in expected_order]
    assert Run.open(cfg.run_dir).config.limit == 3


def test_resume_flag_needs_an_existing_run(tmp_path: Path) -> None:
    with pytest.raises(SafeforgeError, match="nothing to resume"):
        scan(
            ScanConfig(
                target="mock", datasets=[str(_dataset(tmp_path, 2))], run_dir=tmp_path / "x", resume=True
            )
        )


def test_wrong_key_or_dead_endpoint_leaves_no_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SF_KEY", "sk-bad")
    with serve(api_key="sk-good") as url:
        cfg = _config(tmp_path, url, api_key_env="SF_KEY")
        with pytest.raises(SafeforgeError, match="401"):
            scan(cfg, progress=False)
    assert not cfg.run_dir.exists()
    with pytest.raises(SafeforgeError, match="cannot reach"):
        scan(cfg.model_copy(update={"base_url": url}), progress=False)  # server is gone now
    assert not cfg.run_dir.exists()


def test_scan_judges_and_judge_run_only_fills_missing(tmp_path: Path) -> None:
    KeywordJudge.seen = 0
    run = scan(
        target="mock:expected",
        datasets=[str(_dataset(tmp_path, 5))],
        run_dir=tmp_path / "run",
        judges=["test_keyword"],
        progress=False,
    )
    assert KeywordJudge.seen == 5
    assert all(a.verdict(Task.REFUSAL, "test_keyword").label == Label.FULL_REFUSAL for a in run.attempts())  # type: ignore[union-attr]
    judge_run(run, ["test_keyword"])
    assert KeywordJudge.seen == 5  # nothing left to judge
    judge_run(Run.open(run.dir), [KeywordJudge()])
    assert KeywordJudge.seen == 5
    with pytest.raises(SafeforgeError, match="unknown judge"):
        judge_run(run, ["no_such_judge"])


def test_run_open_errors(tmp_path: Path) -> None:
    with pytest.raises(SafeforgeError, match="no safeforge run"):
        Run.open(tmp_path)


def test_scan_works_inside_a_running_loop_with_a_progress_bar(tmp_path: Path) -> None:
    async def notebook_cell() -> Run:
        return scan(
            target="mock:echo", datasets=[str(_dataset(tmp_path, 40))], run_dir=tmp_path / "r", progress=True
        )

    run = asyncio.run(notebook_cell())
    assert run.counts() == (40, 40)


def test_endpoint_dying_mid_run_stops_the_scan_and_keeps_answers(tmp_path: Path) -> None:
    def responder(req: ChatRequest) -> str | Fault:
        return echo(req) if int(req.prompt.rsplit(" ", 1)[1]) < 5 else Fault.server_error()

    with serve(responder) as url:
        cfg = _config(tmp_path, url, n=200, concurrency=1, max_retries=0)
        with pytest.raises(SafeforgeError, match="last 50 probes all failed"):
            scan(cfg, progress=False)
    rows = _rows(cfg.run_dir)
    assert sum(ok for _, ok in rows) == 5
    assert len(rows) == 5 + 49  # the 50th failure stopped the run instead of being stored


def test_enospc_writing_the_run_files_is_one_disk_full_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno
    import os

    def no_space(self: Path, *args: object, **kwargs: object) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self))

    with serve(echo) as url:
        cfg = _config(tmp_path, url, n=3)
        monkeypatch.setattr(Path, "write_text", no_space)  # config.yaml is the first file written
        with pytest.raises(SafeforgeError, match=r"disk full.*--resume"):
            scan(cfg, progress=False)


def test_the_wal_is_checkpointed_while_generating_and_gone_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The writer's checkpoint thread copies the WAL into the database while the scan runs (so
    the closing connection has little left to sync) and nothing but the store is left after."""
    import safeforge.run.store as store_module

    monkeypatch.setattr(store_module, "CHECKPOINT_EVERY", 0.02)
    seen: list[int] = []

    def responder(req: ChatRequest) -> str:
        db_file = tmp_path / "run" / "run.sqlite"
        if db_file.is_file():  # the database file itself, not the WAL beside it
            seen.append(db_file.stat().st_size)
        return echo(req)

    with serve(responder, latency_s=0.01) as url:
        run = scan(_config(tmp_path, url, n=300, concurrency=4), progress=False)
    assert run.counts() == (300, 300)
    assert len(set(seen)) > 2, "the database file did not grow while the scan was writing"
    assert sorted(p.name for p in run.dir.iterdir() if p.name.startswith("run.sqlite")) == ["run.sqlite"]
