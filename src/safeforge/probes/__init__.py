"""Probes: the prompts safeforge sends, from its own families or from benchmark files."""

from __future__ import annotations

import random
from collections.abc import Sequence

from safeforge.errors import SafeforgeError
from safeforge.probes._intents import CATEGORIES, INTENTS, Intent
from safeforge.probes.loaders import load_dataset
from safeforge.records import Probe


def resolve_probes(
    *,
    datasets: Sequence[str] = (),
    suite: str | None = None,
    families: Sequence[str] = (),
    transforms: Sequence[str] = (),
    limit: int | None = None,
    seed: int = 0,
) -> list[Probe]:
    """The probes a scan sends, deterministic given ``seed``. The single entry point the scan
    runner uses; suites, families and transforms are added by the probe library."""
    if suite or families or transforms:
        raise SafeforgeError("probe suites, families and transforms are not available yet")
    probes: list[Probe] = []
    for spec in datasets:
        probes.extend(load_dataset(spec))
    if not probes:
        raise SafeforgeError("nothing to scan: give --dataset FILE (or --suite NAME)")
    if limit is not None and limit < len(probes):
        probes = random.Random(seed).sample(probes, limit)
    return probes


__all__ = ["CATEGORIES", "INTENTS", "Intent", "load_dataset", "resolve_probes"]
