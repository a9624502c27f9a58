"""Command-line interface: a thin layer over the Python API.

Each command module registers on the shared ``app``; ``main`` turns a ``SafeforgeError`` into
one clear line on stderr and a non-zero exit, with no traceback.
"""

from __future__ import annotations

import os
import sys

from safeforge.cli import audit, harden, judge, probes, report, scan, serve
from safeforge.cli._app import app
from safeforge.errors import SafeforgeError

_ = (audit, harden, judge, probes, report, scan, serve)  # imported for their command registrations


def main() -> None:
    """Console-script entry point."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        app()
    except SafeforgeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        print("interrupted; the run store is intact, re-run with --resume to continue", file=sys.stderr)
        raise SystemExit(130) from None


__all__ = ["app", "main"]
