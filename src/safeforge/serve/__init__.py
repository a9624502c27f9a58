"""``safeforge serve``: an OpenAI-compatible guard that answers with the best of N candidates
under a safety critic, in front of any target, recording every decision in a run store."""

from __future__ import annotations

from safeforge.serve.app import build_app
from safeforge.serve.config import ServeConfig, is_loopback
from safeforge.serve.guard import Guard, UpstreamError
from safeforge.serve.server import GuardServer, serve_forever

__all__ = [
    "Guard",
    "GuardServer",
    "ServeConfig",
    "UpstreamError",
    "build_app",
    "is_loopback",
    "serve_forever",
]
