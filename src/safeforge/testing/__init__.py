"""Test helpers other projects (and safeforge's own tests) can import: a real loopback
OpenAI-compatible server with scriptable answers and failure injection."""

from __future__ import annotations

from safeforge.testing.server import (
    COMPLIANCE,
    REFUSAL,
    ChatRequest,
    Fault,
    OpenAIServer,
    Responder,
    comply,
    echo,
    fail_first,
    in_background,
    refuse,
    serve,
)

__all__ = [
    "COMPLIANCE",
    "REFUSAL",
    "ChatRequest",
    "Fault",
    "OpenAIServer",
    "Responder",
    "comply",
    "echo",
    "fail_first",
    "in_background",
    "refuse",
    "serve",
]
