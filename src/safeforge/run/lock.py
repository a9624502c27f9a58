"""One scan per run directory at a time.

Two scans into the same run directory both used to run, each asking every probe the other had
not committed yet (2,143 model calls for 1,099 probes). ``RunLock`` makes the second refuse at
once: the first creates ``RUN_DIR/.lock`` exclusively (``O_EXCL``) with its pid, host and start
time, and removes it when it ends. A lock left by a scan that died (``kill -9``, a power cut) is
stale when its host is this one and its pid no longer runs: it is taken over with a note. A
lock from another host cannot be checked, so the message says how to remove it by hand.

A scan that fails before writing anything leaves no run directory behind: the lock removes the
directory it created when it is still empty on release.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from safeforge.errors import SafeforgeError
from safeforge.logs import note

LOCK_FILE = ".lock"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it exists
        return True
    return True


def _owner(path: Path) -> dict[str, Any] | None:
    """The lock's content, or None while it is being written (or unreadable)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


class RunLock:
    """Exclusive use of a run directory for the length of a ``with`` block."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = Path(run_dir)
        self.path = self.run_dir / LOCK_FILE
        self._created_dir = False
        self._held = False

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()

    def acquire(self) -> None:
        """Take the lock, or raise ``SafeforgeError`` naming the scan that holds it."""
        self._created_dir = not self.run_dir.exists()
        self.run_dir.mkdir(parents=True, exist_ok=True)
        me = {"pid": os.getpid(), "host": socket.gethostname(), "started": datetime.now(UTC).isoformat()}
        for _ in range(3):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                owner = _owner(self.path)
                if owner is None or not self._stale(owner):
                    self._refuse(owner)
                continue
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(me, fh)
            self._held = True
            return
        self._refuse(_owner(self.path))

    def _stale(self, owner: dict[str, Any]) -> bool:
        """True (and the lock removed) when its owner ran on this host and is gone."""
        pid = owner.get("pid")
        if owner.get("host") != socket.gethostname() or not isinstance(pid, int) or _alive(pid):
            return False
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        note(f"{self.run_dir}: took over the lock of a scan that is no longer running (pid {pid})")
        return True

    def _refuse(self, owner: dict[str, Any] | None) -> None:
        self._drop_empty_dir()
        who = "another scan"
        if owner is not None:
            pid, host, since = owner.get("pid"), owner.get("host"), owner.get("started")
            who = f"another scan (pid {pid} on {host}, since {since})"
        raise SafeforgeError(
            f"{self.run_dir} is in use by {who}; wait for it to finish or pick another --run-dir "
            f"(if no scan is running, delete {self.path})"
        )

    def release(self) -> None:
        """Remove the lock if this process holds it; drop the run dir if it is still empty."""
        if self._held:
            owner = _owner(self.path)
            if owner is None or owner.get("pid") == os.getpid():
                with contextlib.suppress(FileNotFoundError):
                    self.path.unlink()
            self._held = False
        self._drop_empty_dir()

    def _drop_empty_dir(self) -> None:
        if self._created_dir:
            with contextlib.suppress(OSError):  # not empty (a store was written) or gone
                self.run_dir.rmdir()
            self._created_dir = False


__all__ = ["LOCK_FILE", "RunLock"]
