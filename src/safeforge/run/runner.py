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
import gc
import itertools
import sqlite3
import sys
from collections.abc import Coroutine, Generator, Iterator
from pathlib import Path
from typing import Any, TypeVar

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
from safeforge.probes import ProbePlan
from safeforge.records import Attempt, Probe
from safeforge.run.config import ScanConfig
from safeforge.run.judging import OnlineJudging, judge_run_async
from safeforge.run.lock import RunLock
from safeforge.run.progress import LineProgress
from safeforge.run.result import Run
from safeforge.run.store import Store, store_path
from safeforge.run.writer import AttemptWriter, write_config_yaml
from safeforge.targets import Target, create_target

T = TypeVar("T")
Todo = Generator[tuple[int, Probe], None, None]
"""``(seq, probe)`` pairs still to answer, read from the plan as the workers ask."""
LOOKUP = 512
"""Planned probes per lookup of which are already answered (resumed runs)."""
JUDGING_GRACE = 30.0
"""Seconds a failed scan waits for the judging thread to finish the chunk it is judging."""


def scan(config: ScanConfig | None = None, /, *, progress: bool | None = None, **fields: Any) -> Run:
    """Run a scan and return its :class:`Run`: ``scan(ScanConfig(...))`` or
    ``scan(target="mock", datasets=["x.csv"])``. ``progress=None`` shows a bar on a TTY."""
    cfg = config if config is not None else ScanConfig.from_mapping(fields)
    return run_sync(scan_async(cfg, progress=progress))


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run``, or — inside a running loop (Jupyter) — the same on a helper thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


async def scan_async(config: ScanConfig, *, progress: bool | None = None) -> Run:
    """Generate every probe's attempt not already answered in ``config.run_dir``, judging them
    as they arrive; then judge what is left in the store and write the report."""
    config.check_judges()  # a judge that cannot run fails before anything is generated
    plan = config.plan()
    meta = {"config": config.redacted(), "fingerprint": config.fingerprint(plan), "n_probes": plan.n}
    with RunLock(config.run_dir), _stop_on_full_disk(config.run_dir):  # one scan per run dir
        done = _check_resume(config, plan, meta)
        fresh = not store_path(config.run_dir).is_file()
        online: OnlineJudging | None = None
        writer = AttemptWriter(config.run_dir, meta)
        try:
            if done < plan.n:
                target = create_target(config.target, config.target_options())
                try:
                    judges = config.judges if fresh else []  # a resumed run is judged from the store
                    online = OnlineJudging(judges, writer, report=config.report) if judges else None
                    todo = _todo(plan, None if fresh else store_path(config.run_dir))
                    counts = (plan.n, done)
                    with _fewer_collections():
                        await _generate_async(
                            target, todo, counts, writer, _progress(progress), config.concurrency, online
                        )
                finally:
                    await target.aclose()
            run = Run(config.run_dir, config)
            if store_path(run.dir).is_file():
                judged = online is not None and online.complete  # every committed attempt, online
                added = 0 if judged else await judge_run_async(run, config.judges)
                if config.report:
                    _write_report(run, online if not added else None)
        finally:
            writer.wait_closed()  # the store's last checkpoint ran beside the report
    return run


def _todo(plan: ProbePlan, store: Path | None) -> Todo:
    """``(seq, probe)`` for every planned probe without an answer in ``store`` (looked up a
    chunk at a time, so a resumed run of any size needs no set of done ids)."""
    numbered = enumerate(plan)
    if store is None:
        yield from numbered
        return
    with Store(store) as db:
        while chunk := list(itertools.islice(numbered, LOOKUP)):
            done = db.done_among([p.id for _, p in chunk])
            yield from (item for item in chunk if item[1].id not in done)


def _write_report(run: Run, online: OnlineJudging | None) -> None:
    """The report from what the judges fed it during the scan when that covers the whole run
    (then only the paired groups are read back), else from one streaming pass over the store."""
    from safeforge.report import write_run_outputs

    stored, _ = run.counts()
    report = online.finished_report(stored) if online is not None else None
    if report is None:
        write_run_outputs(run)
        return
    for members in run.iter_groups():
        report.add_group(members)
    report.write(run.dir)


GC_GEN0 = 50_000
"""Allocations between young-generation collections while generating (CPython's default: 700)."""


@contextlib.contextmanager
def _fewer_collections() -> Iterator[None]:
    """Fewer, cheaper garbage collections while the scan generates. Every finished attempt
    allocates hundreds of objects, so at CPython's default threshold the collector runs every
    few responses, and its full passes walk everything imported at start-up (pydantic's schemas,
    the judges): 50-70 ms stalls of the event loop, several per 4,000-prompt scan. The start-up
    objects are frozen out of collection and the young generation collected every ``GC_GEN0``
    allocations; the run's objects are freed by reference counting as before, and the old
    settings come back when generation ends."""
    before = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(GC_GEN0, *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()


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


def _check_resume(config: ScanConfig, plan: ProbePlan, meta: dict[str, Any]) -> int:
    """How many planned probes are already answered in the run dir (0 for a new run); refuses
    a run made with a different config unless ``force`` (which adopts the new config and drops
    attempts of probes it no longer has)."""
    path = store_path(config.run_dir)
    if not path.is_file():
        if config.resume:
            raise SafeforgeError(f"nothing to resume: no run store in {config.run_dir}")
        return 0
    with Store(path) as store:
        stored = store.meta()
        if stored.get("fingerprint") not in (None, meta["fingerprint"]):
            if not config.force:
                diff = "; ".join(config.fingerprint_diff(stored.get("config", {}))) or "probe set changed"
                raise SafeforgeError(
                    f"{config.run_dir} holds a run with a different config ({diff}); "
                    "use --force to resume it anyway or pick another --run-dir"
                )
            store.keep_only(enumerate(p.id for p in plan))
            store.set_meta(meta)
            write_config_yaml(config.run_dir, meta)
        return store.count()[1]


async def _generate_async(
    target: Target,
    todo: Todo,
    counts: tuple[int, int],
    writer: AttemptWriter,
    progress: Progress | None,
    concurrency: int,
    online: OnlineJudging | None,
) -> None:
    """Answer ``todo`` with ``concurrency`` workers; ``counts`` is (probes planned, already done)."""
    total, done = counts
    batches = _batches(todo, max(1, target.batch_size))

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

    n_workers = min(concurrency, -(-(total - done) // max(1, target.batch_size)))
    with progress if progress is not None else contextlib.nullcontext():
        if progress is not None:
            task = progress.add_task(f"scan {target.id}", total=total, completed=done)
            writer.on_commit.append(lambda rows: progress.advance(task, len(rows)))
        if online is not None:
            writer.on_commit.append(online.offer)
        workers = [asyncio.create_task(worker_async()) for _ in range(n_workers)]
        judging = online.start() if online is not None else None
        try:
            await _generate_and_judge_async(workers, judging, online)
        except BaseException:
            if online is not None and judging is not None:  # let it finish its chunk, then stop
                online.abort()
                with contextlib.suppress(BaseException):
                    await asyncio.wait_for(asyncio.shield(judging), JUDGING_GRACE)
            raise
        finally:
            for t in workers:
                t.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
            batches.close()
            writer.close()


async def _generate_and_judge_async(
    workers: list[asyncio.Task[None]], judging: asyncio.Future[None] | None, online: OnlineJudging | None
) -> None:
    """Wait for the workers, then for the judges to catch up. A failing judge stops the scan at
    once (what is committed stays; ``--resume`` continues), as a failing worker does."""
    generation = asyncio.gather(*workers)
    if judging is None or online is None:
        await generation
        return
    both: set[asyncio.Future[Any]] = {generation, judging}
    await asyncio.wait(both, return_when=asyncio.FIRST_COMPLETED)
    if judging.done():  # judging only ends before generation by failing
        generation.cancel()
        judging.result()
    await generation
    online.close()
    await judging


def _batches(items: Todo, size: int) -> Generator[list[tuple[int, Probe]], None, None]:
    try:
        while batch := list(itertools.islice(items, size)):
            yield batch
    finally:
        items.close()  # e.g. the resume lookups' store connection


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
