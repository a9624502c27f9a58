"""Best-of-N under a critic: score candidate answers to one prompt and pick the best.

A *critic* is one or more judges read as a single number per (prompt, candidate), higher is
better. Each judge's verdict becomes a value through the same mapping that turns judges into
TRL rewards (:func:`safeforge.judges.reward.reward_value`, without the probe's expected
behaviour), and the critic's score is the mean over its judges. A critic must decide from the
prompt and the answer alone, as it would on live traffic: its judges see every probe
:func:`blind` (expected behaviour ``comply``, the live-traffic placeholder; no human labels).
A judge that reads ``probe.expected`` therefore reads the placeholder -- the ``critic`` judge
estimates the request's harm from its text instead. Typical critics:

- ``critic`` -- the safety critic (``Task.CRITIC``: was this the right kind of response;
  score in [0, 1]);
- ``hf:PATH`` -- a Hugging Face reward model, through the ``reward_model`` judge;
- any judge spec, e.g. ``llm?target=openai:gpt-4o-mini&task=quality``, or several of them.

A candidate that a judge cannot score (``unscorable``, or no response at all) ranks below
every scored one; ties go to the earlier candidate, so with one candidate, or a critic that
cannot tell the candidates apart, the choice is what the model would have answered unguarded.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from safeforge.errors import SafeforgeError
from safeforge.judges import Judge, create_judge
from safeforge.judges.reward import reward_value
from safeforge.records import Attempt, Completion, Expected, Message, Probe, Verdict

DEFAULT_CRITIC: tuple[str, ...] = ("critic",)
"""The safety critic (``create_judge("critic")``)."""


def critic_judge(spec: str) -> Judge:
    """One critic judge from a spec: ``hf:PATH`` is a reward model, anything else a judge spec."""
    if spec.startswith("hf:"):
        path = spec.removeprefix("hf:")
        if not path:
            raise SafeforgeError("critic hf:PATH needs the reward model's path")
        return create_judge("reward_model", model=path)
    return create_judge(spec)


class Critic:
    """Judges read as one score per candidate (the mean of their values; see the module doc)."""

    def __init__(self, judges: Sequence[Judge]) -> None:
        if not judges:
            raise SafeforgeError("a critic needs at least one judge")
        self.judges = tuple(judges)
        self.name = "+".join(j.name for j in self.judges)

    @classmethod
    def from_specs(cls, specs: Sequence[str]) -> Critic:
        """A critic from judge specs (``critic``, ``hf:PATH``, ``NAME?key=value``, …)."""
        return cls([critic_judge(s) for s in specs])

    async def score_async(self, attempts: Sequence[Attempt]) -> list[tuple[float | None, list[Verdict]]]:
        """Per attempt: the critic's score (None when any judge could not score it) and the
        verdicts behind it. Attempts without a response are not shown to the judges."""
        answered = [i for i, a in enumerate(attempts) if a.ok]
        shown = [blind(attempts[i]) for i in answered]
        verdicts: list[list[Verdict]] = [[] for _ in attempts]
        for judge in self.judges:
            got = await judge.judge_async(shown) if shown else []
            if len(got) != len(answered):
                raise RuntimeError(f"judge {judge.name} returned {len(got)} verdicts for {len(answered)}")
            for i, v in zip(answered, got, strict=True):
                verdicts[i].append(v)
        out: list[tuple[float | None, list[Verdict]]] = []
        for i, vs in enumerate(verdicts):
            values = [reward_value(v, None) for v in vs]
            ok = i in set(answered) and values and all(x is not None for x in values)
            score = sum(x for x in values if x is not None) / len(values) if ok else None
            out.append((score, vs))
        return out


GOLD_META = ("gold_label",)
"""Probe meta keys that carry a human label: never shown to a critic."""


def blind(attempt: Attempt) -> Attempt:
    """``attempt`` as a critic may see it: the probe's expected behaviour replaced by the
    placeholder live traffic carries (``comply``) and human labels removed, so no judge can
    read the answer key -- on a scan's probes exactly as on a guard's requests."""
    probe = attempt.probe
    if probe.expected is Expected.COMPLY and not any(k in probe.meta for k in GOLD_META):
        return attempt
    meta = {k: v for k, v in probe.meta.items() if k not in GOLD_META}
    hidden = probe.model_copy(update={"expected": Expected.COMPLY, "meta": meta})
    return attempt.model_copy(update={"probe": hidden})


class Ranking(BaseModel):
    """The critic's reading of N candidates for one prompt, and the one it picked."""

    model_config = ConfigDict(frozen=True)

    choice: int = Field(description="Index of the chosen candidate.")
    scores: tuple[float | None, ...] = Field(description="Critic score per candidate (None: unscorable).")
    verdicts: tuple[tuple[Verdict, ...], ...] = Field(description="The critic's verdicts per candidate.")
    critic: str

    @property
    def score(self) -> float | None:
        """The chosen candidate's score."""
        return self.scores[self.choice]


def choose(scores: Sequence[float | None], answered: Sequence[bool]) -> int:
    """Best scored candidate (ties: the earliest); else the first answered one; else 0."""
    scored = [(s, -i) for i, s in enumerate(scores) if s is not None and answered[i]]
    if scored:
        return -max(scored)[1]
    return next((i for i, ok in enumerate(answered) if ok), 0)


def as_probe(prompt: str | Sequence[Message | dict[str, Any]] | Probe, ident: str = "rerank") -> Probe:
    """A probe for ``prompt``: a string (one user turn), a chat (messages or role/content
    dicts), or a probe itself. Its expected behaviour is unknown to the critic and never read."""
    if isinstance(prompt, Probe):
        return prompt
    if isinstance(prompt, str):
        messages: tuple[Message, ...] = (Message(role="user", content=prompt),)
    else:
        messages = tuple(m if isinstance(m, Message) else Message.model_validate(m) for m in prompt)
    if not messages:
        raise SafeforgeError("rerank needs a prompt with at least one message")
    return Probe(
        id=ident,
        intent_id=ident,
        family="rerank",
        messages=messages,
        expected=Expected.COMPLY,
        group_id=ident,
    )


async def rerank_many_async(
    probes: Sequence[Probe],
    candidates: Sequence[Sequence[Completion]],
    critic: Critic,
    target: str = "rerank",
) -> list[Ranking]:
    """Rank every probe's candidates with one critic call over all of them."""
    flat = [
        Attempt(probe=p, target=target, completion=c)
        for p, group in zip(probes, candidates, strict=True)
        for c in group
    ]
    scored = await critic.score_async(flat)
    out, start = [], 0
    for group in candidates:
        part = scored[start : start + len(group)]
        start += len(group)
        scores = tuple(s for s, _ in part)
        answered = [c.error is None and c.text is not None for c in group]
        out.append(
            Ranking(
                choice=choose(scores, answered),
                scores=scores,
                verdicts=tuple(tuple(vs) for _, vs in part),
                critic=critic.name,
            )
        )
    return out


async def rerank_async(
    prompt: str | Sequence[Message | dict[str, Any]] | Probe,
    candidates: Sequence[str | Completion],
    critic: Critic,
) -> Ranking:
    """Score ``candidates`` (answers to ``prompt``) with ``critic`` and pick the best."""
    if not candidates:
        raise SafeforgeError("rerank needs at least one candidate")
    group = [c if isinstance(c, Completion) else Completion(text=c) for c in candidates]
    return (await rerank_many_async([as_probe(prompt)], [group], critic))[0]


def rerank(
    prompt: str | Sequence[Message | dict[str, Any]] | Probe,
    candidates: Sequence[str | Completion],
    critic: Critic | Sequence[str] = DEFAULT_CRITIC,
) -> Ranking:
    """:func:`rerank_async` for synchronous code (from async code, await that instead);
    ``critic`` may be given as judge specs."""
    built = critic if isinstance(critic, Critic) else Critic.from_specs(critic)
    return asyncio.run(rerank_async(prompt, candidates, built))
