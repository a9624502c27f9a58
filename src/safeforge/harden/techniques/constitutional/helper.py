"""The helper: the model that critiques, revises and gives AI feedback, behind any target.

Constitutional AI needs a second voice. Here it is any safeforge target -- a real LLM behind an
OpenAI-compatible endpoint (``openai:MODEL`` + base URL), a local model (``hf:PATH``), or the
model being hardened itself (the original CAI setup). What it is asked, and how its answers are
read, is written once in this module:

- **critique**: the conversation, then the principle's critique request; the reply must start
  with ``Critique:``;
- **revision**: the same chat continued with the principle's revision request; the reply must
  start with ``Revision:`` followed by the rewritten response only;
- **choice**: the request, two responses labelled ``(A)`` and ``(B)``, and the principle's
  question. A local ``hf:`` helper is not asked to write anything: the log-probabilities of the
  two labels as the start of its answer give a soft preference (:mod:`safeforge.targets.scoring`).
  Any other helper's reply is parsed for the label.

A reply without its marker, an empty one, a failed request or an ambiguous choice reads as
``None``: the caller counts it and skips that item. Helper output is untrusted text: it is
parsed and stored as data, never executed.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from typing import Literal

from safeforge.harden.techniques.constitutional.constitution import Principle
from safeforge.records import Expected, Message, Probe
from safeforge.targets import Generation, Target, TargetOptions, create_target
from safeforge.targets.hf import HFTarget
from safeforge.targets.scoring import ChatScorer, normalise

Feedback = Literal["logprobs", "parsed"]
OPTIONS = ("(A)", "(B)")
_ROLE = {"system": "System", "user": "Person", "assistant": "Assistant"}
_MARKER = re.compile(r"^[\s>*_#\"']*(critique|revision)[\s*_]*:[\s*_]*", re.I | re.M)
_LABEL = re.compile(r"\(\s*([AB])\s*\)")
_LEADING = re.compile(
    r"^[\s\"'*]*(?:(?:the\s+)?(?:better\s+)?(?:answer|response|choice)\s+is\s*:?\s*)?\(?([AB])\b", re.I
)


def conversation(turns: Sequence[Message], response: str) -> str:
    """The exchange under review, as plain text the helper can read."""
    lines = [f"{_ROLE[m.role]}: {m.content}" for m in turns]
    return "\n".join([*lines, f"Assistant: {response}"])


def critique_chat(turns: Sequence[Message], response: str, principle: Principle) -> list[Message]:
    text = (
        "Here is a conversation between a person and an AI assistant.\n\n"
        f"{conversation(turns, response)}\n\n"
        f"Critique request: {principle.critique}\n"
        'Begin your reply with "Critique:".'
    )
    return [Message(role="user", content=text)]


def revision_chat(critique: list[Message], reply: str, principle: Principle) -> list[Message]:
    text = (
        f"Revision request: {principle.revision}\n"
        'Begin your reply with "Revision:" followed by the rewritten assistant response only.'
    )
    return [*critique, Message(role="assistant", content=reply), Message(role="user", content=text)]


def choice_chat(turns: Sequence[Message], first: str, second: str, principle: Principle) -> list[Message]:
    request = "\n".join(f"{_ROLE[m.role]}: {m.content}" for m in turns)
    text = (
        "Here is a request a person sent to an AI assistant.\n\n"
        f"{request}\n\n{principle.choice}\n\n"
        f"{OPTIONS[0]} {first}\n\n{OPTIONS[1]} {second}\n\n"
        f"Answer with {OPTIONS[0]} or {OPTIONS[1]} only."
    )
    return [Message(role="user", content=text)]


def parse_marked(text: str | None, mark: Literal["critique", "revision"]) -> str | None:
    """The text after the ``mark:`` marker, up to any other marker; ``None`` when absent or empty."""
    if not text:
        return None
    markers = list(_MARKER.finditer(text))
    for i, m in enumerate(markers):
        if m.group(1).lower() == mark:
            end = markers[i + 1].start() if i + 1 < len(markers) else len(text)
            body = text[m.end() : end].strip().strip("\"'").strip()
            return body or None
    return None


def parse_choice(text: str | None) -> int | None:
    """0 for (A), 1 for (B): the label the reply starts with, else the only label it names;
    ``None`` for no label or both."""
    if not text:
        return None
    lead = _LEADING.match(text)
    if lead:
        return "AB".index(lead.group(1).upper())
    named = {m.group(1).upper() for m in _LABEL.finditer(text)}
    return "AB".index(named.pop()) if len(named) == 1 else None


def _probe(key: str, messages: Sequence[Message]) -> Probe:
    return Probe(
        id=key,
        intent_id=key,
        family="cai_helper",
        expected=Expected.COMPLY,
        group_id=key,
        messages=tuple(messages),
    )


class Helper:
    """One open helper: ``reply_async`` for critiques and revisions, ``prefer_async`` for feedback."""

    def __init__(self, spec: str, target: Target, scorer: ChatScorer | None = None) -> None:
        self.spec, self.target, self.scorer = spec, target, scorer
        self.feedback: Feedback = "logprobs" if scorer is not None else "parsed"

    async def reply_async(self, keys: Sequence[str], chats: Sequence[Sequence[Message]]) -> list[str | None]:
        """The helper's reply to each chat (``None`` where the request failed)."""
        probes = [_probe(k, c) for k, c in zip(keys, chats, strict=True)]
        completions = await self.target.generate_async(probes)
        return [c.text if c.error is None else None for c in completions]

    async def prefer_async(
        self, keys: Sequence[str], chats: Sequence[Sequence[Message]]
    ) -> list[float | None]:
        """P(the response labelled (A) is the better one) for each choice chat; ``None`` when a
        parsed reply names no label (or both)."""
        if self.scorer is not None:
            turns = [[{"role": m.role, "content": m.content} for m in c] for c in chats]
            scores = await asyncio.to_thread(self.scorer.option_logprobs, turns, OPTIONS)
            return [normalise(s)[0] for s in scores]
        out: list[float | None] = []
        for text in await self.reply_async(keys, chats):
            picked = parse_choice(text)
            out.append(None if picked is None else 1.0 - picked)
        return out

    async def aclose(self) -> None:
        await self.target.aclose()


def open_helper(
    spec: str,
    *,
    base_url: str | None = None,
    api_key_env: str = "OPENAI_API_KEY",
    batch_size: int = 8,
    concurrency: int = 16,
    max_new_tokens: int = 256,
) -> Helper:
    """A :class:`Helper` over the target ``spec``, decoding greedily; an ``hf:`` helper also
    gets a scorer on the same weights, for label log-probabilities."""
    options = TargetOptions(
        base_url=base_url,
        api_key_env=api_key_env,
        batch_size=batch_size,
        concurrency=concurrency,
        generation=Generation(max_new_tokens=max_new_tokens, temperature=0.0),
    )
    target = create_target(spec, options)
    scorer = ChatScorer.from_target(target) if isinstance(target, HFTarget) else None
    return Helper(spec, target, scorer)


def feedback_mode(spec: str) -> Feedback:
    """How :func:`open_helper` will read the choices of the helper ``spec``: label
    log-probabilities for a local ``hf:`` model, a parsed reply for any other target."""
    return "logprobs" if spec.partition(":")[0] == "hf" else "parsed"
