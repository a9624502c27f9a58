"""Command-line interface: a thin layer over the Python API.

Each command module registers on the shared ``app``; ``main`` turns a ``SafeforgeError`` into
one clear line on stderr and a non-zero exit, with no traceback.
"""

from __future__ import annotations

import os
import sys

from safeforge.cli import attack, audit, harden, judge, probes, report, scan, serve
from safeforge.cli._app import app, plain_help
from safeforge.errors import SafeforgeError
from safeforge.logs import defer_notes, flush_notes, route_library_logs
from safeforge.memory import keep_freed_memory

_ = (attack, audit, harden, judge, probes, report, scan, serve)  # imported for their command registrations


def main() -> None:
    """Console-script entry point."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    keep_freed_memory()  # CPU training and generation: no page faults for re-used buffers
    plain_help(app)
    route_library_logs()  # held until a command names its log file (a run dir, a train dir)
    defer_notes()  # said once the command goes ahead; an error line stands alone
    try:
        app()
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


__all__ = ["app", "main"]
