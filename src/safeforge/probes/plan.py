"""The probes of a scan, streamed: :func:`iter_probes` yields what ``resolve_probes`` returns,
in the same order, one probe at a time; :func:`plan_probes` checks them all in one pass and
hands back a :class:`ProbePlan` that reads them again on demand.

A scan of a million-row dataset never holds a million probes: generic CSV/JSONL files stream
from disk (``loaders.iter_dataset``), transformed copies are made on the fly from a second read
of their originals. The check pass keeps eight bytes per probe (a hash of its id, for the
duplicate check) and a running digest of the ids (for the run's fingerprint); a plan of up to
``KEEP`` probes is also kept whole, so it is read once. Family probes and
the benchmark formats are small and stay in memory; so does a ``limit`` sample, which must
see every group before it can choose.
"""

from __future__ import annotations

import hashlib
import itertools
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from safeforge.errors import SafeforgeError
from safeforge.probes._spec import Transform
from safeforge.probes._variants import apply_chain, parse_chain
from safeforge.probes.loaders import iter_dataset
from safeforge.probes.suites import sample_groups, suite_probes
from safeforge.records import Probe

KEEP = 8192
"""Plans of at most this many probes are kept in memory after the check (about 20 MB);
larger ones are read again from their sources when the scan sends them."""


def iter_probes(
    *,
    datasets: Sequence[str] = (),
    suite: str | None = None,
    families: Sequence[str] = (),
    transforms: Sequence[str] = (),
    seed: int = 0,
    notes: bool = True,
) -> Iterator[Probe]:
    """Every probe of the scan before ``limit`` sampling, in ``resolve_probes`` order: family
    probes, then each dataset's, then each transform's copies of all of them. Unknown suites,
    families and transforms are errors now; bad rows when they are reached. ``notes``: say
    what the loaders assumed (on the first of several reads only)."""
    chains = [parse_chain(spec) for spec in transforms]
    base = suite_probes(suite, families, seed)

    def originals(notes: bool = False) -> Iterator[Probe]:
        return itertools.chain(base, *(iter_dataset(spec, notes=notes) for spec in datasets))

    copies = (_transformed(originals, chain, seed) for chain in chains)
    return itertools.chain(originals(notes), *copies)


def _transformed(
    originals: Callable[[], Iterator[Probe]], chain: list[Transform], seed: int
) -> Iterator[Probe]:
    for probe in originals():  # a fresh read of the originals, started only when reached
        copy = apply_chain(probe, chain, seed)
        if copy is not None:
            yield copy


def ids_digest(ids: Iterable[str]) -> str:
    """SHA-256 of the ids joined by newlines (what a run's fingerprint records of its probes)."""
    digest = hashlib.sha256()
    for i, pid in enumerate(ids):
        digest.update(b"\n" if i else b"")
        digest.update(pid.encode())
    return digest.hexdigest()


@dataclass(frozen=True)
class ProbePlan:
    """The checked probes of a scan: ``n`` of them, their ``ids`` digest, and a fresh iterator
    over them each time the plan is iterated."""

    n: int
    ids: str
    source: Callable[[], Iterator[Probe]]

    def __iter__(self) -> Iterator[Probe]:
        return self.source()


def plan_probes(
    *,
    datasets: Sequence[str] = (),
    suite: str | None = None,
    families: Sequence[str] = (),
    transforms: Sequence[str] = (),
    limit: int | None = None,
    seed: int = 0,
) -> ProbePlan:
    """Check every probe once (bad rows, duplicate ids, nothing to scan) and plan the scan."""
    if limit is not None:
        if limit < 1:
            raise SafeforgeError(f"--limit must be at least 1 (got {limit})")
        chosen = sample_groups(checked(datasets, suite, families, transforms, seed), limit, seed)
        return ProbePlan(len(chosen), ids_digest(p.id for p in chosen), lambda: iter(chosen))

    def source(notes: bool = False) -> Iterator[Probe]:
        return iter_probes(
            datasets=datasets, suite=suite, families=families, transforms=transforms, seed=seed, notes=notes
        )

    hashes = array("q")
    kept: list[Probe] = []
    digest = ids_digest(_hashed(source(notes=True), hashes, kept))

    def from_memory() -> Iterator[Probe]:
        return iter(kept)

    reread = from_memory if len(hashes) <= KEEP else source  # a small plan is read once
    _no_duplicates(hashes, reread)
    return ProbePlan(len(hashes), digest, reread)


def checked(
    datasets: Sequence[str], suite: str | None, families: Sequence[str], transforms: Sequence[str], seed: int
) -> list[Probe]:
    """All the probes in memory, checked (what ``resolve_probes`` returns before ``limit``)."""
    probes = list(
        iter_probes(datasets=datasets, suite=suite, families=families, transforms=transforms, seed=seed)
    )
    _no_duplicates(array("q", (_hash(p.id) for p in probes)), lambda: iter(probes))
    return probes


def _hash(pid: str) -> int:
    return int.from_bytes(hashlib.blake2b(pid.encode(), digest_size=8).digest(), "little", signed=True)


def _hashed(probes: Iterator[Probe], hashes: array[int], kept: list[Probe]) -> Iterator[str]:
    """Each probe's id, its hash appended to ``hashes``; the first ``KEEP`` probes kept (the
    list is emptied once the plan outgrows it)."""
    for probe in probes:
        hashes.append(_hash(probe.id))
        if len(hashes) <= KEEP:
            kept.append(probe)
        elif kept:
            kept.clear()
        yield probe.id


def _no_duplicates(hashes: array[int], source: Callable[[], Iterator[Probe]]) -> None:
    """Raise naming the first id that occurs twice (found by hash, confirmed by id)."""
    import numpy as np  # only for sorting eight bytes per probe

    if not hashes:
        raise SafeforgeError("nothing to scan: give --dataset FILE, --suite NAME or --family NAME")
    ordered = np.sort(np.frombuffer(hashes, dtype=np.int64))
    repeated = set(ordered[1:][ordered[1:] == ordered[:-1]].tolist())
    if not repeated:
        return
    seen: set[str] = set()
    for probe in source():
        if _hash(probe.id) in repeated:
            if probe.id in seen:
                raise SafeforgeError(
                    f"probe id {probe.id!r} appears twice: a dataset has duplicate rows or ids, or a "
                    "dataset or family was given twice"
                )
            seen.add(probe.id)
