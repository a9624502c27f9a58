"""CLI commands (harden)."""

from __future__ import annotations

from safeforge.cli._app import app

__all__ = ["app"]
