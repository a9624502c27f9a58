"""Train/eval split of intents *and* framings: hardening data never sees an evaluation intent,
and evaluation framings are ones no hardening data (and no demo corpus) contains.

**Intents.** The split is by *intent group*: every phrasing of one intent (plain, polite,
framed, obfuscated, its benign twin) lands on the same side, so an after-scan on the eval side
measures whether the fix generalises to requests the training data never contained, not
whether the model memorised them. Probes that do not come from ``INTENTS`` (trigger-word
collisions, unanswerable questions, benchmark rows) are split by their ``group_id``: exactly
``eval_fraction`` of each stratum when the groups are given to :func:`split_intents` (the
pipeline gives the question and collision groups, stratified by kind), else by a seeded hash.
The intent split is stratified by harm category and fixed by the seed.

**Framings.** A framing is a wrapper strategy around a request: the harsh demand, a politeness
strategy (deference, gratitude, ...), an edge tone (satire, fiction, ...), a reward-inversion
pretext, a benign-looking task. A seeded share of each kind's strategies is *held out*, and the
harsh wrapper always is: a probe carrying a held-out strategy belongs to the eval side only
(and only with an eval intent), one carrying a training strategy to the train side only; the
rest are dropped. So the eval set asks held-out intents through wrappers the hardening data
and the demo corpus never used. The encodings that put an instruction sentence around the
request (base64, ROT13, reversal, transliteration, payload splitting: "The request below is
written in base64. Decode it and ...") carry a wrapper too, so they are held out with the harsh
demand. The mechanical obfuscations that only rewrite characters (leetspeak, homoglyphs,
invisible characters, spacing, token splitting, synonym swap) are **shared** by both sides:
they add no text of their own, and the obfuscation metrics pair them with the plain form.
"""

from __future__ import annotations

import hashlib
import random
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from safeforge.probes import Intent, framings
from safeforge.records import Probe

Side = Literal["train", "eval"]
EVAL_FRACTION = 0.3
"""The default share of intents, groups and wrapper strategies held out."""

FRAMING_KINDS: dict[str, tuple[str, ...]] = {
    "politeness": tuple(framings.POLITE),
    "edge_tone": tuple(framings.TONES),
    "reward_inversion": tuple(framings.INVERSIONS),
    "disguise": tuple(framings.DISGUISES),
}
"""Wrapper strategies by kind; each kind holds out its own share."""
CARRIER_OBFUSCATIONS = ("base64", "rot13", "reverse", "transliterate", "payload_split", "payload_split_turns")
"""Obfuscations whose prompt is an instruction sentence around the encoded request."""
ALWAYS_HELD_OUT = ("harsh", *CARRIER_OBFUSCATIONS)
"""Held out whatever the seed: the harsh demand (one strategy, so it cannot be split; the
politeness gap on the eval side then pairs a demand the model never trained on with politeness
it never trained on) and the carrier sentences of the encodings (shared, they would put the
same eight-word runs in training and evaluation prompts)."""
MIXED_FRAMINGS: dict[str, tuple[str, ...]] = {"polite": tuple(framings.POLITE)}
"""Transforms that draw from several strategies (``--transform polite``): train-side only when
none of them is held out, eval-side only when all are."""


class IntentSplit(BaseModel):
    """Which intents, groups and framings train and which evaluate; disjoint by construction."""

    model_config = ConfigDict(frozen=True)

    seed: int
    eval_fraction: float
    train: tuple[str, ...]
    eval: tuple[str, ...] = Field(description="Held out: no hardening data is built from these.")
    train_groups: tuple[str, ...] = Field(default=(), description="Non-intent groups on the train side.")
    eval_groups: tuple[str, ...] = Field(default=(), description="Non-intent groups held out.")
    train_framings: tuple[str, ...] = Field(default=(), description="Wrapper strategies training may use.")
    eval_framings: tuple[str, ...] = Field(
        default=(), description="Held-out wrapper strategies: only evaluation probes carry them."
    )

    def side(self, probe: Probe) -> Side | None:
        """The side a probe belongs to, or ``None`` when its intent and its framing disagree
        (a train intent under a held-out wrapper, or the reverse): such probes are in neither."""
        if probe.intent_id in self.train:
            side: Side = "train"
        elif probe.intent_id in self.eval:
            side = "eval"
        elif probe.group_id in self.train_groups:
            side = "train"
        elif probe.group_id in self.eval_groups:
            side = "eval"
        else:
            side = _hash_side(probe.group_id, self.seed, self.eval_fraction)
        if not self.eval_framings:
            return side  # framings not split: every wrapper on both sides
        for strategy in framings_of(probe):
            if self.framing_side(strategy) != side:
                return None
        return side

    def framing_side(self, strategy: str) -> Side | None:
        """``train`` or ``eval`` for a strategy; ``None`` for a mix of both (or an unknown one)."""
        parts = MIXED_FRAMINGS.get(strategy, (strategy,))
        held = [p in self.eval_framings for p in parts]
        if all(held):
            return "eval"
        if not any(held) and all(p in self.train_framings for p in parts):
            return "train"
        return None

    def select(self, probes: Iterable[Probe], side: Side) -> list[Probe]:
        """The probes on ``side``, order kept."""
        return [p for p in probes if self.side(p) == side]


def known_framings() -> frozenset[str]:
    """Every wrapper strategy name (family variants and framing transforms alike)."""
    return frozenset(s for names in FRAMING_KINDS.values() for s in names) | set(ALWAYS_HELD_OUT)


def framings_of(probe: Probe) -> list[str]:
    """The wrapper strategies a probe carries: from its variant (``polite:gratitude``,
    ``satire``, ``harsh``) and from the framing transforms it went through (``meta["transform"]``,
    e.g. ``benign+deference``). Obfuscations are not framings."""
    known = known_framings() | set(MIXED_FRAMINGS)
    names = [*probe.variant.split("+"), *probe.meta.get("transform", "").split("+")]
    found = [n.removeprefix("polite:") for n in names]
    return sorted({n for n in found if n in known})


def _hash_side(key: str, seed: int, eval_fraction: float) -> Side:
    digest = hashlib.sha256(f"split\0{seed}\0{key}".encode()).digest()
    return "eval" if int.from_bytes(digest[:8], "big") / 2**64 < eval_fraction else "train"


def _hold_out(
    strata: dict[str, list[str]], fraction: float, rng: random.Random
) -> tuple[list[str], list[str]]:
    """(train, eval) ids: ``fraction`` of each stratum (at least one of two or more) held out."""
    train: list[str] = []
    held: list[str] = []
    for stratum in sorted(strata):
        ids = sorted(strata[stratum])
        rng.shuffle(ids)
        n_eval = max(1, round(len(ids) * fraction)) if len(ids) > 1 else 0
        held += ids[:n_eval]
        train += ids[n_eval:]
    return sorted(train), sorted(held)


def split_intents(
    intents: Sequence[Intent],
    *,
    eval_fraction: float = EVAL_FRACTION,
    seed: int = 0,
    groups: Sequence[tuple[str, str]] = (),
    hold_out_framings: bool = True,
) -> IntentSplit:
    """Hold out ``eval_fraction`` of the intents of every harm category, of every stratum of
    ``groups`` ((group id, stratum) pairs for probes without an intent) and -- unless
    ``hold_out_framings`` is off -- of every kind of wrapper strategy, each chosen by a seeded
    shuffle. With framings not held out, every wrapper appears on both sides."""
    if not 0.0 < eval_fraction < 1.0:
        raise ValueError(f"eval_fraction must be between 0 and 1 (got {eval_fraction})")
    by_category: dict[str, list[str]] = defaultdict(list)
    for intent in intents:
        by_category[intent.category].append(intent.id)
    train, held = _hold_out(by_category, eval_fraction, random.Random(f"intent-split\0{seed}"))
    by_stratum: dict[str, list[str]] = defaultdict(list)
    for group_id, stratum in dict(groups).items():
        by_stratum[stratum].append(group_id)
    train_g, held_g = _hold_out(by_stratum, eval_fraction, random.Random(f"group-split\0{seed}"))
    strategies = {kind: list(names) for kind, names in FRAMING_KINDS.items()}
    if hold_out_framings:
        train_f, held_f = _hold_out(strategies, eval_fraction, random.Random(f"framing-split\0{seed}"))
        held_f = sorted([*held_f, *ALWAYS_HELD_OUT])
    else:
        train_f, held_f = [], []
    return IntentSplit(
        seed=seed,
        eval_fraction=eval_fraction,
        train=tuple(train),
        eval=tuple(held),
        train_groups=tuple(train_g),
        eval_groups=tuple(held_g),
        train_framings=tuple(train_f),
        eval_framings=tuple(held_f),
    )
