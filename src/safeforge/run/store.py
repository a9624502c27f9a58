"""The run store: one SQLite database per run directory (``RUN_DIR/run.sqlite``, WAL mode).

One row per probe (primary key = probe id), so a resumed run can never hold two attempts
for one probe; an errored attempt is replaced when it is retried, a successful one is never
asked again. Attempts arrive in small batches, each one transaction: with WAL and
``synchronous=NORMAL`` a committed batch survives the process being killed, and a batch
costs well under a millisecond. Verdicts live in their own table keyed by (probe, judge,
task), so judging again replaces instead of duplicating. Records are stored as their own
JSON, so the store reads back exactly what the pipeline produced.

Everything that reads a whole run streams it (:meth:`Store.iter_attempts`, :meth:`Store.iter_groups`)
in pages of a few hundred attempts, each page its own query over an index, so judging,
summarizing and exporting a run of any size takes bounded memory.

The schema is versioned with ``PRAGMA user_version``: version 1 is ``SCHEMA``, each later
version one entry of ``MIGRATIONS`` (applied in order, each in one transaction, when a store is
opened). A new store is made the same way, so old and new stores end up identical. Version 2
copies each attempt's target, group and expected behaviour into columns, indexed for probe
order and for reading a run group by group. Version 3 adds ``conversations``: one row per
attacker proposal of an attacker-driven attack (``records.ConversationNode``: conversation id,
turn, parent), whose target side is an ordinary attempt.

``SAFEFORGE_STORE_MAX_PAGES`` (tests only) caps the database at that many pages with
SQLite's ``PRAGMA max_page_count``, so SQLite raises its genuine "database or disk is full"
error without filling a real disk.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from safeforge.errors import SafeforgeError
from safeforge.records import FORMAT_VERSION, Attempt, ConversationNode, Task, Verdict

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


MIGRATIONS: dict[int, str] = {
    2: """
ALTER TABLE attempts ADD COLUMN target TEXT NOT NULL DEFAULT '';
ALTER TABLE attempts ADD COLUMN group_id TEXT NOT NULL DEFAULT '';
ALTER TABLE attempts ADD COLUMN expected TEXT NOT NULL DEFAULT '';
UPDATE attempts SET target = json_extract(attempt, '$.target'),
    group_id = json_extract(attempt, '$.probe.group_id'),
    expected = json_extract(attempt, '$.probe.expected');
CREATE INDEX attempts_in_order ON attempts (seq, probe_id);
CREATE INDEX attempts_by_group ON attempts (expected, target, group_id, seq, probe_id);
""",
    3: """
CREATE TABLE conversations (
    node_id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    method TEXT NOT NULL,
    goal_id TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    turn INTEGER NOT NULL,
    parent_id TEXT,
    status TEXT NOT NULL,
    probe_id TEXT,
    node TEXT NOT NULL,
    updated REAL NOT NULL
);
CREATE INDEX conversations_by_goal ON conversations (method, goal_id, seq);
""",
}
"""Schema changes by the version they bring the store to (see the module doc)."""
SCHEMA_VERSION = max(MIGRATIONS)
PAGE = 500
"""Attempts per page when a whole run is read."""
CHECKPOINT_PAGES = 16384
"""Checkpoint the WAL into the database every this many pages (64 MiB) rather than SQLite's
1,000: each checkpoint syncs the disk, which cost a scan about a third of its store time when
the committing connection did it. A scan's writer checkpoints from a thread instead
(:class:`Checkpointer`); this is the limit for everything else."""
CHECKPOINT_EVERY = 0.5
"""Seconds between a :class:`Checkpointer`'s checkpoints."""


class Checkpointer:
    """Copies a store's WAL into the database every ``CHECKPOINT_EVERY`` seconds, on a thread
    with its own connection, while another connection writes. SQLite releases the GIL for the
    copy and the disk syncs, so they cost the writing event loop nothing. Without it the last
    connection to close checkpoints the whole run's WAL (tens of MB after a few thousand small
    commits) and syncs it: 0.1-0.3 s after a 4,000-prompt scan, spent before the report.

    ``finish`` asks for a last checkpoint and returns at once: the writer's connection then
    closes without one (another connection is open), and the report is built meanwhile;
    ``wait`` joins the thread. A passive checkpoint never blocks the writer; one that fails (a
    full disk) ends the thread, and the last connection to close checkpoints what is left."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="safeforge-checkpoint", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        db = sqlite3.connect(self._path, timeout=0.0, isolation_level=None)
        try:
            while not self._stop.wait(CHECKPOINT_EVERY):
                db.execute("PRAGMA wal_checkpoint(PASSIVE)")
            db.execute("PRAGMA wal_checkpoint(PASSIVE)")  # what was committed before finish()
        except sqlite3.Error:
            return
        finally:
            db.close()

    def finish(self) -> None:
        """Ask for the last checkpoint (call once nothing more will be committed)."""
        self._stop.set()

    def wait(self) -> None:
        self.finish()
        self._thread.join()


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
            self._db.execute(f"PRAGMA wal_autocheckpoint = {CHECKPOINT_PAGES}")
            if max_pages := os.environ.get(MAX_PAGES_ENV):
                self._db.execute(f"PRAGMA max_page_count = {int(max_pages)}")
            self._db.executescript(SCHEMA)
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise SafeforgeError(f"{path}: not a safeforge run store ({exc})") from None

    def _migrate(self) -> None:
        """Bring the schema to ``SCHEMA_VERSION`` (a store from a newer safeforge is refused)."""
        version = self._db.execute("PRAGMA user_version").fetchone()[0] or 1
        if version > SCHEMA_VERSION:
            raise SafeforgeError(
                f"{self.path} was written by a newer safeforge (store schema {version}, "
                f"this one reads up to {SCHEMA_VERSION}); upgrade safeforge to read it"
            )
        for target in range(version + 1, SCHEMA_VERSION + 1):
            with self._transaction():
                if (self._db.execute("PRAGMA user_version").fetchone()[0] or 1) >= target:
                    continue  # another process migrated it first
                for statement in filter(str.strip, MIGRATIONS[target].split(";")):
                    self._db.execute(statement)
                self._db.execute(f"PRAGMA user_version = {target}")

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
        with self._transaction():
            if meta:
                self._set_meta({**meta, "format_version": FORMAT_VERSION})
            self._put_attempts(rows)

    def _put_attempts(self, rows: Sequence[tuple[int, Attempt]]) -> None:
        now = time.time()
        self._db.executemany("DELETE FROM verdicts WHERE probe_id = ?", [(a.probe.id,) for _, a in rows])
        self._db.executemany(
            "INSERT OR REPLACE INTO attempts "
            "(probe_id, seq, ok, attempt, updated, target, group_id, expected) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    a.probe.id,
                    seq,
                    int(a.ok),
                    a.model_dump_json(exclude={"verdicts"}),
                    now,
                    a.target,
                    a.probe.group_id,
                    a.probe.expected.value,
                )
                for seq, a in rows
            ],
        )

    def done_among(self, probe_ids: Sequence[str]) -> set[str]:
        """Which of ``probe_ids`` already have a successful attempt (one query per call)."""
        marks = ",".join("?" * len(probe_ids))
        sql = f"SELECT probe_id FROM attempts WHERE ok = 1 AND probe_id IN ({marks})"
        return {row[0] for row in self._db.execute(sql, list(probe_ids))}

    def count(self) -> tuple[int, int]:
        """(attempts stored, of which successful)."""
        total, ok = self._db.execute("SELECT COUNT(*), COALESCE(SUM(ok), 0) FROM attempts").fetchone()
        return int(total), int(ok)

    def keep_only(self, order: Iterable[tuple[int, str]]) -> int:
        """Keep attempts of the probes in ``order`` (``(seq, probe id)`` pairs, streamed into a
        temporary table; attempts are renumbered to those positions), delete the rest with
        their verdicts; returns how many were deleted."""
        with self._transaction():
            self._db.execute("CREATE TEMP TABLE IF NOT EXISTS keep (probe_id TEXT PRIMARY KEY, seq INTEGER)")
            self._db.execute("DELETE FROM keep")
            self._db.executemany("INSERT OR REPLACE INTO keep VALUES (?, ?)", ((pid, s) for s, pid in order))
            gone = "probe_id NOT IN (SELECT probe_id FROM keep)"
            stale = self._db.execute(f"SELECT COUNT(*) FROM attempts WHERE {gone}").fetchone()[0]
            self._db.execute(f"DELETE FROM verdicts WHERE {gone}")
            self._db.execute(f"DELETE FROM attempts WHERE {gone}")
            self._db.execute(
                "UPDATE attempts SET seq = (SELECT seq FROM keep WHERE keep.probe_id = attempts.probe_id)"
            )
            self._db.execute("DELETE FROM keep")
        return int(stale)

    def attempts(self) -> list[Attempt]:
        """Every stored attempt with its verdicts, in probe order (all in memory: for small
        runs and tests; whole-run stages use :meth:`iter_attempts`)."""
        return list(self.iter_attempts())

    def iter_attempts(
        self, *, ok_only: bool = False, lacking: str | None = None, page: int = PAGE
    ) -> Iterator[Attempt]:
        """Stored attempts with their verdicts, in probe order, ``page`` at a time. Each page is
        its own query resuming after the last attempt seen, so the caller may write (e.g. add
        verdicts) between pages. ``ok_only``: answered attempts only; ``lacking``: only those
        without a verdict from that judge."""
        where = "(seq, probe_id) > (?, ?)" + (" AND ok = 1" if ok_only else "")
        if lacking is not None:
            where += (
                " AND NOT EXISTS (SELECT 1 FROM verdicts v WHERE v.probe_id = a.probe_id AND v.judge = ?)"
            )
        sql = f"SELECT seq, probe_id, attempt FROM attempts a WHERE {where} ORDER BY seq, probe_id LIMIT ?"
        after: tuple[int, str] = (-(2**62), "")
        while True:
            params: list[Any] = [*after, *([lacking] if lacking is not None else []), page]
            rows = self._db.execute(sql, params).fetchall()
            if not rows:
                return
            yield from self._with_verdicts([(pid, raw) for _, pid, raw in rows])
            after = (rows[-1][0], rows[-1][1])

    def iter_groups(self) -> Iterator[list[Attempt]]:
        """The refuse-expected attempts of every (target, group) with more than one member,
        one group at a time in (target, group, probe) order: what paired metrics read."""
        sql = (
            "SELECT a.target, a.group_id, a.probe_id, a.attempt FROM attempts a JOIN "
            "(SELECT target, group_id FROM attempts WHERE expected = 'refuse' "
            "GROUP BY target, group_id HAVING COUNT(*) > 1) g "
            "ON a.target = g.target AND a.group_id = g.group_id "
            "WHERE a.expected = 'refuse' ORDER BY a.target, a.group_id, a.seq, a.probe_id"
        )
        members: list[tuple[str, str]] = []
        key: tuple[str, str] | None = None
        for target, group, pid, raw in self._db.execute(sql):
            if (target, group) != key and members:
                yield self._with_verdicts(members)
                members = []
            key = (target, group)
            members.append((pid, raw))
        if members:
            yield self._with_verdicts(members)

    def _with_verdicts(self, rows: Sequence[tuple[str, str]]) -> list[Attempt]:
        """Parse ``(probe_id, attempt JSON)`` rows and attach their verdicts (stored order)."""
        marks = ",".join("?" * len(rows))
        verdicts: dict[str, list[Verdict]] = {}
        sql = f"SELECT probe_id, verdict FROM verdicts WHERE probe_id IN ({marks}) ORDER BY rowid"
        for pid, raw in self._db.execute(sql, [pid for pid, _ in rows]):
            verdicts.setdefault(pid, []).append(Verdict.model_validate_json(raw))
        out = []
        for pid, raw in rows:
            attempt = Attempt.model_validate_json(raw)
            if pid in verdicts:
                attempt = attempt.model_copy(update={"verdicts": tuple(verdicts[pid])})
            out.append(attempt)
        return out

    def judge_names(self) -> list[str]:
        """Judges with verdicts in the store, in the order they first stored one."""
        sql = "SELECT judge FROM verdicts GROUP BY judge ORDER BY MIN(rowid)"
        return [row[0] for row in self._db.execute(sql)]

    def verdict_counts(self) -> dict[tuple[Task, str], int]:
        """How many stored attempts each (task, judge) has a verdict for."""
        sql = (
            "SELECT v.task, v.judge, COUNT(*) FROM verdicts v "
            "JOIN attempts a ON a.probe_id = v.probe_id GROUP BY v.task, v.judge"
        )
        return {(Task(task), judge): n for task, judge, n in self._db.execute(sql)}

    def add_verdicts(self, verdicts: Mapping[str, Sequence[Verdict]]) -> None:
        """Store verdicts by probe id in one transaction (same judge+task replaces)."""
        with self._transaction():
            self._add_verdicts(verdicts)

    def _add_verdicts(self, verdicts: Mapping[str, Sequence[Verdict]]) -> None:
        rows = [(pid, v.judge, v.task.value, v.model_dump_json()) for pid, vs in verdicts.items() for v in vs]
        self._db.executemany(
            "INSERT OR REPLACE INTO verdicts (probe_id, judge, task, verdict) VALUES (?, ?, ?, ?)", rows
        )

    # -- attacker-driven conversations ------------------------------------------------------
    def put_nodes(
        self,
        nodes: Sequence[ConversationNode],
        attempts: Sequence[Attempt] = (),
        verdicts: Mapping[str, Sequence[Verdict]] | None = None,
        meta: Mapping[str, Any] | None = None,
    ) -> None:
        """Upsert conversation nodes with the attempts (and verdicts) of the turns they sent, all
        in one transaction: a node is never stored as answered without its answer. A new node is
        numbered after every stored one, an updated one keeps its number; an attempt takes the
        number of the node whose ``probe_id`` it is."""
        now = time.time()
        with self._transaction():
            if meta:
                self._set_meta({**meta, "format_version": FORMAT_VERSION})
            (last,) = self._db.execute("SELECT COALESCE(MAX(seq), -1) FROM conversations").fetchone()
            marks = ",".join("?" * len(nodes))
            sql = f"SELECT node_id, seq FROM conversations WHERE node_id IN ({marks})"
            seqs: dict[str, int] = dict(self._db.execute(sql, [n.id for n in nodes]).fetchall())
            for node in nodes:
                if node.id not in seqs:
                    last += 1
                    seqs[node.id] = last
            self._db.executemany(
                "INSERT OR REPLACE INTO conversations (node_id, seq, method, goal_id, conversation_id, "
                "turn, parent_id, status, probe_id, node, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        n.id,
                        seqs[n.id],
                        n.method,
                        n.goal_id,
                        n.conversation_id,
                        n.turn,
                        n.parent_id,
                        n.status.value,
                        n.probe_id,
                        n.model_dump_json(),
                        now,
                    )
                    for n in nodes
                ],
            )
            by_probe = {n.probe_id: seqs[n.id] for n in nodes if n.probe_id}
            self._put_attempts([(by_probe.get(a.probe.id, last), a) for a in attempts])
            self._add_verdicts(verdicts or {})

    def nodes(self, method: str | None = None, goal_id: str | None = None) -> list[ConversationNode]:
        """Stored conversation nodes in the order they were first stored (all, one method's, or
        one goal's under one method). Attacks are goals x turns: small enough for a list."""
        where, params = [], []
        for column, value in (("method", method), ("goal_id", goal_id)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        sql = "SELECT node FROM conversations" + (f" WHERE {' AND '.join(where)}" if where else "")
        rows = self._db.execute(sql + " ORDER BY seq", params)
        return [ConversationNode.model_validate_json(raw) for (raw,) in rows]

    def attempts_by_id(self, probe_ids: Sequence[str]) -> dict[str, Attempt]:
        """Stored attempts (with verdicts) of ``probe_ids``, by probe id."""
        found: dict[str, Attempt] = {}
        for start in range(0, len(probe_ids), PAGE):
            chunk = list(probe_ids[start : start + PAGE])
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT probe_id, attempt FROM attempts WHERE probe_id IN ({marks})", chunk
            )
            found.update((a.probe.id, a) for a in self._with_verdicts(rows.fetchall()))
        return found

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
