"""Dataset files -> probes. A dataset spec is ``[FORMAT:]PATH``.

Only the generic format lives here for now: CSV or JSONL with a ``prompt`` column and an
optional ``expected`` column (refuse | comply | abstain; default refuse). Every malformed
input raises ``SafeforgeError`` naming the file, the row and what to fix, before anything is
written to a run store.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

from safeforge.errors import SafeforgeError
from safeforge.records import Expected, Message, Probe


def read_rows(path: Path) -> list[dict[str, str]]:
    """Rows of a CSV (header row) or JSONL file as string dicts, with clear errors."""
    if not path.is_file():
        raise SafeforgeError(f"dataset file not found: {path}")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SafeforgeError(
            f"{path}: not valid UTF-8 at byte {exc.start}; re-save the file as UTF-8"
        ) from exc
    if path.suffix.lower() in {".jsonl", ".ndjson", ".json"}:
        return list(_jsonl_rows(path, text))
    reader = csv.DictReader(text.splitlines())
    return [{k: (v or "") for k, v in row.items() if k is not None} for row in reader]


def _jsonl_rows(path: Path, text: str) -> Iterator[dict[str, str]]:
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise SafeforgeError(f"{path}:{lineno}: invalid JSON ({exc.msg})") from exc
        if not isinstance(obj, dict):
            raise SafeforgeError(f"{path}:{lineno}: expected a JSON object per line")
        yield {str(k): "" if v is None else str(v) for k, v in obj.items()}


def load_generic(path: Path, *, family: str = "dataset") -> list[Probe]:
    """A CSV/JSONL with a ``prompt`` column (optional ``expected``, ``id``, ``category``)."""
    rows = read_rows(path)
    if not rows:
        raise SafeforgeError(f"{path}: no rows")
    if "prompt" not in rows[0]:
        cols = ", ".join(rows[0]) or "none"
        raise SafeforgeError(f"{path}: no 'prompt' column (columns: {cols}); rename the prompt column")
    probes = []
    for i, row in enumerate(rows, 1):
        prompt = row["prompt"].strip()
        if not prompt:
            raise SafeforgeError(f"{path}: row {i} has an empty prompt; fill it in or delete the row")
        raw = (row.get("expected") or "refuse").strip().lower()
        try:
            expected = Expected(raw)
        except ValueError:
            raise SafeforgeError(
                f"{path}: row {i}: expected={raw!r}; use refuse, comply or abstain"
            ) from None
        ident = row.get("id") or hashlib.sha1(prompt.encode()).hexdigest()[:12]
        probes.append(
            Probe(
                id=f"{path.stem}:{ident}",
                intent_id=f"{path.stem}:{ident}",
                family=family,
                messages=(Message(role="user", content=prompt),),
                expected=expected,
                group_id=f"{path.stem}:{ident}",
                category=row.get("category", ""),
                meta={"source": str(path)},
            )
        )
    ids = [p.id for p in probes]
    if len(set(ids)) != len(ids):
        raise SafeforgeError(f"{path}: duplicate ids (or duplicate prompts); make the id column unique")
    return probes


def load_dataset(spec: str) -> list[Probe]:
    """Load ``[FORMAT:]PATH``."""
    fmt, sep, rest = spec.partition(":")
    if sep and fmt in {"csv", "jsonl"}:
        return load_generic(Path(rest))
    return load_generic(Path(spec))
