"""``safeforge export``: a run's attempts as JSONL (full records), CSV or Parquet (flat rows,
one column per judge label, the taxonomy ids in one column) for other tools; ``sarif``: its
failed probes as SARIF 2.1.0 for code-scanning UIs (``sarif.py``); ``conversations``: an
attack's conversation nodes (id, turn, parent, attacker reply) each with the target's answer
and verdicts, one JSON line per node; ``dpo``: a guard's recorded
reranking decisions as TRL preference rows (chosen vs rejected candidate, see
:func:`safeforge.rerank.dpo_pairs`)."""

from __future__ import annotations

import csv
import itertools
import json
from collections.abc import Iterator, Sequence
from enum import StrEnum
from pathlib import Path
from typing import Any

from safeforge.errors import require
from safeforge.records import Attempt
from safeforge.run.result import Run
from safeforge.run.store import Store

BASE_COLUMNS = (
    "probe_id",
    "family",
    "scenario",
    "method",
    "variant",
    "category",
    "taxonomy",
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
    SARIF = "sarif"
    CONVERSATIONS = "conversations"
    DPO = "dpo"


EXPORT_BATCH = 5000
"""Rows per Parquet row group (the export streams the store: memory does not grow with the run)."""
_INTS, _FLOATS = ("retries", "prompt_tokens", "completion_tokens"), ("latency_s",)


def flat_rows(attempts: Sequence[Attempt]) -> tuple[list[str], list[dict[str, Any]]]:
    """Columns and one flat dict per attempt; judge ``J`` adds ``J`` (label) and ``J_score``."""
    judges = list(dict.fromkeys(v.judge for a in attempts for v in a.verdicts))
    return columns_for(judges), [flat_row(a, judges) for a in attempts]


def columns_for(judges: Sequence[str]) -> list[str]:
    return [*BASE_COLUMNS, *(c for j in judges for c in (j, f"{j}_score"))]


def flat_row(a: Attempt, judges: Sequence[str]) -> dict[str, Any]:
    """One attempt as a flat dict (the latest verdict of each of ``judges``)."""
    p, c = a.probe, a.completion
    row: dict[str, Any] = {
        "probe_id": p.id,
        "family": p.family,
        "scenario": p.scenario.value,
        "method": p.method.value,
        "variant": p.variant,
        "category": p.category,
        "taxonomy": " ".join(p.taxonomy),
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
    return row


def export_run(run_dir: Path, fmt: ExportFormat | str, out: Path | None = None) -> Path:
    """Write ``run_dir``'s attempts to ``out`` (default ``RUN_DIR/attempts.FORMAT``;
    ``RUN_DIR/findings.sarif`` for the failed probes, ``RUN_DIR/dpo.jsonl`` for the DPO pairs),
    streaming them from the store."""
    fmt = ExportFormat(fmt)
    run = Run.open(run_dir)
    if fmt is ExportFormat.SARIF:
        from safeforge.run.sarif import write_sarif

        out = out or run.dir / "findings.sarif"
        write_sarif(run, out)
        return out
    if fmt is ExportFormat.CONVERSATIONS:
        out = out or run.dir / "conversations.jsonl"
        _write_conversations(run, out)
        return out
    if fmt is ExportFormat.DPO:
        from safeforge.rerank import dpo_pairs

        out = out or run.dir / "dpo.jsonl"
        with out.open("w", encoding="utf-8") as fh:
            fh.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in dpo_pairs(run.attempts()))
        return out
    out = out or run.dir / f"attempts.{fmt.value}"
    if fmt is ExportFormat.JSONL:
        with out.open("w", encoding="utf-8") as fh:
            fh.writelines(attempt.model_dump_json() + "\n" for attempt in run.iter_attempts())
        return out
    judges = run.judge_names()
    rows = (flat_row(a, judges) for a in run.iter_attempts())
    if fmt is ExportFormat.PARQUET:
        _write_parquet(out, columns_for(judges), judges, rows)
        return out
    with out.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns_for(judges))
        writer.writeheader()
        writer.writerows(rows)
    return out


def _write_conversations(run: Run, out: Path) -> None:
    """Each node as its JSON record plus ``answer``: the target's attempt (with verdicts) or null."""
    with Store(run.store_path) as store:
        nodes = store.nodes()
        answers = store.attempts_by_id([n.probe_id for n in nodes if n.probe_id])
    with out.open("w", encoding="utf-8") as fh:
        for node in nodes:
            answer = answers.get(node.probe_id or "")
            row = {
                **node.model_dump(mode="json"),
                "answer": answer.model_dump(mode="json") if answer else None,
            }
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def _write_parquet(
    out: Path, columns: list[str], judges: Sequence[str], rows: Iterator[dict[str, Any]]
) -> None:
    """Row groups of ``EXPORT_BATCH`` under one fixed schema (numbers typed, text as strings)."""
    pq = require("pyarrow.parquet", "parquet")
    pa = require("pyarrow", "parquet")
    floats = {*_FLOATS, *(f"{j}_score" for j in judges)}
    schema = pa.schema(
        [(c, pa.int64() if c in _INTS else pa.float64() if c in floats else pa.string()) for c in columns]
    )
    with pq.ParquetWriter(out, schema) as writer:
        while batch := list(itertools.islice(rows, EXPORT_BATCH)):
            writer.write_table(pa.Table.from_pylist(batch, schema=schema))
