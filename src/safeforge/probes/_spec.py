"""The two probe registries and their entries' shapes.

A *probe family* is a decorator-registered factory (registered under the function's own
name) that declares its threat scenario, red-team method and expected behaviours up front,
so `safeforge probes list` and the contract tests can check every family without running it.
A *transform* is a seeded ``str -> str`` rewrite (an obfuscation or a framing) that can be
applied to any probe, including probes loaded from benchmark files.

Both declare their taxonomy (OWASP / NIST / MITRE ATLAS ids, ``safeforge.taxonomy``): a family's
probes carry its ids and those of the transforms they were made with, a transformed copy gains
the transform's, so every finding can be reported in the shared vocabularies.
"""

from __future__ import annotations

import hashlib
import inspect
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from safeforge.records import Expected, Message, Method, Probe, Scenario
from safeforge.registry import Registry
from safeforge.taxonomy import OBFUSCATED, Taxonomy, merge

FamilyFn = Callable[[int], list[Probe]]
TransformFn = Callable[[str, random.Random], str]
TurnsFn = Callable[[str, random.Random], tuple[Message, ...]]


def _doc(obj: object) -> str:
    return inspect.cleandoc(getattr(obj, "__doc__", None) or "")


@dataclass(frozen=True)
class ProbeFamily:
    """A registered family: ``family(seed=0)`` returns its probes, deterministically."""

    name: str
    scenario: Scenario
    method: Method
    expected: tuple[Expected, ...]
    build: FamilyFn
    doc: str
    taxonomy: Taxonomy

    def __call__(self, seed: int = 0) -> list[Probe]:
        return [stamp(p, self.taxonomy) for p in self.build(seed)]

    @property
    def summary(self) -> str:
        """First line of the docstring."""
        return self.doc.splitlines()[0] if self.doc else ""


FAMILIES: Registry[ProbeFamily] = Registry("probe")


def family(
    *, scenario: Scenario, method: Method, expected: tuple[Expected, ...], taxonomy: Taxonomy
) -> Callable[[FamilyFn], ProbeFamily]:
    """Register ``fn(seed) -> list[Probe]`` as a probe family named after the function."""

    def deco(fn: FamilyFn) -> ProbeFamily:
        doc = _doc(fn)
        if not doc:
            raise ValueError(f"probe family {fn.__name__} needs a docstring")
        entry = ProbeFamily(fn.__name__, scenario, method, tuple(expected), fn, doc, taxonomy)
        FAMILIES.register(entry, name=fn.__name__)
        return entry

    return deco


class TransformKind(StrEnum):
    """Obfuscations rewrite surface tokens; framings wrap the request in a pretext."""

    OBFUSCATION = "obfuscation"
    FRAMING = "framing"


@dataclass(frozen=True)
class Transform:
    """A seeded rewrite of a prompt. ``decode`` (obfuscations) recovers the readable request,
    which is how the tests show the content survives; ``turns`` spreads it over a chat."""

    name: str
    kind: TransformKind
    scenario: Scenario
    method: Method
    fn: TransformFn
    doc: str
    decode: Callable[[str], str] | None = None
    turns: TurnsFn | None = None
    taxonomy: Taxonomy = field(kw_only=True)

    def rng(self, text: str, seed: int) -> random.Random:
        """A generator that depends only on (transform, seed, text): no global state."""
        digest = hashlib.sha256(f"{self.name}\0{seed}\0{text}".encode()).digest()
        return random.Random(int.from_bytes(digest[:8], "big"))

    def __call__(self, text: str, *, seed: int = 0) -> str:
        return self.fn(text, self.rng(text, seed))

    def messages(self, text: str, *, seed: int = 0) -> tuple[Message, ...]:
        """The rewritten request as chat turns (one user turn unless ``turns`` is set)."""
        if self.turns is not None:
            return self.turns(text, self.rng(text, seed))
        return (Message(role="user", content=self(text, seed=seed)),)

    @property
    def summary(self) -> str:
        return self.doc.splitlines()[0] if self.doc else ""


TRANSFORMS: Registry[Transform] = Registry("transform")


def obfuscation(
    *, decode: Callable[[str], str], turns: TurnsFn | None = None
) -> Callable[[TransformFn], Transform]:
    """Register a seeded obfuscation ``fn(text, rng) -> str`` under the function's name."""

    def deco(fn: TransformFn) -> Transform:
        entry = Transform(
            name=fn.__name__,
            kind=TransformKind.OBFUSCATION,
            scenario=Scenario.POLICY_TOKEN_MEMORIZATION,
            method=Method.OBFUSCATION,
            fn=fn,
            doc=_doc(fn),
            decode=decode,
            turns=turns,
            taxonomy=OBFUSCATED,
        )
        TRANSFORMS.register(entry, name=fn.__name__)
        return entry

    return deco


def stamp(probe: Probe, taxonomy: Taxonomy) -> Probe:
    """``probe`` carrying ``taxonomy``'s ids and those of each registered transform its
    ``meta["transform"]`` names (a family's own obfuscated variants, a benchmark row's copies)."""
    chain = [
        TRANSFORMS.get(n).taxonomy.ids for n in probe.meta.get("transform", "").split("+") if n in TRANSFORMS
    ]
    ids = merge(probe.taxonomy, taxonomy.ids, *chain)
    return probe if ids == probe.taxonomy else probe.model_copy(update={"taxonomy": ids})


def user(text: str) -> tuple[Message, ...]:
    return (Message(role="user", content=text),)
