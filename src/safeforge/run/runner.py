"""The scan runner: probes -> target -> store (resumable) -> judges.

Async end to end: a fixed pool of ``concurrency`` workers pulls batches of probes and awaits
the target, whose own limiter bounds concurrency too. A worker's answers are committed before
it takes the next batch (see ``writer.py``), so a killed scan re-sends at most what was in
flight.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import errno
import sqlite3
import sys
from collections.abc import Coroutine, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from safeforge.errors import SafeforgeError
from safeforge.probes import resolve_probes
from safeforge.records import Attempt, Probe
from safeforge.run.config import ScanConfig
from safeforge.run.lock import RunLock
from safeforge.run.progress import LineProgress
from safeforge.run.result import Run
from safeforge.run.store import Store, store_path
from safeforge.run.writer import AttemptWriter, write_config_yaml
from safeforge.targets import Target, create_target

if TYPE_CHECKING:
    from safeforge.judges._base import Judge

T = TypeVar("T")
JUDGE_CHUNK = 256


def scan(config: ScanConfig | None = None, /, *, progress: bool | None = None, **fields: Any) -> Run:
    """Run a scan and return its :class:`Run`: ``scan(ScanConfig(...))`` or
    ``scan(target="mock", datasets=["x.csv"])``. ``progress=None`` shows a bar on a TTY."""
    cfg = config if config is not None else ScanConfig.from_mapping(fields)
    return _run_sync(scan_async(cfg, progress=progress))


def _run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run``, or — inside a running loop (Jupyter) — the same on a helper thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


async def scan_async(config: ScanConfig, *, progress: bool | None = None) -> Run:
    """Generate every probe's attempt not already answered in ``config.run_dir``, then judge."""
    config.check_judges()  # a judge that cannot run fails before anything is generated
    probes = resolve_probes(
        datasets=config.datasets,
        suite=config.suite,
        families=config.families,
        transforms=config.transforms,
        limit=config.limit,
        seed=config.seed,
    )
    meta = {"config": config.redacted(), "fingerprint": config.fingerprint(probes), "n_probes": len(probes)}
    with RunLock(config.run_dir), _stop_on_full_disk(config.run_dir):  # one scan per run dir
        done = _check_resume(config, probes, meta)
        todo = [(seq, p) for seq, p in enumerate(probes) if p.id not in done]
        if todo:
            target = create_target(config.target, config.target_options())
            try:
                writer = AttemptWriter(config.run_dir, meta)
                await _generate_async(
                    target, todo, writer, _progress(progress), len(probes), config.concurrency
                )
            finally:
                await target.aclose()
        run = Run(config.run_dir, config)
        if store_path(run.dir).is_file():
            await judge_run_async(run, config.judges)
            if config.report:
                from safeforge.report import write_run_outputs

                write_run_outputs(run)
    return run


@contextlib.contextmanager
def _stop_on_full_disk(run_dir: Path) -> Iterator[None]:
    """Turn a full disk (SQLite's "database or disk is full", or ``ENOSPC`` writing a file)
    into one clear error. Each batch of attempts is its own transaction, so everything
    committed before the failure is intact and ``--resume`` carries on from there."""
    try:
        yield
    except (sqlite3.OperationalError, OSError) as exc:
        full = "full" in str(exc) if isinstance(exc, sqlite3.OperationalError) else exc.errno == errno.ENOSPC
        if not full:
            raise
        raise SafeforgeError(
            f"disk full: cannot write to {run_dir}; attempts committed so far are kept, so free some "
            f"space and re-run with --resume {run_dir} to continue with nothing lost"
        ) from None


def _check_resume(config: ScanConfig, probes: Sequence[Probe], meta: dict[str, Any]) -> set[str]:
    """Probe ids already answered in the run dir (empty for a new run); refuses a run made
    with a different config unless ``force`` (which adopts the new config and drops attempts
    of probes it no longer has)."""
    path = store_path(config.run_dir)
    if not path.is_file():
        if config.resume:
            raise SafeforgeError(f"nothing to resume: no run store in {config.run_dir}")
        return set()
    with Store(path) as store:
        stored = store.meta()
        if stored.get("fingerprint") not in (None, meta["fingerprint"]):
            if not config.force:
                diff = "; ".join(config.fingerprint_diff(stored.get("config", {}))) or "probe set changed"
                raise SafeforgeError(
                    f"{config.run_dir} holds a run with a different config ({diff}); "
                    "use --force to resume it anyway or pick another --run-dir"
                )
            store.keep_only({p.id: seq for seq, p in enumerate(probes)})
            store.set_meta(meta)
            write_config_yaml(config.run_dir, meta)
        return store.done_ids()


async def _generate_async(
    target: Target,
    todo: list[tuple[int, Probe]],
    writer: AttemptWriter,
    progress: Progress | None,
    total: int,
    concurrency: int,
) -> None:
    batches = iter(_chunks(todo, max(1, target.batch_size)))

    async def worker_async() -> None:
        for batch in batches:  # one shared iterator: each batch goes to exactly one worker
            completions = await target.generate_async([p for _, p in batch])
            if len(completions) != len(batch):
                raise RuntimeError(f"{target.id} returned {len(completions)} completions for {len(batch)}")
            await writer.put_async(  # committed before this worker sends anything else
                [
                    (seq, Attempt(probe=p, target=target.id, completion=c))
                    for (seq, p), c in zip(batch, completions, strict=True)
                ]
            )

    n_workers = min(concurrency, -(-len(todo) // max(1, target.batch_size)))
    with progress if progress is not None else contextlib.nullcontext():
        if progress is not None:
            task = progress.add_task(f"scan {target.id}", total=total, completed=total - len(todo))
            writer.on_commit.append(lambda rows: progress.advance(task, len(rows)))
        workers = [asyncio.create_task(worker_async()) for _ in range(n_workers)]
        try:
            await asyncio.gather(*workers)
        finally:
            for t in workers:
                t.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
            writer.close()


def _chunks(items: list[tuple[int, Probe]], size: int) -> Iterator[list[tuple[int, Probe]]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


class _RateColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.1f}/s" if speed else "-/s", style="progress.data.speed")


def _progress(enabled: bool | None) -> Progress | None:
    """A rich progress bar on stderr when it is a terminal (or when asked), else a progress line
    every few seconds; nothing when ``enabled`` is False."""
    if enabled is False:
        return None
    if enabled is None and not sys.stderr.isatty():
        return LineProgress()
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        _RateColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
    )


def judge_run(run: Run, judges: Sequence[str | Judge]) -> None:
    """Store each judge's verdicts for the answered attempts that lack one from it."""
    _run_sync(judge_run_async(run, judges))


async def judge_run_async(run: Run, judges: Sequence[str | Judge]) -> None:
    """Async :func:`judge_run`. Verdicts are committed per chunk, so a killed judging step
    resumes where it stopped. Errored attempts are not judged (metrics count them apart)."""
    if not judges:
        return
    from safeforge.judges import create_judge  # judges pull in heavy optional stacks: load on use

    with Store(run.store_path) as store:  # one connection: each open/close of a WAL db checkpoints
        attempts = [a for a in store.attempts() if a.ok]
        for spec in judges:
            judge = create_judge(spec) if isinstance(spec, str) else spec
            todo = [a for a in attempts if all(v.judge != judge.name for v in a.verdicts)]
            for i in range(0, len(todo), JUDGE_CHUNK):
                part = todo[i : i + JUDGE_CHUNK]
                verdicts = await judge.judge_async(part)
                if len(verdicts) != len(part):
                    raise RuntimeError(f"{judge.name} returned {len(verdicts)} verdicts for {len(part)}")
                store.add_verdicts({a.probe.id: [v] for a, v in zip(part, verdicts, strict=True)})
