"""``Run``: a finished (or partial) scan in its run directory — the handle every later stage
(judges, metrics, reports, export) reads and writes through."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from safeforge.errors import SafeforgeError
from safeforge.records import Attempt, Task, Verdict
from safeforge.run.config import ScanConfig
from safeforge.run.store import Store, store_path


class Run:
    """A run directory with its store. Opens a short-lived connection per call, so a ``Run``
    can be passed around freely (and across threads) without leaking handles."""

    def __init__(self, run_dir: Path, config: ScanConfig) -> None:
        self.dir = Path(run_dir)
        self.config = config

    @classmethod
    def open(cls, run_dir: Path) -> Run:
        """The run stored in ``run_dir``; ``SafeforgeError`` if there is none."""
        path = store_path(Path(run_dir))
        if not path.is_file():
            raise SafeforgeError(f"no safeforge run in {run_dir} (missing {path.name})")
        with Store(path) as store:
            meta = store.meta()
        if "config" not in meta:
            raise SafeforgeError(f"{path}: the run store is empty (the scan never stored an attempt)")
        config = ScanConfig.from_mapping({**meta["config"], "run_dir": str(run_dir)}, source=str(path))
        return cls(Path(run_dir), config)

    @property
    def store_path(self) -> Path:
        return store_path(self.dir)

    def attempts(self) -> list[Attempt]:
        """All stored attempts with their verdicts, in probe order (in memory at once; whole-run
        stages stream with :meth:`iter_attempts` instead)."""
        with Store(self.store_path) as store:
            return store.attempts()

    def iter_attempts(self, *, ok_only: bool = False) -> Iterator[Attempt]:
        """The stored attempts with their verdicts, in probe order, a page at a time."""
        with Store(self.store_path) as store:
            yield from store.iter_attempts(ok_only=ok_only)

    def iter_groups(self) -> Iterator[list[Attempt]]:
        """Refuse-expected groups with more than one member, one at a time (paired metrics)."""
        with Store(self.store_path) as store:
            yield from store.iter_groups()

    def judge_names(self) -> list[str]:
        """Judges with stored verdicts, in the order they first stored one."""
        with Store(self.store_path) as store:
            return store.judge_names()

    def verdict_counts(self) -> dict[tuple[Task, str], int]:
        """Stored verdicts by (task, judge): whose labels count, which tasks were judged."""
        with Store(self.store_path) as store:
            return store.verdict_counts()

    def add_verdicts(self, verdicts: Mapping[str, Sequence[Verdict]]) -> None:
        """Store verdicts by probe id, in one transaction."""
        with Store(self.store_path) as store:
            store.add_verdicts(verdicts)

    def counts(self) -> tuple[int, int]:
        """(attempts stored, of which answered)."""
        with Store(self.store_path) as store:
            return store.count()

    def __repr__(self) -> str:
        return f"Run({str(self.dir)!r}, target={self.config.target!r})"
