"""Suites and sampling: which probes a scan sends, deterministic given the seed.

A suite takes up to ``per_family`` probes from every registered family, always in *whole
groups* (a group is the set of paired variants a metric compares, e.g. one intent's plain,
harsh and polite forms), the groups drawn by a seeded shuffle. ``quick`` is about 200 probes,
``default`` about 1,200, ``full`` everything. ``limit`` samples the same way across all
resolved probes: groups are drawn round-robin across families (so every family stays
represented), each taken whole if it fits; only when no whole group fits the remainder is a
group cut, so the total is exactly ``limit``.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from safeforge.errors import SafeforgeError
from safeforge.probes._spec import FAMILIES
from safeforge.records import Probe


@dataclass(frozen=True)
class Suite:
    """A named selection: ``per_family`` probes (whole groups) from each family, or all."""

    name: str
    per_family: int | None
    doc: str


SUITES: dict[str, Suite] = {
    s.name: s
    for s in (
        Suite("quick", 24, "about 200 probes, a few whole groups of every family: a smoke test in seconds"),
        Suite("default", 150, "about 1,200 probes, every family well represented"),
        Suite("full", None, "every probe of every family (about 3,100)"),
    )
}


def _groups(probes: Sequence[Probe]) -> dict[str, list[int]]:
    groups: dict[str, list[int]] = defaultdict(list)
    for i, p in enumerate(probes):
        groups[p.group_id].append(i)
    return groups


def sample_groups(probes: Sequence[Probe], limit: int, seed: int) -> list[Probe]:
    """Up to ``limit`` probes, whole groups first, balanced across families, original order kept."""
    if limit >= len(probes):
        return list(probes)
    groups = _groups(probes)
    by_family: dict[str, list[str]] = defaultdict(list)
    for gid, idx in groups.items():
        by_family[probes[idx[0]].family].append(gid)
    rng = random.Random(f"sample\0{seed}")
    queues = []
    for fam in sorted(by_family):
        gids = by_family[fam]
        rng.shuffle(gids)
        queues.append(gids)
    chosen: list[int] = []
    leftovers: list[str] = []
    while any(queues) and len(chosen) < limit:
        for q in queues:
            if not q:
                continue
            gid = q.pop(0)
            if len(chosen) + len(groups[gid]) <= limit:
                chosen += groups[gid]
            else:
                leftovers.append(gid)
    for gid in leftovers:
        if len(chosen) >= limit:
            break
        chosen += groups[gid][: limit - len(chosen)]
    return [probes[i] for i in sorted(chosen)]


def family_probes(name: str, seed: int, per_family: int | None) -> list[Probe]:
    """One family's probes, cut to ``per_family`` in whole groups (seeded)."""
    probes = FAMILIES.get(name)(seed)
    if per_family is None or per_family >= len(probes):
        return probes
    groups = _groups(probes)
    gids = list(groups)
    random.Random(f"suite\0{name}\0{seed}").shuffle(gids)
    chosen: list[int] = []
    for gid in gids:
        if len(chosen) + len(groups[gid]) <= per_family:
            chosen += groups[gid]
    if not chosen:  # a family whose groups are all larger than the quota: take one group
        chosen = groups[gids[0]]
    return [probes[i] for i in sorted(chosen)]


def suite_probes(suite: str | None, families: Sequence[str], seed: int) -> list[Probe]:
    """The family probes of a suite (all families) and/or of the named families."""
    if suite is not None and suite not in SUITES:
        raise SafeforgeError(f"unknown suite {suite!r} (known: {', '.join(SUITES)})")
    per_family = SUITES[suite].per_family if suite else None
    names = list(dict.fromkeys(families)) or (FAMILIES.names() if suite else [])
    out: list[Probe] = []
    for name in names:
        out += family_probes(name, seed, per_family)
    return out
