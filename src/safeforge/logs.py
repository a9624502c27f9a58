"""What reaches the console: safeforge's own lines, not its libraries' chatter.

transformers, TRL, datasets and friends log warnings, draw per-file progress bars and (TRL's
trainer) print a ``{'loss': ...}`` dict per logging step. Useful in a file, noise on a console
that should show a scan's table or the demo's stages. This module routes them:

* ``route_library_logs(path)``: library loggers and library-raised Python warnings go to
  ``path`` (appended). Until a file is named, records are held in memory (bounded) and written
  to the first file named later, so warnings raised while a model loads still land in the
  run's log. Errors also go to stderr at once.
* ``quiet_trainer(trainer, path)``: the same, and the trainer's metric dicts go to ``path`` as
  ``metrics {JSON}`` lines. On a terminal its progress bar stays; elsewhere (CI logs) it is replaced by a
  line every few seconds, like a scan's progress.
* ``note(message)``: one line on stderr for an assumption the user should know about. The CLI
  defers notes (``defer_notes``) to the end of a command that succeeds (after a scan's table,
  beside the numbers they qualify), so a failing command prints only its error.

Import-light: nothing heavy is imported here; trainer classes are looked up on the trainer.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
import warnings
from collections import deque
from pathlib import Path
from typing import Any, TextIO

LIBRARIES = (
    "transformers",
    "trl",
    "peft",
    "datasets",
    "accelerate",
    "huggingface_hub",
    "torch",
    "onnxruntime",
    "onnx",
    "sentence_transformers",
)
BUFFERED = 500
PROGRESS_EVERY_S = 5.0
_PRINTERS = ("ProgressCallback", "PrinterCallback")  # transformers' console callbacks


_notes: list[str] | None = None  # pending notes while deferred (the CLI defers them)


def note(message: str) -> None:
    """One line on stderr: what safeforge assumed or changed on the user's behalf. The same
    note is said once; while deferred it waits for ``flush_notes``."""
    line = f"note: {message}"
    if _notes is None:
        print(line, file=sys.stderr)
    elif line not in _notes:
        _notes.append(line)


def defer_notes() -> None:
    """Hold notes until ``flush_notes``: a command that then fails prints only its error line
    (a note about an assumption is noise beside an error that stops everything)."""
    global _notes
    _notes = []


def flush_notes(*, discard: bool = False) -> None:
    """Print the held notes (the command has finished) or drop them (it failed), and stop
    deferring: later notes print at once."""
    global _notes
    pending, _notes = _notes or [], None
    if not discard:
        for line in pending:
            print(line, file=sys.stderr)


class _LibraryHandler(logging.Handler):
    """Writes library records to the current log file, or holds them until one is named."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        self.path: Path | None = None
        self._held: deque[str] = deque(maxlen=BUFFERED)

    def use(self, path: Path | None) -> None:
        """Write to ``path`` from now on, starting with what was held (None: hold again)."""
        self.path = path
        if path is not None and self._held:
            self._write(list(self._held))
            self._held.clear()

    def _write(self, lines: list[str]) -> None:
        assert self.path is not None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as fh:
            fh.writelines(line + "\n" for line in lines)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
            if record.levelno >= logging.ERROR:
                print(line, file=sys.stderr)
            if self.path is not None:
                self._write([line])
            else:
                self._held.append(line)
        except Exception:  # a logging failure must never stop a scan
            self.handleError(record)


class _RootRouter(logging.Handler):
    """On the root logger: records a library logs there (``logging.warning(...)`` in
    onnxruntime's quantizer) go to the log file; anyone else's print as ``basicConfig`` would
    have printed them (installing this handler stops ``logging.warning`` from calling it)."""

    def emit(self, record: logging.LogRecord) -> None:
        if _from_library(record.pathname):
            _HANDLER.handle(record)
        elif record.levelno >= logging.WARNING:
            print(f"{record.levelname}:{record.name}:{record.getMessage()}", file=sys.stderr)


_HANDLER = _LibraryHandler()
_ROOT = _RootRouter()
_original_showwarning = warnings.showwarning


def _from_library(filename: str) -> bool:
    """Whether ``filename`` lies in an installed copy of one of ``LIBRARIES``."""
    parts = Path(filename).parts
    return any(
        part in LIBRARIES and parts[i - 1] in ("site-packages", "dist-packages")
        for i, part in enumerate(parts[1:], 1)
    )


def _showwarning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    if _from_library(filename):
        text = warnings.formatwarning(message, category, filename, lineno, line).strip()
        _HANDLER.handle(logging.LogRecord("py.warnings", logging.WARNING, filename, lineno, text, None, None))
        return
    _original_showwarning(message, category, filename, lineno, file, line)


def _quiet_loaded_libraries() -> None:
    """Turn off the console handler and per-file bars of libraries already imported (a
    library imported later is quietened by the next call: the trainer hook makes one)."""
    tf = sys.modules.get("transformers")
    if tf is not None:
        tf.utils.logging.disable_default_handler()
        tf.utils.logging.disable_progress_bar()
    ds = sys.modules.get("datasets")
    if ds is not None:
        ds.disable_progress_bars()


def route_library_logs(path: Path | None = None) -> None:
    """Send library logs and warnings to ``path`` (or hold them until a path is named), and
    turn off the per-file loading and dataset-mapping bars (of libraries imported later too,
    through their environment switches). Idempotent; a later call with another path switches
    files, one without a path holds records again (a new command in a long-lived process)."""
    for switch in ("HF_HUB_DISABLE_PROGRESS_BARS", "HF_DATASETS_DISABLE_PROGRESS_BARS"):
        os.environ.setdefault(switch, "1")
    for name in LIBRARIES:
        logger = logging.getLogger(name)
        if _HANDLER not in logger.handlers:
            logger.addHandler(_HANDLER)
        logger.propagate = False
    root = logging.getLogger()
    if not root.handlers:  # the user configured no logging: take over the root logger's default
        root.addHandler(_ROOT)
    if warnings.showwarning is not _showwarning:
        warnings.showwarning = _showwarning
    _quiet_loaded_libraries()
    _HANDLER.use(None if path is None else Path(path))


def quiet_trainer(trainer: Any, path: Path) -> Any:
    """Route ``trainer``'s metric dicts (and library logs) to ``path``; returns the trainer, so
    the hook is one line: ``trainer = quiet_trainer(build_trainer(...), out / "train.log")``."""
    route_library_logs(path)
    handler = trainer.callback_handler
    printers = [cb for cb in handler.callbacks if type(cb).__name__ in _PRINTERS]
    for cb in printers:
        handler.remove_callback(cb)
    keep_bar = sys.stderr.isatty() and any(type(cb).__name__ == "ProgressCallback" for cb in printers)
    trainer.add_callback(_metrics_callback(keep_bar))
    return trainer


def _metrics_callback(keep_bar: bool) -> Any:
    """A TrainerCallback (built here so transformers is imported only by training code)."""
    from transformers.trainer_callback import ProgressCallback, TrainerCallback

    base: type[Any] = ProgressCallback if keep_bar else TrainerCallback

    class MetricsToFile(base):  # type: ignore[misc]
        """Metric dicts to the log file (``metrics {...}`` lines); a bar on a terminal, else a
        line every few seconds."""

        def __init__(self) -> None:
            super().__init__()
            self._last = time.monotonic()
            self._loss: float | None = None

        def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **kwargs: Any) -> None:
            if not state.is_world_process_zero or not logs:
                return
            loss = logs.get("loss")
            if isinstance(loss, int | float):
                self._loss = float(loss)
            metrics = {"step": state.global_step, **{k: v for k, v in logs.items() if k != "total_flos"}}
            text = "metrics " + json.dumps(metrics, default=str)
            _HANDLER.handle(logging.LogRecord("safeforge.train", logging.INFO, "", 0, text, None, None))

        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            if keep_bar:
                super().on_step_end(args, state, control, **kwargs)
                return
            now = time.monotonic()
            done = state.global_step >= state.max_steps
            if state.is_world_process_zero and (done or now - self._last >= PROGRESS_EVERY_S):
                self._last = now
                loss = "" if self._loss is None else f", loss {self._loss:.4g}"
                print(f"train: step {state.global_step}/{state.max_steps}{loss}", file=sys.stderr)

    return MetricsToFile()


__all__ = ["LIBRARIES", "defer_notes", "flush_notes", "note", "quiet_trainer", "route_library_logs"]
