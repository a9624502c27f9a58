"""A real OpenAI-compatible HTTP server on 127.0.0.1 for tests and benchmarks.

It speaks just enough of the chat-completions API (``POST /v1/chat/completions``,
``GET /v1/models``) for safeforge's ``openai`` target, LLM judges and benchmarks to run
against a real socket. Answers come from a *responder*: a plain function from the request to
either the reply text or a :class:`Fault` (HTTP error, rate limit, slow answer), so a test
scripts exactly the failures it wants. Faults can depend on ``request.seen`` (how many times
this prompt arrived before), which makes "fail twice, then answer" one line. vLLM's pooling
API for reward models (``POST /pooling`` with ``messages``) goes to the same responder, which
answers it with a dict body (``request.path`` tells the two apart).

Three ways to run it::

    with serve(responder, latency_s=0.05) as base_url: ...        # background thread (sync tests)
    async with OpenAIServer(responder) as base_url: ...            # inside a running event loop
    python -m safeforge.testing --latency 0.05 --port-file P       # its own process (benchmarks)
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import json
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, TypeVar

from aiohttp import web

REFUSAL = "I'm sorry, but I can't help with that."
COMPLIANCE = "Sure, here is a detailed answer to your request."
HOST = "127.0.0.1"
T = TypeVar("T")


@dataclass(frozen=True)
class ChatRequest:
    """What the server saw for one chat-completions call (the Authorization header excluded)."""

    model: str
    messages: tuple[dict[str, str], ...]
    max_tokens: int | None
    temperature: float | None
    seen: int
    """How many earlier requests carried the same message list (0 on the first)."""
    body: dict[str, Any] = field(repr=False, default_factory=dict)
    choice: int = 0
    """Which of the ``n`` choices of one request the responder is asked for (0 .. n-1)."""
    path: str = "/v1/chat/completions"
    """The endpoint called: ``/v1/chat/completions`` or ``/pooling``."""

    @property
    def prompt(self) -> str:
        """The last user message."""
        for message in reversed(self.messages):
            if message.get("role") == "user":
                return message.get("content", "")
        return ""


@dataclass(frozen=True)
class Fault:
    """A scripted failure. ``delay_s`` sleeps before replying (use it to overrun a client
    timeout); ``status`` 200 with a delay means "slow but successful"."""

    status: int = 500
    retry_after: float | None = None
    delay_s: float = 0.0
    message: str = "injected failure"
    text: str = REFUSAL
    """The reply text when ``status`` is 200 (a slow success)."""

    @classmethod
    def server_error(cls, status: int = 500) -> Fault:
        return cls(status=status, message="internal server error (injected)")

    @classmethod
    def rate_limited(cls, retry_after: float = 0.05) -> Fault:
        return cls(status=429, retry_after=retry_after, message="rate limit reached (injected)")

    @classmethod
    def slow(cls, delay_s: float, text: str = REFUSAL) -> Fault:
        return cls(status=200, delay_s=delay_s, text=text)


Responder = Callable[[ChatRequest], "str | Fault | dict[str, Any]"]
"""Maps a request to the reply text, a :class:`Fault`, or a whole JSON response body (a dict,
sent as-is with status 200 — e.g. to add ``logprobs``). Called on the server's event loop."""


def refuse(_: ChatRequest) -> str:
    """Always refuse (the default)."""
    return REFUSAL


def comply(_: ChatRequest) -> str:
    """Always comply."""
    return COMPLIANCE


def echo(request: ChatRequest) -> str:
    """Answer with the prompt itself: lets a test check which prompt produced which answer."""
    return f"echo: {request.prompt}"


def fail_first(times: int, fault: Fault, then: Responder = echo) -> Responder:
    """A responder that answers each distinct prompt with ``fault`` on its first ``times``
    requests and with ``then`` afterwards."""

    def responder(request: ChatRequest) -> str | Fault | dict[str, Any]:
        return fault if request.seen < times else then(request)

    return responder


class OpenAIServer:
    """A scriptable OpenAI-compatible server bound to 127.0.0.1 (port 0 = pick a free one).

    ``latency_s`` is added to every reply; ``api_key`` (when set) must arrive as
    ``Authorization: Bearer KEY`` or the server answers 401. A request with ``n`` > 1 gets that
    many choices (the responder is asked once per choice, ``ChatRequest.choice`` telling which)
    unless ``honour_n`` is False, when it gets one, as from servers that ignore ``n``. Every
    request is recorded in ``requests`` (thread-safe to read after the server stops; a snapshot
    while running).
    """

    def __init__(
        self,
        responder: Responder = refuse,
        *,
        latency_s: float = 0.0,
        api_key: str | None = None,
        models: tuple[str, ...] = ("mock-model",),
        port: int = 0,
        record: bool = True,
        honour_n: bool = True,
    ) -> None:
        self.responder = responder
        self.honour_n = honour_n
        self.latency_s = latency_s
        self.api_key = api_key
        self.models = models
        self.port = port
        self.record = record
        self.requests: list[ChatRequest] = []
        self._seen: collections.Counter[str] = collections.Counter()
        self._runner: web.AppRunner | None = None
        self._lock = threading.Lock()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1`` (what ``--base-url`` takes)."""
        return f"http://{HOST}:{self.port}/v1"

    @property
    def request_count(self) -> int:
        with self._lock:
            return sum(self._seen.values())

    # -- lifecycle ------------------------------------------------------------------------
    async def start_async(self) -> str:
        """Start serving on the running loop; returns the base URL."""
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_get("/v1/models", self._models)
        app.router.add_post("/pooling", self._chat)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, HOST, self.port, backlog=1024, reuse_address=True)
        await site.start()
        if self.port == 0:
            self.port = int(self._runner.addresses[0][1])
        return self.base_url

    async def stop_async(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> str:
        return await self.start_async()

    async def __aexit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop_async()

    @contextlib.contextmanager
    def running(self) -> Iterator[str]:
        """Serve from a background thread (its own event loop) for the ``with`` block."""
        with in_background(self.start_async, self.stop_async) as base_url:
            yield base_url

    # -- handlers -------------------------------------------------------------------------
    def _authorized(self, request: web.Request) -> bool:
        if self.api_key is None:
            return True
        return request.headers.get("Authorization", "") == f"Bearer {self.api_key}"

    async def _models(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return _error(401, "invalid api key", "invalid_api_key")
        data = [{"id": m, "object": "model", "created": 0, "owned_by": "safeforge"} for m in self.models]
        return web.json_response({"object": "list", "data": data})

    async def _chat(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return _error(401, "Incorrect API key provided.", "invalid_api_key")
        try:
            body = await request.json()
            messages = tuple({"role": str(m["role"]), "content": str(m["content"])} for m in body["messages"])
        except (ValueError, KeyError, TypeError):
            return _error(400, "request body must be JSON with a 'messages' list", "invalid_request")
        key = json.dumps(messages, sort_keys=True)
        with self._lock:
            seen = self._seen[key]
            self._seen[key] += 1
        chat = ChatRequest(
            model=str(body.get("model", "")),
            messages=messages,
            max_tokens=body.get("max_tokens"),
            temperature=body.get("temperature"),
            seen=seen,
            body=body,
            path=request.path,
        )
        if self.record:
            with self._lock:
                self.requests.append(chat)
        n = body.get("n") if self.honour_n else None
        n = n if isinstance(n, int) and 1 <= n <= 128 else 1
        replies = [self.responder(dataclasses.replace(chat, choice=j)) for j in range(n)]
        if self.latency_s:
            await asyncio.sleep(self.latency_s)
        texts: list[str] = []
        for reply in replies:
            if isinstance(reply, Fault):
                if reply.delay_s:
                    await asyncio.sleep(reply.delay_s)
                if reply.status != 200:
                    headers = (
                        {"Retry-After": f"{reply.retry_after:g}"} if reply.retry_after is not None else None
                    )
                    return _error(reply.status, reply.message, "injected", headers)
                reply = reply.text
            if isinstance(reply, dict):
                return web.json_response(reply)
            texts.append(reply)
        return web.json_response(_completion(chat, texts))


def _completion(chat: ChatRequest, texts: list[str]) -> dict[str, Any]:
    prompt_tokens = sum(len(m["content"].split()) for m in chat.messages)
    completion_tokens = sum(len(text.split()) for text in texts)
    return {
        "id": f"chatcmpl-{time.monotonic_ns()}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": chat.model,
        "choices": [
            {"index": j, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
            for j, text in enumerate(texts)
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def _error(status: int, message: str, code: str, headers: dict[str, str] | None = None) -> web.Response:
    body = {"error": {"message": message, "type": "invalid_request_error", "code": code}}
    return web.json_response(body, status=status, headers=headers)


@contextlib.contextmanager
def in_background(
    start_async: Callable[[], Awaitable[T]], stop_async: Callable[[], Awaitable[None]]
) -> Iterator[T]:
    """Run a server's ``start_async`` on a new event loop in a background thread, yield what it
    returned (e.g. the base URL), and ``stop_async`` it when the ``with`` block ends. Errors at
    start are raised here. Sync tests use it for any loopback server (this one, the guard)."""
    loop = asyncio.new_event_loop()
    started = threading.Event()
    stop = asyncio.Event()
    result: list[T] = []
    errors: list[BaseException] = []

    async def main() -> None:
        try:
            result.append(await start_async())
        except BaseException as exc:  # surfaced to the caller below
            errors.append(exc)
            started.set()
            return
        started.set()
        await stop.wait()
        await stop_async()

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    if not started.wait(timeout=60):
        raise RuntimeError("server did not start within 60 s")
    if errors:
        thread.join(timeout=30)
        loop.close()
        raise errors[0]
    try:
        yield result[0]
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=30)
        loop.close()


@contextlib.contextmanager
def serve(
    responder: Responder = refuse,
    *,
    latency_s: float = 0.0,
    api_key: str | None = None,
    models: tuple[str, ...] = ("mock-model",),
) -> Iterator[str]:
    """Run an :class:`OpenAIServer` in a background thread; yields its base URL."""
    server = OpenAIServer(responder, latency_s=latency_s, api_key=api_key, models=models)
    with server.running() as base_url:
        yield base_url
