"""What the audit scores with: a reward model, any judge, or a reward endpoint. Spec forms:

==========================  ===================================================================
``hf:PATH``                 a local Hugging Face sequence-classification reward model (the
                            ``reward_model`` judge's loader: safetensors only, chat template
                            when the tokenizer has one); long conversations are cut from the
                            left, so the compared last turn always survives truncation
``judge:NAME[?k=v&...]``    a registered quality or critic judge (``critic``, the ``llm`` judge
                            with ``task=quality``, ``reward_model?model=PATH``): its verdict
                            score; the judge sees the conversation only (probes are marked
                            ``expected=comply``: a judge that reads the label is no scorer)
``openai:MODEL``            an OpenAI-compatible server's reward endpoint, vLLM's pooling API
                            (``vllm serve RM --runner pooling``): ``POST {root}/pooling`` with
                            ``{"model", "messages"}``; the score is the pooled output (the last
                            value for a per-token reward). ``--base-url`` is required (a
                            trailing ``/v1`` is dropped); the key comes from ``--api-key-env``
==========================  ===================================================================

A conversation the scorer cannot rate (an unscorable verdict, a failed request) scores
``None`` and is counted apart, never as a preference.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from typing import Any, Protocol

import aiohttp

from safeforge.audit.records import Chat
from safeforge.errors import SafeforgeError
from safeforge.records import Attempt, Completion, Expected, Label, Probe, Task

RETRIES = 3


class Scorer(Protocol):
    """Rates whole conversations; higher means preferred. Never raises for one bad item."""

    name: str

    async def score_async(self, chats: Sequence[Chat]) -> list[float | None]: ...


class HFScorer:
    """A local reward model (``hf:PATH``)."""

    def __init__(self, path: str, *, batch_size: int = 8, max_tokens: int = 512) -> None:
        from safeforge.judges.reward_model import RewardModelJudge

        self.name = f"hf:{path}"
        self._judge = RewardModelJudge(model=path, batch_size=batch_size, max_tokens=max_tokens)
        self._judge.tokenizer.truncation_side = "left"

    async def score_async(self, chats: Sequence[Chat]) -> list[float | None]:
        return list(self._judge.chat_scores(chats))


class JudgeScorer:
    """A quality or critic judge (``judge:SPEC``): tasks whose score means "a better response"."""

    def __init__(self, spec: str) -> None:
        from safeforge.judges import create_judge

        self.name = f"judge:{spec}"
        self._judge = create_judge(spec)
        if self._judge.task not in (Task.QUALITY, Task.CRITIC):
            raise SafeforgeError(
                f"judge {self._judge.name!r} answers the {self._judge.task.value!r} task, whose score is a "
                "label's confidence; a scorer needs a quality or critic judge (higher = better response)"
            )

    async def score_async(self, chats: Sequence[Chat]) -> list[float | None]:
        attempts = []
        for i, chat in enumerate(chats):
            pid = f"rm-audit-{i}"
            probe = Probe(
                id=pid,
                intent_id=pid,
                family="rm_audit",
                group_id=pid,
                messages=chat[:-1],
                expected=Expected.COMPLY,
            )
            attempts.append(
                Attempt(probe=probe, target="rm-audit", completion=Completion(text=chat[-1].content))
            )
        verdicts = await self._judge.judge_async(attempts)
        return [None if v.label == Label.UNSCORABLE else v.score for v in verdicts]


class EndpointScorer:
    """vLLM's pooling API for reward models (``openai:MODEL`` with ``--base-url``)."""

    def __init__(
        self, model: str, base_url: str, *, api_key_env: str = "OPENAI_API_KEY", concurrency: int = 8
    ) -> None:
        root = base_url.rstrip("/").removesuffix("/v1")
        if not root.startswith(("http://", "https://")):
            raise SafeforgeError("--base-url must start with http:// or https://")
        self.name = f"openai:{model}"
        self.model, self.url = model, f"{root}/pooling"
        self._key = os.environ.get(api_key_env) or None
        self._concurrency = concurrency

    def _scrub(self, text: str) -> str:
        return text.replace(self._key, "***") if self._key else text

    async def _one_async(self, session: aiohttp.ClientSession, chat: Chat) -> float | str:
        """The score, or the error (as text) after the retries."""
        payload = {"model": self.model, "messages": [{"role": m.role, "content": m.content} for m in chat]}
        error = ""
        for attempt in range(RETRIES):
            try:
                async with session.post(self.url, json=payload) as resp:
                    if resp.status in (401, 403):
                        raise SafeforgeError(
                            f"{self.url} refused the request ({resp.status}): check the API key"
                        )
                    if resp.status == 200:
                        return _pooled(await resp.json())
                    error = f"HTTP {resp.status}"
            except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
                error = f"{type(exc).__name__}: {exc}"
            await asyncio.sleep(0.2 * 2**attempt)
        return self._scrub(error)

    async def score_async(self, chats: Sequence[Chat]) -> list[float | None]:
        headers = {"Authorization": f"Bearer {self._key}"} if self._key else {}
        semaphore = asyncio.Semaphore(self._concurrency)
        timeout = aiohttp.ClientTimeout(total=120)
        async with aiohttp.ClientSession(headers=headers, timeout=timeout) as session:

            async def bounded(chat: Chat) -> float | str:
                async with semaphore:
                    return await self._one_async(session, chat)

            results = await asyncio.gather(*(bounded(c) for c in chats))
        if results and all(isinstance(r, str) for r in results):
            raise SafeforgeError(f"no score from {self.url}: {results[0]}")
        return [r if isinstance(r, float) else None for r in results]


def _pooled(body: Any) -> float:
    """The score in a pooling response: ``data[0].data`` as a number, or the last value of a list."""
    try:
        value = body["data"][0]["data"]
        while isinstance(value, list):
            value = value[-1]
        return float(value)
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise ValueError(f"malformed pooling response ({exc})") from exc


def create_scorer(spec: str, *, base_url: str | None = None, api_key_env: str = "OPENAI_API_KEY") -> Scorer:
    """A scorer from ``hf:PATH``, ``judge:SPEC`` or ``openai:MODEL`` (see the module docstring)."""
    kind, sep, rest = spec.partition(":")
    if not sep or not rest:
        raise SafeforgeError(f"--reward-model {spec!r}: use hf:PATH, judge:NAME or openai:MODEL")
    if kind == "hf":
        return HFScorer(rest)
    if kind == "judge":
        return JudgeScorer(rest)
    if kind == "openai":
        if base_url is None:
            raise SafeforgeError("--reward-model openai:MODEL needs --base-url (the server's pooling API)")
        return EndpointScorer(rest, base_url, api_key_env=api_key_env)
    raise SafeforgeError(f"--reward-model {spec!r}: unknown kind {kind!r}; use hf:, judge: or openai:")
