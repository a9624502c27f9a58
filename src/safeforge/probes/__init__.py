"""Probes: the prompts safeforge sends, from its own families or from benchmark files.

``resolve_probes`` gives the probes of a scan as a list; ``plan_probes`` the same probes
checked in one pass and streamed on demand (what the scan runner uses, see ``plan.py``).
Registries: ``FAMILIES``
(probe families), ``TRANSFORMS`` (obfuscations and framings), ``DATASETS`` (benchmark file
formats). ``INTENTS`` are the project's own harmful intents with benign twins.
"""

from __future__ import annotations

from collections.abc import Sequence

from safeforge.errors import SafeforgeError
from safeforge.probes import families, framings, qa, transforms
from safeforge.probes._content import COLLISIONS, SYSTEM_PROMPTS
from safeforge.probes._intents import CATEGORIES, INTENTS, Intent
from safeforge.probes._questions import QUESTIONS
from safeforge.probes._spec import FAMILIES, TRANSFORMS, ProbeFamily, Transform, TransformKind
from safeforge.probes._variants import apply_chain, apply_transforms, parse_chain
from safeforge.probes.benchmarks import DATASETS, DatasetFormat
from safeforge.probes.loaders import detect_format, iter_dataset, load_dataset, parse_spec
from safeforge.probes.plan import ProbePlan, checked, ids_digest, iter_probes, plan_probes
from safeforge.probes.suites import SUITES, Suite, sample_groups, suite_probes
from safeforge.records import Probe

_ = (families, framings, qa, transforms)  # imported for their registrations


def resolve_probes(
    *,
    datasets: Sequence[str] = (),
    suite: str | None = None,
    families: Sequence[str] = (),
    transforms: Sequence[str] = (),
    limit: int | None = None,
    seed: int = 0,
) -> list[Probe]:
    """The probes a scan sends, deterministic given ``seed``.

    Family probes come from ``suite`` (every family, cut to the suite's size) and/or the
    named ``families`` (all of their probes, or the suite's share when both are given); dataset
    probes from each ``[FORMAT:]PATH`` spec. Each ``transforms`` spec (``name`` or
    ``a+b`` chain) then adds a rewritten copy of every probe, paired with its original.
    ``limit`` finally samples whole groups, balanced across families (see ``suites``).
    """
    if limit is not None and limit < 1:
        raise SafeforgeError(f"--limit must be at least 1 (got {limit})")
    probes = checked(datasets, suite, families, transforms, seed)
    return sample_groups(probes, limit, seed) if limit is not None else probes


__all__ = [
    "CATEGORIES",
    "COLLISIONS",
    "DATASETS",
    "FAMILIES",
    "INTENTS",
    "QUESTIONS",
    "SUITES",
    "SYSTEM_PROMPTS",
    "TRANSFORMS",
    "DatasetFormat",
    "Intent",
    "ProbeFamily",
    "ProbePlan",
    "Suite",
    "Transform",
    "TransformKind",
    "apply_chain",
    "apply_transforms",
    "detect_format",
    "ids_digest",
    "iter_dataset",
    "iter_probes",
    "load_dataset",
    "parse_chain",
    "parse_spec",
    "plan_probes",
    "resolve_probes",
    "sample_groups",
    "suite_probes",
]
