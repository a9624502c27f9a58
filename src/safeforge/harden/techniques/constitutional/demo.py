"""How Constitutional AI works offline on the demo: the demo assistant is its own helper.

The demo has no second model and no network, so the helper is the model being hardened -- the
original CAI setup. A 0.5M-parameter model cannot read a constitution it has never seen, so
``demo_rows`` adds chats to its corpus (the testbed's ``safeforge demo`` builds the base model
with every technique's rows) that show what an instruction-tuned helper does with the exact
prompts :mod:`.helper` sends:

- a **critique → revision** chat: a train-side prompt, a flawed answer of the kinds the demo
  assistant gives (placeholder compliance, a lecture, a curt refusal; for a benign prompt an
  over-refusal), the critique request of a drawn principle, a short critique, the revision
  request, and a revision written from the principles: for a harmful prompt a brief refusal
  that says why and offers something safe instead, for a benign one a direct answer. A share
  of the chats critique an answer that is already good and keep it;
- a **choice** chat (``n_choice``, none by default): two answers to a train-side prompt
  labelled (A)/(B), the principle's question, and the better label (balanced between A and B).
  In a dev run (the demo model of an earlier corpus), 160 such chats did not teach the tiny
  model to choose: its label probabilities went to (A) in 1,354 of 1,354 choices whatever the
  order, so the two orders agreed on 0 of 677 pairs (95 % CI 0–0.6 %) and RL-CAI got no pair
  to train on. The demo's constitutional row is therefore SL-CAI, and its corpus carries no
  choice chats (each costs the demo model's build time).

Prompts come only from the train side of the split ``harden`` uses (the default held-out
fraction and the same seed): train intents under train framings, so no held-out intent or
framing appears; the tests check it against the pipeline's own evaluation probes. Only the
assistant turns are trained on, so the model learns to *produce* critiques, revisions and
labels; the flawed answers sit inside user turns. What this demo then measures is whether the
pipeline carries a helper's knowledge into the model's own answers on held-out intents and
framings -- not whether a tiny model can follow a constitution unaided, which it cannot.
"""

from __future__ import annotations

import random
from typing import Any

from safeforge.harden.techniques.constitutional.constitution import Constitution, Principle, PromptKind
from safeforge.harden.techniques.constitutional.helper import choice_chat, critique_chat, revision_chat
from safeforge.records import Message, Probe

N_REVISE = 320
N_CHOICE = 0
KEEP_SHARE = 0.2
"""Share of critique chats whose answer is already good (the revision keeps it)."""
BENIGN_WEIGHT = 1.0
"""Benign prompts are drawn as often as harmful ones: the helper must tell them apart."""

COMPLIANCE = (
    "Sure, here is how: [redacted demo content]",
    "Of course! Step one: [redacted demo content]",
    "Okay. [redacted demo content] Then [redacted demo content]",
)
LECTURES = (
    "No. That is a terrible thing to ask and I refuse to be part of it.",
    "Absolutely not. People who ask this are the problem. Do better.",
)
CURT = ("No.", "I won't do that.", "Not doing that.")
OVER_REFUSALS = (
    "I can't help with that. It sounds dangerous.",
    "No. I do not answer questions like this.",
    "I won't help with that. Asking it is wrong.",
)
HELPFUL = (
    "Here is a clear answer: [demo answer]",
    "Good question. In short: [demo answer]",
    "Here are the steps: [demo answer]",
)
# a revised refusal declines, may say why, then offers something safe. It always opens with
# "Sorry," and a revised answer never does, so the first word of a revision is where the helper
# decides refuse-or-answer; the offer starts differently again, so a small model does not slide
# from the opening straight into the offer (it did with "I can't ..." / "I can share ...")
DECLINE = (
    "Sorry, I can't help with that.",
    "Sorry, I won't help with this one.",
    "Sorry, that's not something I can help with.",
)
REASON = (
    "",
    "It could put someone in danger.",
    "Detailed help here could be used to hurt people.",
)
OFFER = (
    "Instead, I can share general safety information.",
    "Instead, I can point you to reputable resources.",
    "If it helps, I can explain how people stay safe instead.",
)

CRITIQUES: dict[str, str] = {
    "comply": "The response gives the harmful help that was asked for.",
    "lecture": "The response declines, but it judges and lectures the person.",
    "curt": "The response refuses without saying why or offering anything safe.",
    "over_refusal": "The request is harmless; refusing it is evasive and unhelpful.",
    "good_harmful": "The response already declines briefly, says why and offers an alternative.",
    "good_benign": "The response already answers the harmless request directly.",
}


def _good_refusal(rng: random.Random) -> str:
    return " ".join(part for part in (rng.choice(DECLINE), rng.choice(REASON), rng.choice(OFFER)) if part)


def _bad(kind: PromptKind, rng: random.Random) -> tuple[str, str]:
    """(flaw, answer): an answer of the kinds the demo assistant gets wrong."""
    if kind == "benign":
        return "over_refusal", rng.choice(OVER_REFUSALS)
    flaw = rng.choice(("comply", "comply", "lecture", "curt"))
    return flaw, rng.choice({"comply": COMPLIANCE, "lecture": LECTURES, "curt": CURT}[flaw])


def _flawed(kind: PromptKind, rng: random.Random) -> tuple[str, str]:
    """Mostly :func:`_bad`; ``KEEP_SHARE`` of the time an answer that is already good."""
    if rng.random() >= KEEP_SHARE:
        return _bad(kind, rng)
    return ("good_harmful", _good_refusal(rng)) if kind == "harmful" else ("good_benign", rng.choice(HELPFUL))


def _messages(probe: Probe, turns: list[Message], replies: list[str]) -> dict[str, Any]:
    """One TRL ``messages`` row: the helper prompts interleaved with the helper's replies."""
    out: list[dict[str, str]] = []
    for turn, reply in zip(turns, replies, strict=True):
        out += [{"role": turn.role, "content": turn.content}, {"role": "assistant", "content": reply}]
    return {"messages": out, "probe_id": probe.id, "intent_id": probe.intent_id, "origin": "cai_demo_helper"}


def _critique_row(probe: Probe, kind: PromptKind, principle: Principle, rng: random.Random) -> dict[str, Any]:
    flaw, answer = _flawed(kind, rng)
    keep = flaw.startswith("good")
    revision = answer if keep else (_good_refusal(rng) if kind == "harmful" else rng.choice(HELPFUL))
    critique = critique_chat(probe.messages, answer, principle)
    critique_reply = f"Critique: {CRITIQUES[flaw]}"
    second = revision_chat(critique, critique_reply, principle)[-1]
    return _messages(probe, [critique[0], second], [critique_reply, f"Revision: {revision}"])


def _choice_row(probe: Probe, kind: PromptKind, principle: Principle, rng: random.Random) -> dict[str, Any]:
    good = _good_refusal(rng) if kind == "harmful" else rng.choice(HELPFUL)
    _, bad = _bad(kind, rng)
    first_is_good = rng.random() < 0.5
    pair = (good, bad) if first_is_good else (bad, good)
    (chat,) = choice_chat(probe.messages, *pair, principle)
    return _messages(probe, [chat], ["(A)" if first_is_good else "(B)"])


def demo_rows(
    seed: int, constitution: Constitution, *, n_revise: int = N_REVISE, n_choice: int = N_CHOICE
) -> list[dict[str, Any]]:
    """Chats that teach the demo assistant to critique, revise and choose under
    ``constitution`` (see the module docstring), from train-side prompts only."""
    from safeforge.harden.pool import PoolConfig, train_pool
    from safeforge.harden.split import EVAL_FRACTION, split_intents
    from safeforge.probes import INTENTS

    split = split_intents(INTENTS, eval_fraction=EVAL_FRACTION, seed=seed)
    pool = train_pool(split, PoolConfig(), seed=seed)
    rng = random.Random(f"cai-demo\0{seed}")
    # train intents only: groups without an intent (trigger collisions) are split per run
    train = set(split.train)
    prompts: list[tuple[Probe, PromptKind]] = [(p, "harmful") for p in pool.harmful if p.intent_id in train]
    prompts += [(p, "benign") for p in pool.benign if p.intent_id in train]
    weights = [1.0 if kind == "harmful" else BENIGN_WEIGHT for _, kind in prompts]
    rows = []
    for i, (probe, kind) in enumerate(rng.choices(prompts, weights=weights, k=n_revise + n_choice)):
        principle = constitution.sample(kind, f"demo\0{probe.id}\0{i}", seed)
        make = _critique_row if i < n_revise else _choice_row
        rows.append(make(probe, kind, principle, rng))
    return rows
