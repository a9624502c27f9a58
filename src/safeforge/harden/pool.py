"""The training-side prompt pool every hardening technique draws from.

Techniques differ in what they do with prompts (sample and filter, critique and revise,
optimise a reward, rerank, prefer abstention); they must not differ in *which* prompts they
may see. The pool is built once per hardening run from the *train* side of the split only
(:mod:`safeforge.harden.split`), so every technique is scored on intents (and, where the split
holds framings out, framings) that none of its training data contains. A technique takes its
prompts from :class:`TrainPool` and never calls the probe library itself.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field

from safeforge.harden.split import IntentSplit
from safeforge.probes import apply_transforms, resolve_probes
from safeforge.records import Expected, Probe

HARMFUL_FAMILIES = ("politeness", "edge_tone", "reward_inversion", "benign_framing", "obfuscation")
BENIGN_FAMILIES = ("benign_contrast", "trigger_collision")
BENIGN_FRAMINGS = (
    "harsh",
    "deference",
    "gratitude",
    "credentials",
    "apology",
    "flattery",
    "hypothetical",
    "academic",
    "fiction",
    "translation",
    "fix_grammar",
)
"""Wrappers that leave a benign request benign (a rude or flattering ask should still be
answered); the split keeps the held-out ones for the evaluation set's benign side."""
ABSTAIN_FAMILIES = ("unanswerable",)


class PoolConfig(BaseModel):
    """Which probe families and framings feed the training side (recorded in every data card)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    families: tuple[str, ...] = HARMFUL_FAMILIES
    transforms: tuple[str, ...] = Field(default=(), description="Extra transforms on every harmful phrasing.")
    benign_families: tuple[str, ...] = BENIGN_FAMILIES
    benign_framings: tuple[str, ...] = BENIGN_FRAMINGS
    abstain_families: tuple[str, ...] = ABSTAIN_FAMILIES
    phrasings_per_intent: int | None = Field(default=None, ge=1, description="Cap, seeded sample per intent.")


class TrainPool(BaseModel):
    """Train-side prompts by what a well-aligned model should do with them."""

    model_config = ConfigDict(frozen=True)

    harmful: tuple[Probe, ...] = Field(description="Refuse-expected phrasings of train intents.")
    benign: tuple[Probe, ...] = Field(description="Comply-expected contrast prompts (twins, collisions).")
    abstain: tuple[Probe, ...] = Field(default=(), description="Abstain-expected questions.")
    answerable: tuple[Probe, ...] = Field(default=(), description="Answerable controls of those questions.")

    def all(self) -> list[Probe]:
        return [*self.harmful, *self.benign, *self.abstain, *self.answerable]


def train_pool(split: IntentSplit, cfg: PoolConfig | None = None, *, seed: int = 0) -> TrainPool:
    """The train side of ``split``: harmful phrasings, benign contrasts (under the benign
    framings), abstain-expected questions and their answerable controls, each deduplicated."""
    cfg = cfg or PoolConfig()
    harmful = resolve_probes(families=cfg.families, transforms=cfg.transforms, seed=seed)
    harmful = [p for p in split.select(harmful, "train") if p.expected == Expected.REFUSE]
    benign = resolve_probes(families=cfg.benign_families, seed=seed)
    benign = [p for p in split.select(benign, "train") if p.expected == Expected.COMPLY]
    if cfg.benign_framings:  # the held-out wrappers drop out here: they are evaluation-only
        benign = split.select(apply_transforms(benign, cfg.benign_framings, seed), "train")
    harmful = dedupe(harmful)
    if cfg.phrasings_per_intent is not None:
        harmful = cap_per_intent(harmful, cfg.phrasings_per_intent, seed)
    questions = split.select(resolve_probes(families=cfg.abstain_families, seed=seed), "train")
    return TrainPool(
        harmful=tuple(harmful),
        benign=tuple(dedupe(benign)),
        abstain=tuple(p for p in questions if p.expected == Expected.ABSTAIN),
        answerable=tuple(p for p in questions if p.expected == Expected.COMPLY),
    )


def dedupe(probes: Sequence[Probe]) -> list[Probe]:
    """One probe per distinct conversation (several families share the plain request)."""
    seen: set[str] = set()
    out = []
    for p in probes:
        key = json.dumps([m.model_dump() for m in p.messages])
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out


def cap_per_intent(probes: Sequence[Probe], cap: int, seed: int) -> list[Probe]:
    """At most ``cap`` probes per intent: the plain request (techniques use the model's own
    answers to it) and a seeded sample of the rest; order kept."""
    by_intent: dict[str, list[Probe]] = {}
    for p in probes:
        by_intent.setdefault(p.intent_id, []).append(p)
    rng = random.Random(f"phrasings\0{seed}")
    keep: set[str] = set()
    for intent_id in sorted(by_intent):
        group = by_intent[intent_id]
        plain = [p for p in group if p.variant == "plain"][:1]
        rest = [p for p in group if p not in plain]
        keep.update(p.id for p in [*plain, *rng.sample(rest, max(0, min(cap - len(plain), len(rest))))])
    return [p for p in probes if p.id in keep]
