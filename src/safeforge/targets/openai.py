"""``openai:MODEL`` — any OpenAI-compatible chat-completions endpoint (OpenAI, vLLM, Ollama,
llama.cpp server, hosted APIs).

Built on aiohttp: on loopback it sustains several thousand requests per second where an
httpx async client stalls in the low hundreds, and the HTTP client is the bottleneck of a
scan. One ``asyncio.Semaphore`` bounds concurrency; transient failures (429, 5xx, timeouts,
dropped connections) are retried with exponential backoff and jitter, honouring
``Retry-After``. Several base URLs (replicas of one deployment) share that one limit: each
request goes to the URL with the fewest requests in flight, and a failed request is retried
on a URL it has not failed on yet before any backoff. Failures that doom the whole run
(401/403, or an endpoint that cannot be reached or has no such model before anything
succeeded; with several URLs, none reachable) raise ``SafeforgeError`` at once instead
of producing thousands of identical per-probe errors; so does a long streak of probes
failing after all retries (the endpoint died mid-run).

``generate_n_async`` draws several candidates per probe for best-of-N reranking: one request
with ``n`` where the endpoint honours it, else that many requests in parallel.
``sample_logprobs_async`` draws answers with their tokens' logprobs, for the uncertainty
estimators (``safeforge.judges.uncertainty``).

The API key comes from the environment variable named by ``api_key_env`` and is never
logged, stored or echoed in an error message.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import os
import random
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from safeforge.errors import SafeforgeError
from safeforge.records import Completion, Probe, Usage
from safeforge.targets._base import Generation, TargetOptions

DEFAULT_BASE_URL = "https://api.openai.com/v1"
BACKOFF_BASE_S = 0.5
"""First retry waits about this long; each further retry doubles it (with jitter)."""
BACKOFF_CAP_S = 30.0
RETRY_AFTER_CAP_S = 120.0
FAILURE_STREAK_MIN = 50
"""This many probes in a row failing after all retries (or twice the concurrency, if more)
means the endpoint is down, not one prompt being unlucky: the run stops instead of filling
the store with identical errors."""
_RETRYABLE = frozenset({408, 409, 425, 429, 500, 502, 503, 504, 520, 522, 524, 529})
_FATAL = frozenset({401, 403})


class RateLimiter:
    """Spaces request starts at least ``60 / rpm`` seconds apart (a smooth RPM cap)."""

    def __init__(self, requests_per_minute: float) -> None:
        self.interval = 60.0 / requests_per_minute
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def wait_async(self) -> None:
        async with self._lock:
            now = time.monotonic()
            delay = self._next - now
            self._next = max(now, self._next) + self.interval
        if delay > 0:
            await asyncio.sleep(delay)


class _Retry(Exception):
    """A transient failure: retry after ``delay`` (None = use backoff)."""

    def __init__(self, error: str, delay: float | None = None) -> None:
        super().__init__(error)
        self.error = error
        self.delay = delay


class OpenAITarget:
    """Chat completions over HTTP; one request per probe (``batch_size`` 1)."""

    batch_size = 1

    def __init__(self, model: str, options: TargetOptions, *, backoff_base_s: float | None = None) -> None:
        if not model:
            raise SafeforgeError("openai target needs a model name: openai:MODEL")
        self.model = model
        self.id = f"openai:{model}"
        self.options = options
        given = (options.base_url,) if isinstance(options.base_url, str) else options.base_url
        bases = [b.rstrip("/") for b in given or (DEFAULT_BASE_URL,)]
        for base in bases:
            if urlsplit(base).scheme not in {"http", "https"}:
                raise SafeforgeError(
                    f"--base-url must start with http:// or https:// (got {_safe_url(base)!r})"
                )
        self.urls = tuple(f"{base}/chat/completions" for base in bases)
        self._shown = [_safe_url(url) for url in self.urls]
        self._in_flight = [0] * len(self.urls)
        self._sent = [0] * len(self.urls)
        self._unreachable: set[int] = set()
        self._key = os.environ.get(options.api_key_env) or None
        parts = [urlsplit(base) for base in bases]
        self._secrets = [s for s in (self._key, *(p.password for p in parts), *(p.query for p in parts)) if s]
        if self._key is None and options.base_url is None:
            raise SafeforgeError(
                f"no API key: set the environment variable {options.api_key_env} "
                "(or point --base-url at a server that needs none)"
            )
        self._backoff = BACKOFF_BASE_S if backoff_base_s is None else backoff_base_s
        self._semaphore = asyncio.Semaphore(options.concurrency)
        self._rate = RateLimiter(options.requests_per_minute) if options.requests_per_minute else None
        self._session: aiohttp.ClientSession | None = None
        self._any_success = False
        self._failure_streak = 0
        self._streak_limit = max(FAILURE_STREAK_MIN, 2 * options.concurrency)
        self._payload_base = _generation_payload(model, options.generation)
        self._honours_n: bool | None = None
        """Whether the endpoint returns ``n`` choices when asked (None: not yet known)."""

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            headers = {"Authorization": f"Bearer {self._key}"} if self._key else {}
            connector = aiohttp.TCPConnector(limit=self.options.concurrency, ttl_dns_cache=300)
            self._session = aiohttp.ClientSession(
                connector=connector,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=self.options.timeout_s),
                raise_for_status=False,
            )
        return self._session

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def generate_async(self, probes: Sequence[Probe]) -> list[Completion]:
        if len(probes) == 1:  # the runner's usual call: skip gather's task
            return [(await self._send_async(self._payload(probes[0], None)))[0]]
        answers = await asyncio.gather(*(self._send_async(self._payload(p, None)) for p in probes))
        return [a[0] for a in answers]

    async def generate_n_async(
        self, probes: Sequence[Probe], n: int, generation: Generation | None = None
    ) -> list[list[Completion]]:
        """``n`` candidates per probe (best-of-N): one request with ``n`` set where the endpoint
        honours it (OpenAI, vLLM), else ``n`` requests in parallel -- learnt from the first
        answer that comes back with fewer choices than asked for. ``generation`` overrides the
        target's sampling settings for these calls (the guard server passes a client's
        ``max_tokens``); with a seed, the parallel requests use ``seed``, ``seed + 1``, …"""
        if len(probes) == 1:  # the guard's usual call: skip gather's task
            return [await self._candidates_async(probes[0], n, generation)]
        return list(await asyncio.gather(*(self._candidates_async(p, n, generation) for p in probes)))

    async def _candidates_async(
        self, probe: Probe, n: int, generation: Generation | None
    ) -> list[Completion]:
        if n == 1:
            return await self._send_async(self._payload(probe, generation))
        got: list[Completion] = []
        if self._honours_n is not False:
            got = await self._send_async({**self._payload(probe, generation), "n": n})
            if got[0].error is not None:
                return got * n
            self._honours_n = len(got) >= n
        gen = generation or self.options.generation
        seeds = [None if gen.seed is None else gen.seed + j for j in range(len(got), n)]
        rest = await asyncio.gather(
            *(self._send_async(self._payload(probe, gen.model_copy(update={"seed": s}))) for s in seeds)
        )
        return [*got, *(r[0] for r in rest)][:n]

    async def sample_logprobs_async(
        self, probe: Probe, n: int, top_logprobs: int = 5
    ) -> list[tuple[Completion, list[list[float]] | None]]:
        """``n`` sampled answers to ``probe``, each with its tokens' logprobs as one
        ``[chosen, *top_logprobs]`` list per token (``None`` where the endpoint sent none). One
        request per answer, seeded ``seed``, ``seed + 1``, … (endpoints that ignore ``n`` work too)."""
        gen = self.options.generation

        async def one(seed: int | None) -> tuple[Completion, list[list[float]] | None]:
            raw: list[Any] = []
            payload = self._payload(probe, gen.model_copy(update={"seed": seed}))
            completion = (
                await self._send_async({**payload, "logprobs": True, "top_logprobs": top_logprobs}, raw)
            )[0]
            return completion, _token_logprobs(raw[0]) if raw else None

        seeds = [None if gen.seed is None else gen.seed + j for j in range(n)]
        return list(await asyncio.gather(*(one(s) for s in seeds)))

    def _payload(self, probe: Probe, generation: Generation | None) -> dict[str, Any]:
        base = self._payload_base if generation is None else _generation_payload(self.model, generation)
        return {**base, "messages": [{"role": m.role, "content": m.content} for m in probe.messages]}

    async def _send_async(self, payload: dict[str, Any], raw: list[Any] | None = None) -> list[Completion]:
        """POST ``payload`` with retries: every choice of the answer, or one errored Completion
        (``raw``, when given, receives the JSON body of the answer)."""
        async with self._semaphore:
            error = ""
            failed_on: set[int] = set()
            for attempt in range(self.options.max_retries + 1):
                if self._rate is not None:
                    await self._rate.wait_async()
                url = self._pick(failed_on)
                self._in_flight[url] += 1
                start = time.perf_counter()
                try:
                    return await self._post_async(url, payload, attempt, start, raw)
                except _Retry as retry:
                    error = retry.error
                    failed_on.add(url)
                    if len(failed_on) == len(self.urls):  # every URL failed once: back off
                        failed_on.clear()
                        if attempt < self.options.max_retries:
                            await asyncio.sleep(self._delay(attempt, retry.delay))
                finally:
                    self._in_flight[url] -= 1
            self._failure_streak += 1
            if self._failure_streak >= self._streak_limit:
                raise SafeforgeError(
                    f"stopping: the last {self._failure_streak} probes all failed after retries "
                    f"(last error: {self._scrub(error)}); answers so far are saved, re-run to resume"
                )
            return [Completion(error=self._scrub(error), retries=self.options.max_retries)]

    def _pick(self, failed_on: set[int]) -> int:
        """Index of the URL with the fewest requests in flight (then the fewest sent) among
        those this request has not failed on."""
        index = min(
            (i for i in range(len(self.urls)) if i not in failed_on),
            key=lambda i: (self._in_flight[i], self._sent[i]),
        )
        self._sent[index] += 1
        return index

    async def _post_async(
        self, url: int, payload: dict[str, Any], attempt: int, start: float, raw: list[Any] | None = None
    ) -> list[Completion]:
        """One HTTP round trip to ``self.urls[url]``: the answer's choices (or one errored
        Completion), ``_Retry`` for transient failures, or ``SafeforgeError`` for failures that
        doom the run."""
        shown = self._shown[url]
        try:
            async with self._client().post(self.urls[url], json=payload) as resp:
                if resp.status == 200:
                    data = await resp.json(content_type=None)
                    if raw is not None:
                        raw.append(data)
                    self._any_success = True
                    self._failure_streak = 0
                    return _parse(data, time.perf_counter() - start, attempt)
                body = (await resp.text(errors="replace"))[:300]
                retry_after = _retry_after(resp.headers.get("Retry-After"))
        except TimeoutError:
            raise _Retry(f"timed out after {self.options.timeout_s:g} s") from None
        except aiohttp.ClientConnectorError as exc:
            self._unreachable.add(url)
            if not self._any_success and len(self._unreachable) == len(self.urls):
                raise SafeforgeError(
                    f"cannot reach {shown}: {exc.os_error.strerror or type(exc.os_error).__name__}"
                    "; is the server running and --base-url right?"
                ) from None
            raise _Retry(f"connection failed: {type(exc).__name__}") from None
        except aiohttp.ClientResponseError as exc:  # its str() carries the request URL: leave it out
            raise _Retry(f"{type(exc).__name__}: HTTP {exc.status} {exc.message[:200]}") from None
        except (aiohttp.ClientError, ValueError) as exc:
            raise _Retry(f"{type(exc).__name__}: {self._scrub(str(exc))[:200]}") from None
        detail = f"HTTP {resp.status} from {shown}: {_error_message(body)}"
        if resp.status in _FATAL:
            raise SafeforgeError(f"{self._scrub(detail)}; check the API key in ${self.options.api_key_env}")
        if resp.status == 404 and not self._any_success:
            raise SafeforgeError(f"{self._scrub(detail)}; check --base-url and the model name")
        if resp.status in _RETRYABLE:
            raise _Retry(detail, retry_after)
        return [Completion(error=self._scrub(detail), retries=attempt)]

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, RETRY_AFTER_CAP_S)
        ceiling = min(BACKOFF_CAP_S, self._backoff * 2**attempt)
        return random.uniform(ceiling / 2, ceiling)

    def _scrub(self, text: str) -> str:
        """Remove the API key and any URL credentials from text that may have echoed them."""
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text


def _parse(data: Any, latency_s: float, retries: int) -> list[Completion]:
    """Every choice of a chat-completions answer (usage, which covers them all, on the first)."""
    try:
        choices = [(c.get("finish_reason"), c["message"].get("content")) for c in data["choices"]]
        usage = data.get("usage") or {}
    except (KeyError, TypeError, AttributeError):
        choices = []
    if not choices:
        return [Completion(error="malformed response: no choices[0].message", retries=retries)]
    total = Usage(prompt_tokens=usage.get("prompt_tokens"), completion_tokens=usage.get("completion_tokens"))
    return [
        Completion(
            text=text if text is not None else "",
            finish_reason=finish,
            latency_s=latency_s,
            retries=retries,
            usage=total if i == 0 else Usage(prompt_tokens=total.prompt_tokens),
        )
        for i, (finish, text) in enumerate(choices)
    ]


def _token_logprobs(data: Any) -> list[list[float]] | None:
    """``[chosen, *top]`` logprobs per token of the first choice (OpenAI's ``logprobs.content``)."""
    try:
        content = data["choices"][0]["logprobs"]["content"]
        return [
            [float(t["logprob"]), *(float(x["logprob"]) for x in t.get("top_logprobs") or ())]
            for t in content
        ]
    except (KeyError, TypeError, IndexError, ValueError):
        return None


def _generation_payload(model: str, gen: Generation) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "model": model,
        "max_tokens": gen.max_new_tokens,
        "temperature": gen.temperature,
        "top_p": gen.top_p,
    }
    if gen.seed is not None:
        payload["seed"] = gen.seed
    return payload


def _retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _error_message(body: str) -> str:
    """The ``error.message`` of an OpenAI-style error body, else the (short) body text."""
    try:
        data = json.loads(body)
        message = data["error"]["message"] if isinstance(data["error"], dict) else data["error"]
        return str(message)[:200]
    except (ValueError, KeyError, TypeError):
        return body.strip()[:200] or "(empty body)"


def _safe_url(url: str) -> str:
    """``url`` without user info or query string (either may carry a token)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return f"{parts.scheme}://{host}{parts.path}"


def openai(rest: str, options: TargetOptions) -> OpenAITarget:
    """Factory for ``openai:MODEL``."""
    return OpenAITarget(rest, options)
