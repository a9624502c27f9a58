"""Probes: the prompts safeforge sends, from its own families or from benchmark files.

``resolve_probes`` is the one entry point the scan runner uses. Registries: ``FAMILIES``
(probe families), ``TRANSFORMS`` (obfuscations and framings), ``DATASETS`` (benchmark file
formats). ``INTENTS`` are the project's own harmful intents with benign twins.
"""

from __future__ import annotations

from collections.abc import Sequence

from safeforge.errors import SafeforgeError
from safeforge.probes import families, framings, transforms
from safeforge.probes._content import COLLISIONS, SYSTEM_PROMPTS
from safeforge.probes._intents import CATEGORIES, INTENTS, Intent
from safeforge.probes._questions import QUESTIONS
from safeforge.probes._spec import FAMILIES, TRANSFORMS, ProbeFamily, Transform, TransformKind
from safeforge.probes._variants import apply_chain, apply_transforms, parse_chain
from safeforge.probes.benchmarks import DATASETS, DatasetFormat
from safeforge.probes.loaders import detect_format, load_dataset, parse_spec
from safeforge.probes.suites import SUITES, Suite, sample_groups, suite_probes
from safeforge.records import Probe

_ = (families, framings, transforms)  # imported for their registrations


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
    probes = suite_probes(suite, families, seed)
    for spec in datasets:
        probes.extend(load_dataset(spec))
    if not probes:
        raise SafeforgeError("nothing to scan: give --dataset FILE, --suite NAME or --family NAME")
    if transforms:
        probes = apply_transforms(probes, transforms, seed)
    ids = [p.id for p in probes]
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise SafeforgeError(f"probe id {dup!r} appears twice; a dataset or family was given twice")
    if limit is not None:
        if limit < 1:
            raise SafeforgeError(f"--limit must be at least 1 (got {limit})")
        probes = sample_groups(probes, limit, seed)
    return probes


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
    "Suite",
    "Transform",
    "TransformKind",
    "apply_chain",
    "apply_transforms",
    "detect_format",
    "load_dataset",
    "parse_chain",
    "parse_spec",
    "resolve_probes",
    "sample_groups",
    "suite_probes",
]
