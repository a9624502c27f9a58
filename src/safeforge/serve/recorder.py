"""Every guard decision into a run store (``RUN_DIR/run.sqlite``), committed in small batches.

The guard's records are the scan's records: each candidate is an ``Attempt`` with the critic's
verdicts and the reranker's decision (:func:`safeforge.rerank.decision_attempts`), so
``safeforge export RUN_DIR`` reads them like any run and ``--format dpo`` turns them into
preference pairs. Decisions are buffered and committed every ``FLUSH_INTERVAL_S`` or
``FLUSH_EVERY`` attempts -- one small SQLite transaction instead of one per request, so the
store costs the serving loop well under a millisecond per batch. The store is created on the
first commit; a restarted guard appends to the same run directory.

Live traffic has no expected behaviour: probes carry ``comply`` as a placeholder (as the LLM
judge's own probes do), so JRR or FRR read off a guard's run mean nothing; the store is for
audit and for the pairs.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import yaml

from safeforge.records import Attempt
from safeforge.run import ScanConfig
from safeforge.run.store import Store, store_path

FLUSH_EVERY = 256
FLUSH_INTERVAL_S = 0.1


class Recorder:
    """Buffers decision attempts and commits them with their verdicts."""

    def __init__(self, run_dir: Path, meta: dict[str, Any]) -> None:
        self.run_dir = run_dir
        self.meta = meta
        self._buffer: list[Attempt] = []
        self._store: Store | None = None
        self._seq = 0
        self._task: asyncio.Task[None] | None = None
        self.committed = 0

    @staticmethod
    def scan_meta(target: str, base_url: str | tuple[str, ...] | None, run_dir: Path) -> dict[str, Any]:
        """The ``config`` entry ``Run.open`` needs (no judges, no report: nothing re-scans it)."""
        url = list(base_url) if isinstance(base_url, tuple) else base_url
        cfg = ScanConfig(target=target, base_url=url, judges=[], report=False, run_dir=run_dir)
        return cfg.redacted()

    def add(self, attempts: list[Attempt]) -> None:
        self._buffer.extend(attempts)
        if len(self._buffer) >= FLUSH_EVERY:
            self.flush()

    def flush(self) -> None:
        if not self._buffer:
            return
        rows, self._buffer = self._buffer, []
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
        self._store.add_verdicts({a.probe.id: list(a.verdicts) for a in rows})
        self._seq += len(rows)
        self.committed += len(rows)

    def start(self) -> None:
        """Commit periodically on the running loop until :meth:`close`."""
        self._task = asyncio.get_running_loop().create_task(self._flush_periodically_async())

    async def _flush_periodically_async(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_INTERVAL_S)
            self.flush()

    async def close_async(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        try:
            self.flush()
        finally:
            if self._store is not None:
                self._store.close()
                self._store = None
