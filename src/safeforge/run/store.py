"""The run store: one SQLite database per run directory (``RUN_DIR/run.sqlite``, WAL mode).

One row per probe (primary key = probe id), so a resumed run can never hold two attempts
for one probe; an errored attempt is replaced when it is retried, a successful one is never
asked again. Attempts arrive in small batches, each one transaction: with WAL and
``synchronous=NORMAL`` a committed batch survives the process being killed, and a batch
costs well under a millisecond. Verdicts live in their own table keyed by (probe, judge,
task), so judging again replaces instead of duplicating. Records are stored as their own
JSON, so the store reads back exactly what the pipeline produced.

``SAFEFORGE_STORE_MAX_PAGES`` (tests only) caps the database at that many pages with
SQLite's ``PRAGMA max_page_count``, so SQLite raises its genuine "database or disk is full"
error without filling a real disk.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from safeforge.errors import SafeforgeError
from safeforge.records import FORMAT_VERSION, Attempt, Verdict

STORE_NAME = "run.sqlite"
MAX_PAGES_ENV = "SAFEFORGE_STORE_MAX_PAGES"
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS attempts (
    probe_id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    ok INTEGER NOT NULL,
    attempt TEXT NOT NULL,
    updated REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS verdicts (
    probe_id TEXT NOT NULL,
    judge TEXT NOT NULL,
    task TEXT NOT NULL,
    verdict TEXT NOT NULL,
    PRIMARY KEY (probe_id, judge, task)
);
"""


def store_path(run_dir: Path) -> Path:
    return Path(run_dir) / STORE_NAME


class Store:
    """A connection to one run's database; use as a context manager."""

    def __init__(self, path: Path, *, create: bool = False) -> None:
        if not create and not path.is_file():
            raise SafeforgeError(f"no safeforge run store at {path}")
        self.path = path
        try:
            self._db = sqlite3.connect(path, timeout=30.0, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            if max_pages := os.environ.get(MAX_PAGES_ENV):
                self._db.execute(f"PRAGMA max_page_count = {int(max_pages)}")
            self._db.executescript(SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise SafeforgeError(f"{path}: not a safeforge run store ({exc})") from None

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    # -- meta ----------------------------------------------------------------------------
    def meta(self) -> dict[str, Any]:
        return {k: json.loads(v) for k, v in self._db.execute("SELECT key, value FROM meta")}

    def set_meta(self, values: Mapping[str, Any]) -> None:
        """Replace meta entries in one transaction."""
        with self._transaction():
            self._set_meta(values)

    def _set_meta(self, values: Mapping[str, Any]) -> None:
        self._db.executemany(
            "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
            [(k, json.dumps(v)) for k, v in values.items()],
        )

    # -- attempts ------------------------------------------------------------------------
    def put_attempts(
        self, rows: Sequence[tuple[int, Attempt]], meta: Mapping[str, Any] | None = None
    ) -> None:
        """Upsert attempts (``(seq, attempt)``; verdicts are stored apart) in one transaction,
        dropping stale verdicts of probes whose attempt is replaced; ``meta`` rides along."""
        now = time.time()
        with self._transaction():
            if meta:
                self._set_meta({**meta, "format_version": FORMAT_VERSION})
            self._db.executemany("DELETE FROM verdicts WHERE probe_id = ?", [(a.probe.id,) for _, a in rows])
            self._db.executemany(
                "INSERT OR REPLACE INTO attempts (probe_id, seq, ok, attempt, updated) "
                "VALUES (?, ?, ?, ?, ?)",
                [
                    (a.probe.id, seq, int(a.ok), a.model_dump_json(exclude={"verdicts"}), now)
                    for seq, a in rows
                ],
            )

    def done_ids(self) -> set[str]:
        """Probe ids that already have a successful attempt (never asked again)."""
        return {row[0] for row in self._db.execute("SELECT probe_id FROM attempts WHERE ok = 1")}

    def count(self) -> tuple[int, int]:
        """(attempts stored, of which successful)."""
        total, ok = self._db.execute("SELECT COUNT(*), COALESCE(SUM(ok), 0) FROM attempts").fetchone()
        return int(total), int(ok)

    def keep_only(self, order: Mapping[str, int]) -> int:
        """Keep attempts of the probes in ``order`` (renumbered to its positions), delete the
        rest with their verdicts; returns how many were deleted."""
        stale = [(pid,) for (pid,) in self._db.execute("SELECT probe_id FROM attempts") if pid not in order]
        with self._transaction():
            self._db.executemany("DELETE FROM verdicts WHERE probe_id = ?", stale)
            self._db.executemany("DELETE FROM attempts WHERE probe_id = ?", stale)
            self._db.executemany(
                "UPDATE attempts SET seq = ? WHERE probe_id = ?", [(seq, pid) for pid, seq in order.items()]
            )
        return len(stale)

    def attempts(self) -> list[Attempt]:
        """Every stored attempt with its verdicts, in probe order."""
        verdicts: dict[str, list[Verdict]] = {}
        for pid, raw in self._db.execute("SELECT probe_id, verdict FROM verdicts ORDER BY rowid"):
            verdicts.setdefault(pid, []).append(Verdict.model_validate_json(raw))
        out = []
        for pid, raw in self._db.execute("SELECT probe_id, attempt FROM attempts ORDER BY seq, probe_id"):
            attempt = Attempt.model_validate_json(raw)
            if pid in verdicts:
                attempt = attempt.model_copy(update={"verdicts": tuple(verdicts[pid])})
            out.append(attempt)
        return out

    def add_verdicts(self, verdicts: Mapping[str, Sequence[Verdict]]) -> None:
        """Store verdicts by probe id in one transaction (same judge+task replaces)."""
        rows = [(pid, v.judge, v.task.value, v.model_dump_json()) for pid, vs in verdicts.items() for v in vs]
        with self._transaction():
            self._db.executemany(
                "INSERT OR REPLACE INTO verdicts (probe_id, judge, task, verdict) VALUES (?, ?, ?, ?)", rows
            )

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)


class _Transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` (``ROLLBACK`` on error) on an autocommit connection."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        if et is None:
            self._db.execute("COMMIT")
        elif self._db.in_transaction:  # SQLite already rolled back after e.g. "disk is full"
            self._db.execute("ROLLBACK")
