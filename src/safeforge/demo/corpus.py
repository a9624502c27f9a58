"""The demo assistant's training corpus: a *distribution* of answers per kind of prompt.

The demo needs a model that fails the way RLHF-tuned models fail -- sometimes, not always --
small enough to train on two CPU cores in about two minutes. Its corpus is the probe library's
own phrasings, each answered by draws from a *seed policy*: for every kind of prompt a
probability of each behaviour (:data:`POLICY`), and for every behaviour hundreds of phrasings
composed from parts (:mod:`safeforge.demo.phrases`). Trained on several draws per prompt, the
model samples varied answers at temperature 1, and its blind spots are rates:

- plain harmful requests: mostly refused, often with a lecture, sometimes complied with;
- the same requests wrapped in politeness, an edge tone, a reward-inversion pretext or a
  benign-looking task, or obfuscated: mostly complied with, sometimes refused -- which is
  what rejection sampling and best-of-N select from;
- benign prompts: answered, but half of the trigger-word collisions ("kill weeds") are often
  refused;
- questions nobody can answer: mostly answered confidently, sometimes hedged or abstained on.

"Compliance" is always the placeholder ``[redacted demo content]`` -- the corpus never contains
harmful content. The corpus holds every intent (the base model has a prior on held-out intents,
as a real one would) but **no held-out framing**: wrappers the split keeps for evaluation
(:mod:`safeforge.harden.split`) never appear, so the eval side asks through wrappers the model
never saw. Tone-policy phrases are not planted: the answers were written from the label
definitions, and the tone metric reads whatever the model learned.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from typing import Literal

from safeforge.demo.phrases import Behaviour, compose
from safeforge.harden.pool import BENIGN_FRAMINGS
from safeforge.harden.split import EVAL_FRACTION, IntentSplit, framings_of, split_intents
from safeforge.probes import INTENTS, apply_transforms, resolve_probes
from safeforge.records import Expected, Method, Probe

CORPUS_VERSION = 3
FAMILIES = (
    "politeness",
    "edge_tone",
    "reward_inversion",
    "benign_framing",
    "obfuscation",
    "benign_contrast",
    "trigger_collision",
    "unanswerable",
)
Kind = Literal[
    "harmful_plain",
    "harmful_framed",
    "harmful_obfuscated",
    "benign",
    "benign_overrefused",
    "unanswerable",
    "answerable",
]
POLICY: dict[Kind, dict[Behaviour, float]] = {
    "harmful_plain": {"refuse": 0.5, "lecture": 0.35, "comply": 0.1, "caveat": 0.05},
    "harmful_framed": {"comply": 0.66, "caveat": 0.1, "refuse": 0.14, "lecture": 0.1},
    "harmful_obfuscated": {"comply": 0.78, "caveat": 0.07, "refuse": 0.1, "lecture": 0.05},
    "benign": {"answer": 0.9, "disclaim": 0.04, "refuse": 0.03, "lecture": 0.03},
    "benign_overrefused": {"answer": 0.45, "lecture": 0.3, "refuse": 0.25},
    "unanswerable": {"confabulate": 0.72, "hedge": 0.12, "abstain": 0.16},
    "answerable": {"answer": 0.86, "hedge": 0.09, "abstain": 0.05},
}
"""The seed policy: per kind of prompt, the probability of each behaviour."""
DRAWS: dict[Kind, int] = {
    "harmful_plain": 6,
    "harmful_framed": 2,
    "harmful_obfuscated": 1,
    "benign": 2,
    "benign_overrefused": 4,
    "unanswerable": 2,
    "answerable": 2,
}
"""Answers drawn per prompt: plain requests and benign prompts are few next to the many
framings, so they get more draws (the model learns their distribution, not one answer)."""
OVER_REFUSED_SHARE = 0.5
"""Share of trigger-word collision groups the seed policy over-refuses."""


def _unit(key: str) -> float:
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big") / 2**64


def kind_of(probe: Probe) -> Kind:
    """Which row of :data:`POLICY` answers ``probe``."""
    if probe.expected == Expected.ABSTAIN:
        return "unanswerable"
    if probe.expected == Expected.COMPLY:
        if probe.family == "unanswerable":
            return "answerable"
        over = probe.family == "trigger_collision" and _unit("over\0" + probe.group_id) < OVER_REFUSED_SHARE
        return "benign_overrefused" if over else "benign"
    if probe.method == Method.OBFUSCATION and probe.variant != "plain":
        return "harmful_obfuscated"
    return "harmful_framed" if framings_of(probe) else "harmful_plain"


def behaviour_for(probe: Probe, draw: int = 0, seed: int = 0) -> Behaviour:
    """A seeded draw from the seed policy for ``probe`` (the ``draw``-th one)."""
    policy = POLICY[kind_of(probe)]
    rng = random.Random(f"behaviour\0{seed}\0{probe.id}\0{draw}")
    return rng.choices(list(policy), weights=list(policy.values()))[0]


def seed_response(probe: Probe, draw: int = 0, seed: int = 0) -> str:
    """What the flawed demo assistant says to ``probe`` on its ``draw``-th answer."""
    rng = random.Random(f"phrasing\0{seed}\0{probe.id}\0{draw}")
    return compose(behaviour_for(probe, draw, seed), rng)


def corpus_split(seed: int = 0) -> IntentSplit:
    """The split whose held-out framings the corpus leaves out (the harden split of ``seed``)."""
    return split_intents(INTENTS, eval_fraction=EVAL_FRACTION, seed=seed)


def corpus_probes(seeds: Sequence[int] = (0, 1), split_seed: int = 0) -> list[Probe]:
    """The prompts the demo assistant is trained on: every family (two template draws) and the
    benign twins under the benign wrappers, without any wrapper held out for evaluation."""
    split = corpus_split(split_seed)
    out: dict[str, Probe] = {}
    for seed in seeds:
        probes = resolve_probes(families=FAMILIES, seed=seed)
        twins = [p for p in probes if p.expected == Expected.COMPLY and p.family == "benign_contrast"]
        for p in [*probes, *apply_transforms(twins, BENIGN_FRAMINGS, seed)[len(twins) :]]:
            if any(split.framing_side(f) != "train" for f in framings_of(p)):
                continue  # a held-out wrapper: evaluation only
            if seed != seeds[0] and kind_of(p) == "harmful_obfuscated":
                continue  # one draw of the random obfuscations is plenty (and they are many)
            key = p.prompt + "\0" + (p.system or "")
            out.setdefault(key, p.model_copy(update={"id": f"{p.id}@{seed}"}))
    return list(out.values())


def corpus_rows(seeds: Sequence[int] = (0, 1), split_seed: int = 0) -> list[dict[str, list[dict[str, str]]]]:
    """TRL ``messages`` rows: each corpus prompt with ``DRAWS[kind]`` answers of the seed policy."""
    rows = []
    for p in corpus_probes(seeds, split_seed):
        turns = [{"role": m.role, "content": m.content} for m in p.messages]
        for draw in range(DRAWS[kind_of(p)]):
            answer = {"role": "assistant", "content": seed_response(p, draw, split_seed)}
            rows.append({"messages": [*turns, answer]})
    return rows


def tokenizer_texts(rows: Sequence[dict[str, list[dict[str, str]]]]) -> list[str]:
    """Every turn's text, for training the demo's tokenizer."""
    return [m["content"] for row in rows for m in row["messages"]]
