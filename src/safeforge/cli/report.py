"""CLI commands (report)."""

from __future__ import annotations

from safeforge.cli._app import app

__all__ = ["app"]
