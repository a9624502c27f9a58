"""A real guard on 127.0.0.1 in front of the scripted loopback upstream, for sync tests."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from safeforge.serve import GuardServer, ServeConfig
from safeforge.testing import COMPLIANCE, REFUSAL, ChatRequest, OpenAIServer, Responder, in_background

LECTURE = "I'm sorry, but I can't help with that. You should know better than to ask."


def by_choice(request: ChatRequest) -> str:
    """Candidate 0 refuses, 1 lectures, 2 complies (then it repeats)."""
    return [REFUSAL, LECTURE, COMPLIANCE][request.choice % 3]


@dataclass
class Running:
    url: str
    """The guard's base URL (``http://127.0.0.1:PORT/v1``)."""
    root: str
    """The guard's root (``http://127.0.0.1:PORT``) for /health and /metrics."""
    upstream: OpenAIServer
    cfg: ServeConfig


@contextlib.contextmanager
def running_guard(
    tmp_path: Path, responder: Responder = by_choice, *, honour_n: bool = True, **settings: Any
) -> Iterator[Running]:
    """Upstream and guard, each on its own background loop; the guard's config takes
    ``settings`` (defaults: n = 3, critic ``rules``, port 0, run dir under ``tmp_path``)."""
    upstream = OpenAIServer(responder, honour_n=honour_n)
    with upstream.running() as upstream_url:
        fields: dict[str, Any] = {
            "target": "openai:mock-model",
            "base_url": upstream_url,
            "api_key_env": "SF_TEST_UPSTREAM_KEY",
            "critic": ("rules",),
            "n": 3,
            "port": 0,
            "run_dir": tmp_path / "guard",
            **settings,
        }
        cfg = ServeConfig.model_validate(fields)
        server = GuardServer(cfg)
        with in_background(server.start_async, server.stop_async) as url:
            yield Running(url=url, root=url.removesuffix("/v1"), upstream=upstream, cfg=cfg)


def chat(prompt: str = "hello", **extra: Any) -> dict[str, Any]:
    return {"model": "mock-model", "messages": [{"role": "user", "content": prompt}], **extra}


async def post_async(
    url: str, body: Any, headers: dict[str, str] | None = None, raw: bytes | None = None
) -> tuple[int, dict[str, str], str]:
    """POST to ``url/chat/completions``; (status, headers, body text)."""
    async with aiohttp.ClientSession() as session:
        kwargs: dict[str, Any] = {"data": raw} if raw is not None else {"json": body}
        async with session.post(f"{url}/chat/completions", headers=headers, **kwargs) as resp:
            return resp.status, dict(resp.headers), await resp.text()


async def get_async(url: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(url, headers=headers) as resp:
        return resp.status, await resp.text()
