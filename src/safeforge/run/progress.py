"""Progress for a scan whose stderr is not a terminal (CI logs, ``nohup``, a pipe).

A rich bar redraws in place, which a log cannot show, so without a terminal a scan used to
print nothing until it ended. ``LineProgress`` is a ``rich.progress.Progress`` (the runner
drives it the same way) that draws nothing and instead prints one plain line per task every
``every_s`` seconds, and a last one when it stops (if it printed any)::

    scan openai:m: 1,234/5,000 (24.7%), 310.2/s, 0:00:04 elapsed, ETA 0:00:12
"""

from __future__ import annotations

import sys
import threading
from datetime import timedelta
from typing import Any

from rich.progress import Progress, Task

PROGRESS_EVERY_S = 5.0


def _clock(seconds: float | None) -> str:
    return "-:--:--" if seconds is None else str(timedelta(seconds=int(seconds)))


def progress_line(task: Task) -> str:
    """One task's state as a plain line."""
    total = task.total or 0
    pct = f" ({task.completed / total:.1%})" if total else ""
    speed = task.finished_speed or task.speed
    rate = f", {speed:,.1f}/s" if speed else ""
    eta = "" if task.finished else f", ETA {_clock(task.time_remaining)}"
    return (
        f"{task.description}: {int(task.completed):,}/{int(total):,}{pct}{rate}, "
        f"{_clock(task.elapsed)} elapsed{eta}"
    )


class LineProgress(Progress):
    """A ``Progress`` for logs: a line per task every ``every_s`` seconds and one at the end."""

    def __init__(self, every_s: float = PROGRESS_EVERY_S, **kwargs: Any) -> None:
        super().__init__(disable=True, **kwargs)
        self.every_s = every_s
        self._stopped = threading.Event()
        self._ticker: threading.Thread | None = None
        self._printed = False

    def _print(self) -> None:
        self._printed = True
        for task in self.tasks:
            print(progress_line(task), file=sys.stderr, flush=True)

    def _tick(self) -> None:
        while not self._stopped.wait(self.every_s):
            self._print()

    def start(self) -> None:
        super().start()
        if self._ticker is None:
            self._stopped.clear()
            self._ticker = threading.Thread(target=self._tick, name="safeforge-progress", daemon=True)
            self._ticker.start()

    def stop(self) -> None:
        if self._ticker is not None:
            self._stopped.set()
            self._ticker.join()
            self._ticker = None
            if self._printed:  # a scan shorter than every_s (or one that failed at once) stays quiet
                self._print()
        super().stop()


__all__ = ["PROGRESS_EVERY_S", "LineProgress", "progress_line"]
