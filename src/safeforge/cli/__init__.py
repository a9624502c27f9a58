"""Command-line interface: a thin layer over the Python API.

Each command module registers on the shared ``app``; ``main`` turns a ``SafeforgeError`` into
one clear line on stderr and a non-zero exit, with no traceback.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
import threading
from typing import NoReturn

from safeforge.cli import attack, audit, harden, judge, probes, report, scan, serve
from safeforge.cli._app import app, only_named, plain_help
from safeforge.errors import SafeforgeError
from safeforge.logs import defer_notes, flush_notes, route_library_logs
from safeforge.memory import keep_freed_memory

_ = (attack, audit, harden, judge, probes, report, scan, serve)  # imported for their command registrations


def main() -> None:
    """Run the command named in ``sys.argv``; ends with ``SystemExit`` (status 2 for a
    ``SafeforgeError``, said in one line, 130 when interrupted)."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    keep_freed_memory()  # CPU training and generation: no page faults for re-used buffers
    plain_help(app)
    route_library_logs()  # held until a command names its log file (a run dir, a train dir)
    defer_notes()  # said once the command goes ahead; an error line stands alone
    try:
        only_named(app, sys.argv[1:])()
    except SafeforgeError as exc:
        flush_notes(discard=True)
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        flush_notes(discard=True)
        print("interrupted; the run store is intact, re-run with --resume to continue", file=sys.stderr)
        raise SystemExit(130) from None
    finally:
        flush_notes()


def console() -> NoReturn:
    """The ``safeforge`` console script: :func:`main`, then leave the process at once (see
    ``_exit_now``). In-process callers (tests, notebooks) use ``main``."""
    try:
        main()
    except SystemExit as exc:
        _exit_now(exc.code)
    _exit_now(0)


def _exit_now(code: int | str | None) -> NoReturn:
    """Exit as the interpreter would, without its teardown: run the ``atexit`` handlers
    (logging's flush among them), flush stdout and stderr, then leave. Every file and store a
    command writes is closed by then; what is skipped is freeing the loaded modules one by
    one, which after a scan (ONNX Runtime, numpy, 700 modules) took 0.1-0.2 s of a 4-second
    run. A command that leaves a non-daemon thread alive (a library's worker pool) exits the
    ordinary way, which winds such threads down."""
    if any(t is not threading.current_thread() and not t.daemon for t in threading.enumerate()):
        raise SystemExit(code)
    if isinstance(code, str):
        print(code, file=sys.stderr)
        code = 1
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):  # a closed pipe must not change the exit status
            stream.flush()
    os._exit(code or 0)


__all__ = ["app", "console", "main"]
