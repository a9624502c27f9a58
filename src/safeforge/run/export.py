"""``safeforge export``: a run's attempts as JSONL (full records), CSV or Parquet (flat rows,
one column per judge label) for other tools; ``dpo``: a guard's recorded reranking decisions as
TRL preference rows (chosen vs rejected candidate, see :func:`safeforge.rerank.dpo_pairs`)."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import Any

from safeforge.errors import require
from safeforge.records import Attempt
from safeforge.run.result import Run

BASE_COLUMNS = (
    "probe_id",
    "family",
    "scenario",
    "method",
    "variant",
    "category",
    "expected",
    "system",
    "prompt",
    "response",
    "finish_reason",
    "error",
    "retries",
    "latency_s",
    "prompt_tokens",
    "completion_tokens",
    "target",
)


class ExportFormat(StrEnum):
    JSONL = "jsonl"
    CSV = "csv"
    PARQUET = "parquet"
    DPO = "dpo"


def flat_rows(attempts: Sequence[Attempt]) -> tuple[list[str], list[dict[str, Any]]]:
    """Columns and one flat dict per attempt; judge ``J`` adds ``J`` (label) and ``J_score``."""
    judges: list[str] = []
    for attempt in attempts:
        for v in attempt.verdicts:
            if v.judge not in judges:
                judges.append(v.judge)
    rows = []
    for a in attempts:
        p, c = a.probe, a.completion
        row: dict[str, Any] = {
            "probe_id": p.id,
            "family": p.family,
            "scenario": p.scenario.value,
            "method": p.method.value,
            "variant": p.variant,
            "category": p.category,
            "expected": p.expected.value,
            "system": p.system,
            "prompt": p.prompt,
            "response": c.text,
            "finish_reason": c.finish_reason,
            "error": c.error,
            "retries": c.retries,
            "latency_s": c.latency_s,
            "prompt_tokens": c.usage.prompt_tokens,
            "completion_tokens": c.usage.completion_tokens,
            "target": a.target,
        }
        for judge in judges:
            last = next((v for v in reversed(a.verdicts) if v.judge == judge), None)
            row[judge] = last.label.value if last else None
            row[f"{judge}_score"] = last.score if last else None
        rows.append(row)
    columns = [*BASE_COLUMNS, *(c for j in judges for c in (j, f"{j}_score"))]
    return columns, rows


def export_run(run_dir: Path, fmt: ExportFormat | str, out: Path | None = None) -> Path:
    """Write ``run_dir``'s attempts to ``out`` (default ``RUN_DIR/attempts.FORMAT``;
    ``RUN_DIR/dpo.jsonl`` for the DPO pairs)."""
    fmt = ExportFormat(fmt)
    run = Run.open(run_dir)
    attempts = run.attempts()
    if fmt is ExportFormat.DPO:
        from safeforge.rerank import dpo_pairs

        out = out or run.dir / "dpo.jsonl"
        with out.open("w", encoding="utf-8") as fh:
            fh.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in dpo_pairs(attempts))
        return out
    out = out or run.dir / f"attempts.{fmt.value}"
    if fmt is ExportFormat.JSONL:
        with out.open("w", encoding="utf-8") as fh:
            for attempt in attempts:
                fh.write(attempt.model_dump_json() + "\n")
        return out
    if fmt is ExportFormat.PARQUET:
        pq = require("pyarrow.parquet", "parquet")
        pa = require("pyarrow", "parquet")
        columns, rows = flat_rows(attempts)
        table = pa.table({c: [r.get(c) for r in rows] for c in columns})
        pq.write_table(table, out)
        return out
    columns, rows = flat_rows(attempts)
    with out.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return out
