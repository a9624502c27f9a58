"""The OpenAI-compatible HTTP face of the guard (aiohttp.web).

Routes: ``POST /v1/chat/completions`` (``stream: true`` streams the chosen answer as
server-sent events once it is chosen), ``GET /v1/models``, ``GET /health`` and ``GET /metrics``
(Prometheus text). With a token every route but ``/health`` needs ``Authorization: Bearer``.

Limits, each answered with an OpenAI-style JSON error: a body over ``max_body_bytes`` gets 413;
``max_tokens`` over the cap, ``n`` other than 1 or a malformed body 400; more than
``concurrency`` requests in flight 429 with ``Retry-After``; an upstream that fails, or a
request that runs past ``timeout_s``, 502 -- never a hang. Nothing is logged per request; the
upstream key is only ever in the upstream target, and its error messages are scrubbed there.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from safeforge.records import Completion, Expected, Message, Probe
from safeforge.rerank import Ranking
from safeforge.serve.config import ServeConfig
from safeforge.serve.guard import Guard, UpstreamError
from safeforge.serve.metrics import Metrics

RETRY_AFTER_S = 1
_ROLES = frozenset({"system", "user", "assistant"})
_PIECE = re.compile(r"\s*\S+\s*|\s+")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
GUARD: web.AppKey[Guard] = web.AppKey("guard", Guard)
METRICS: web.AppKey[Metrics] = web.AppKey("metrics", Metrics)


class BadRequest(Exception):
    """A client error: answered 400 with this message."""


def error(status: int, message: str, code: str, headers: dict[str, str] | None = None) -> web.Response:
    kind = "invalid_request_error" if status < 500 else "upstream_error"
    body = {"error": {"message": message, "type": kind, "code": code}}
    return web.json_response(body, status=status, headers=headers)


def build_app(guard: Guard, token: str | None) -> web.Application:
    """The aiohttp application for ``guard`` (``token``: the bearer token clients must send)."""
    cfg = guard.cfg

    expected = f"Bearer {token}".encode()

    @web.middleware
    async def auth(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path != "/health":
            sent = request.headers.get("Authorization", "").encode()
            if not hmac.compare_digest(sent, expected):
                return error(401, "missing or wrong bearer token", "invalid_api_key")
        return await handler(request)

    # without a token there is nothing to check: no middleware layer on every request
    middlewares = [auth] if token is not None else []
    app = web.Application(middlewares=middlewares, client_max_size=cfg.max_body_bytes)
    app[GUARD] = guard
    app[METRICS] = Metrics()
    app.router.add_post("/v1/chat/completions", _chat)
    app.router.add_get("/v1/models", _models)
    app.router.add_get("/health", _health)
    app.router.add_get("/metrics", _metrics)
    return app


async def _health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def _metrics(request: web.Request) -> web.Response:
    body = request.app[METRICS].render().encode()
    return web.Response(body=body, headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"})


def model_name(guard: Guard) -> str:
    """What ``/v1/models`` lists: the upstream's model (``openai:MODEL`` -> ``MODEL``)."""
    return guard.upstream.id.partition(":")[2] or guard.upstream.id


async def _models(request: web.Request) -> web.Response:
    name = model_name(request.app[GUARD])
    data = [{"id": name, "object": "model", "created": 0, "owned_by": "safeforge"}]
    return web.json_response({"object": "list", "data": data})


async def _chat(request: web.Request) -> web.StreamResponse:
    guard, metrics = request.app[GUARD], request.app[METRICS]
    if metrics.in_flight >= guard.cfg.concurrency:
        metrics.requests["429"] += 1
        headers = {"Retry-After": str(RETRY_AFTER_S)}
        return error(429, f"the guard is serving {guard.cfg.concurrency} requests; retry", "busy", headers)
    metrics.in_flight += 1
    started = time.perf_counter()
    try:
        response = await _answer(request, guard, metrics)
    finally:
        metrics.in_flight -= 1
    metrics.requests[str(response.status)] += 1
    metrics.latency.observe(time.perf_counter() - started)
    return response


async def _answer(request: web.Request, guard: Guard, metrics: Metrics) -> web.StreamResponse:
    cfg = guard.cfg
    if (request.content_length or 0) > cfg.max_body_bytes:
        return error(413, f"request body over {cfg.max_body_bytes} bytes", "request_too_large")
    try:
        body = json.loads(await request.read())
        probe, max_tokens, stream = parse_chat(body, cfg)
    except web.HTTPRequestEntityTooLarge:
        return error(413, f"request body over {cfg.max_body_bytes} bytes", "request_too_large")
    except (ValueError, UnicodeDecodeError):
        return error(400, "request body must be a JSON object", "invalid_request")
    except BadRequest as exc:
        return error(400, str(exc), "invalid_request")
    try:
        async with asyncio.timeout(cfg.timeout_s):  # unlike wait_for, no extra task per request
            chosen, ranking = await guard.decide_async(probe, cfg.generation(max_tokens))
    except TimeoutError:
        metrics.upstream_errors += 1
        return error(502, f"no answer within {cfg.timeout_s:g} s", "upstream_timeout")
    except UpstreamError as exc:
        metrics.upstream_errors += 1
        code = "upstream_timeout" if exc.timed_out else "upstream_error"
        return error(502, f"upstream failed: {exc}"[:500], code)
    metrics.candidates += len(ranking.scores)
    metrics.overridden += ranking.choice != 0
    if ranking.score is not None:
        metrics.score.observe(ranking.score)
    name = str(body.get("model") or model_name(guard))
    answer = completion_body(probe.id, name, chosen, ranking)
    if stream:
        return await _stream(request, answer)
    return web.json_response(answer)


def _content(value: Any) -> str:
    """A message's text: a string, or OpenAI's list of ``{"type": "text", "text": ...}`` parts."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(p, dict) and p.get("type") == "text" for p in value):
        return "".join(str(p.get("text", "")) for p in value)
    raise BadRequest("message content must be a string or a list of text parts")


def parse_chat(body: Any, cfg: ServeConfig) -> tuple[Probe, int | None, bool]:
    """The probe, the client's ``max_tokens`` (None: the default) and ``stream`` of a request."""
    if not isinstance(body, dict):
        raise BadRequest("request body must be a JSON object")
    raw = body.get("messages")
    if not isinstance(raw, list) or not raw:
        raise BadRequest("'messages' must be a non-empty list")
    messages = []
    for m in raw:
        if not isinstance(m, dict) or m.get("role") not in _ROLES:
            raise BadRequest("each message needs a role (system, user or assistant) and content")
        messages.append(Message(role=m["role"], content=_content(m.get("content"))))
    max_tokens = body.get("max_completion_tokens", body.get("max_tokens"))
    if max_tokens is not None and (not isinstance(max_tokens, int) or isinstance(max_tokens, bool)):
        raise BadRequest("max_tokens must be an integer")
    if max_tokens is not None and not 1 <= max_tokens <= cfg.max_tokens:
        raise BadRequest(f"max_tokens must be between 1 and {cfg.max_tokens} (this guard's limit)")
    if body.get("n", 1) != 1:
        raise BadRequest("the guard returns one answer per request: n must be 1")
    stream = body.get("stream", False)
    if not isinstance(stream, bool):
        raise BadRequest("stream must be true or false")
    rid = f"serve-{uuid.uuid4().hex[:20]}"
    probe = Probe(
        id=rid,
        intent_id=rid,
        family="serve",
        group_id=rid,
        messages=tuple(messages),
        expected=Expected.COMPLY,
    )
    return probe, max_tokens, stream


def completion_body(rid: str, model: str, chosen: Completion, ranking: Ranking) -> dict[str, Any]:
    """An OpenAI ``chat.completion`` for the chosen candidate, plus a ``safeforge`` field saying
    how it was chosen (OpenAI clients ignore unknown fields)."""
    usage = chosen.usage
    prompt, completion = usage.prompt_tokens or 0, usage.completion_tokens or 0
    return {
        "id": f"chatcmpl-{rid}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": chosen.text or ""},
                "finish_reason": chosen.finish_reason or "stop",
            }
        ],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        },
        "safeforge": {
            "candidates": len(ranking.scores),
            "chosen": ranking.choice,
            "scores": list(ranking.scores),
            "critic": ranking.critic,
        },
    }


async def _stream(request: web.Request, answer: dict[str, Any]) -> web.StreamResponse:
    """The chosen answer as ``chat.completion.chunk`` events (role, text pieces, finish, DONE)."""
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
    await response.prepare(request)
    choice = answer["choices"][0]
    head = {k: answer[k] for k in ("id", "created", "model")} | {"object": "chat.completion.chunk"}

    async def send(delta: dict[str, str], finish: str | None = None) -> None:
        chunk = {**head, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
        await response.write(f"data: {json.dumps(chunk)}\n\n".encode())

    await send({"role": "assistant", "content": ""})
    for piece in _PIECE.findall(choice["message"]["content"]):
        await send({"content": piece})
    await send({}, choice["finish_reason"])
    await response.write(b"data: [DONE]\n\n")
    await response.write_eof()
    return response
