"""Every guard decision into a run store (``RUN_DIR/run.sqlite``), committed in small batches.

The guard's records are the scan's records: each candidate is an ``Attempt`` with the critic's
verdicts and the reranker's decision (:func:`safeforge.rerank.decision_attempts`), so
``safeforge export RUN_DIR`` reads them like any run and ``--format dpo`` turns them into
preference pairs. Decisions are queued and committed every ``FLUSH_INTERVAL_S`` on a writer
thread -- a few transactions per batch instead of one per request, off the serving loop. The
store is created on the first commit; a restarted guard appends to the same run directory. A
guard killed with ``kill -9`` loses at most the last ``FLUSH_INTERVAL_S`` of decisions (the
answers already went out; only their audit rows are missing).

Live traffic has no expected behaviour: probes carry ``comply`` as a placeholder (as the LLM
judge's own probes do), so JRR or FRR read off a guard's run mean nothing; the store is for
audit and for the pairs.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from safeforge.records import Completion, Probe
from safeforge.rerank import Ranking, decision_attempts
from safeforge.run import ScanConfig
from safeforge.run.store import Store, store_path

FLUSH_INTERVAL_S = 0.1

Decision = tuple[Probe, Sequence[Completion], Ranking, str]
"""``(probe, candidates, ranking, upstream target id)``: what :func:`decision_attempts` takes."""


class Recorder:
    """Buffers decisions and commits them, as attempts with their verdicts, on a writer thread
    of its own: building the records and SQLite's inserts cost ~0.1 ms per candidate, which the
    serving loop would otherwise pay per request (SQLite releases the GIL while it writes)."""

    def __init__(self, run_dir: Path, meta: dict[str, Any]) -> None:
        self.run_dir = run_dir
        self.meta = meta
        self._buffer: list[Decision] = []
        self._store: Store | None = None
        self._seq = 0
        self._task: asyncio.Task[None] | None = None
        self._closing = asyncio.Event()
        self._writer = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="safeforge-store"
        )
        self.committed = 0

    @staticmethod
    def scan_meta(target: str, base_url: str | tuple[str, ...] | None, run_dir: Path) -> dict[str, Any]:
        """The ``config`` entry ``Run.open`` needs (no judges, no report: nothing re-scans it)."""
        url = list(base_url) if isinstance(base_url, tuple) else base_url
        cfg = ScanConfig(target=target, base_url=url, judges=[], report=False, run_dir=run_dir)
        return cfg.redacted()

    def add(self, decision: Decision) -> None:
        """Queue one decision (cheap: the records are built on the writer thread)."""
        self._buffer.append(decision)

    def _write(self, decisions: list[Decision]) -> None:
        """On the writer thread: the decisions' attempts and verdicts, committed."""
        rows = [a for d in decisions for a in decision_attempts(*d)]
        first = self._store is None
        if self._store is None:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            self._store = Store(store_path(self.run_dir), create=True)
            self._seq = self._store.count()[0]
            (self.run_dir / "config.yaml").write_text(
                yaml.safe_dump(self.meta["config"], sort_keys=False), encoding="utf-8"
            )
        numbered = [(self._seq + i, a) for i, a in enumerate(rows)]
        self._store.put_attempts(numbered, self.meta if first else None)
        verdicts = {a.probe.id: list(a.verdicts) for a in rows if a.verdicts}
        if verdicts:
            self._store.add_verdicts(verdicts)
        self._seq += len(rows)
        self.committed += len(rows)

    async def flush_async(self) -> None:
        """Commit what is queued (on the writer thread) and wait for it. The write is shielded:
        a caller cancelled mid-write does not cancel the batch, which still lands."""
        if not self._buffer:
            return
        batch, self._buffer = self._buffer, []
        write = self._writer.submit(self._write, batch)
        await asyncio.shield(asyncio.wrap_future(write))

    def start(self) -> None:
        """Commit periodically on the running loop until :meth:`close_async`."""
        self._task = asyncio.get_running_loop().create_task(self._flush_periodically_async())

    async def _flush_periodically_async(self) -> None:
        while not self._closing.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), FLUSH_INTERVAL_S)
            await self.flush_async()

    def _close_store(self) -> None:
        """On the writer thread, after every write queued before it: close the store."""
        store, self._store = self._store, None
        if store is not None:
            store.close()

    async def close_async(self) -> None:
        """Let the periodic loop finish its write in flight and stop, commit the rest, close the
        store. Nothing is cancelled mid-write (a cancelled write used to race the close and lose
        its batch); a write that failed raises here instead of vanishing."""
        try:
            if self._task is not None:
                self._closing.set()
                task, self._task = self._task, None
                await task
            await self.flush_async()
        finally:
            await asyncio.wrap_future(self._writer.submit(self._close_store))
            self._writer.shutdown(wait=True)
