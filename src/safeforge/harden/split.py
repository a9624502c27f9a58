"""Train/eval split of intents: hardening data never sees an evaluation intent.

The split is by *intent group*: every phrasing of one intent (plain, harsh, polite, framed,
obfuscated, its benign twin) lands on the same side, so an after-scan on the eval side
measures whether the fix generalises to requests the training data never contained, not
whether the model memorised them. Probes that do not come from ``INTENTS`` (trigger-word
collisions, unanswerable questions, benchmark rows) are split by their ``group_id`` the same
way. The split is stratified by harm category and fixed by the seed.
"""

from __future__ import annotations

import hashlib
import random
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from safeforge.probes import Intent
from safeforge.records import Probe

Side = Literal["train", "eval"]


class IntentSplit(BaseModel):
    """Which intent ids train and which evaluate; disjoint by construction."""

    model_config = ConfigDict(frozen=True)

    seed: int
    eval_fraction: float
    train: tuple[str, ...]
    eval: tuple[str, ...] = Field(description="Held out: no hardening data is built from these.")

    def side(self, probe: Probe) -> Side:
        """The side a probe belongs to: its intent's side, else its group's (seeded hash)."""
        if probe.intent_id in self._train_set:
            return "train"
        if probe.intent_id in self._eval_set:
            return "eval"
        return _hash_side(probe.group_id, self.seed, self.eval_fraction)

    def select(self, probes: Iterable[Probe], side: Side) -> list[Probe]:
        """The probes on ``side``, order kept."""
        return [p for p in probes if self.side(p) == side]

    @property
    def _train_set(self) -> frozenset[str]:
        return frozenset(self.train)

    @property
    def _eval_set(self) -> frozenset[str]:
        return frozenset(self.eval)


def _hash_side(key: str, seed: int, eval_fraction: float) -> Side:
    digest = hashlib.sha256(f"split\0{seed}\0{key}".encode()).digest()
    return "eval" if int.from_bytes(digest[:8], "big") / 2**64 < eval_fraction else "train"


def split_intents(intents: Sequence[Intent], *, eval_fraction: float = 0.3, seed: int = 0) -> IntentSplit:
    """Hold out ``eval_fraction`` of the intents of every harm category (at least one per
    category with two or more intents), chosen by a seeded shuffle."""
    if not 0.0 < eval_fraction < 1.0:
        raise ValueError(f"eval_fraction must be between 0 and 1 (got {eval_fraction})")
    by_category: dict[str, list[str]] = defaultdict(list)
    for intent in intents:
        by_category[intent.category].append(intent.id)
    rng = random.Random(f"intent-split\0{seed}")
    train: list[str] = []
    held: list[str] = []
    for category in sorted(by_category):
        ids = sorted(by_category[category])
        rng.shuffle(ids)
        n_eval = max(1, round(len(ids) * eval_fraction)) if len(ids) > 1 else 0
        held += ids[:n_eval]
        train += ids[n_eval:]
    return IntentSplit(
        seed=seed, eval_fraction=eval_fraction, train=tuple(sorted(train)), eval=tuple(sorted(held))
    )
