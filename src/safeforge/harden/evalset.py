"""A probe file format that keeps every field: how harden scans exactly the held-out probes.

The scan engine resolves its probes from dataset specs, and the generic CSV/JSONL format
keeps only prompt and expected behaviour -- losing the family, variant and group a paired
metric (politeness gap, obfuscation drop) needs. ``probes:FILE.jsonl`` stores whole
``Probe`` records, one JSON object per line under ``probe_json``, and loads them back
unchanged. It is registered in the probe library's ``DATASETS`` registry (the probe library
points a lazy entry at ``load_probes``), so any scan -- ``safeforge scan --resume OUT/before``
included -- can read it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from safeforge.errors import SafeforgeError
from safeforge.probes.benchmarks import Row, Source, dataset_format
from safeforge.records import Probe

FORMAT = "probes"


@dataset_format(columns=("probe_json",), expected="as recorded in each probe")
def load_probes(rows: list[Row], src: Source) -> list[Probe]:
    """Whole ``Probe`` records written by :func:`write_probes` (safeforge's own format)."""
    out: list[Probe] = []
    for i, row in enumerate(rows, 1):
        try:
            out.append(Probe.model_validate_json(row["probe_json"]))
        except (KeyError, ValidationError) as exc:
            raise SafeforgeError(f"{src.origin}: row {i} is not a safeforge probe record ({exc})") from None
    return out


def write_probes(probes: Sequence[Probe], path: Path) -> str:
    """Write ``probes`` to ``path`` (JSONL) and return the dataset spec that loads them."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = (json.dumps({"probe_json": p.model_dump_json()}, ensure_ascii=False) for p in probes)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return f"{FORMAT}:{path}"
