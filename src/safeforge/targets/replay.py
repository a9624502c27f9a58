"""``replay:FILE`` — answers from recorded transcripts, so logged conversations and published
model completions are scored offline with the same judges and metrics as a live scan.

FILE is CSV (header row) or JSONL with a ``prompt`` and a ``response`` column; an optional
``id`` column matches probes by id first (use it when one prompt was recorded with different
system prompts). A probe with no recorded answer becomes an error attempt, never a guess.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path

from safeforge.errors import SafeforgeError
from safeforge.records import Completion, Probe
from safeforge.targets._base import TargetOptions


def read_transcript(path: Path) -> list[dict[str, str]]:
    """Rows of a CSV or JSONL transcript as string dicts, with one clear error per problem."""
    if not path.is_file():
        raise SafeforgeError(f"replay file not found: {path}")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SafeforgeError(f"{path}: not valid UTF-8 at byte {exc.start}; re-save it as UTF-8") from None
    if path.suffix.lower() in {".jsonl", ".ndjson"}:
        rows = []
        for lineno, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise SafeforgeError(f"{path}:{lineno}: invalid JSON ({exc.msg})") from None
            if not isinstance(obj, dict):
                raise SafeforgeError(f"{path}:{lineno}: expected one JSON object per line")
            rows.append({str(k): "" if v is None else str(v) for k, v in obj.items()})
        return rows
    reader = csv.DictReader(text.splitlines())
    return [{k: v or "" for k, v in row.items() if k is not None} for row in reader]


class ReplayTarget:
    """Looks each probe up in the transcript (by id, then by prompt text)."""

    batch_size = 64

    def __init__(self, path: Path) -> None:
        rows = read_transcript(path)
        if not rows:
            raise SafeforgeError(f"{path}: no rows")
        missing = {"prompt", "response"} - set(rows[0])
        if missing:
            cols = ", ".join(rows[0]) or "none"
            raise SafeforgeError(f"{path}: missing column(s) {', '.join(sorted(missing))} (columns: {cols})")
        self.id = f"replay:{path.name}"
        self._by_id: dict[str, str] = {}
        self._by_prompt: dict[str, str] = {}
        for row in rows:
            if row.get("id"):
                self._by_id.setdefault(row["id"], row["response"])
            self._by_prompt.setdefault(row["prompt"].strip(), row["response"])

    async def generate_async(self, probes: Sequence[Probe]) -> list[Completion]:
        out = []
        for probe in probes:
            text = self._by_id.get(probe.id)
            if text is None:
                text = self._by_prompt.get(probe.prompt.strip())
            if text is None:
                out.append(Completion(error="replay: no recorded response for this prompt"))
            else:
                out.append(Completion(text=text, finish_reason="recorded"))
        return out

    async def aclose(self) -> None:
        return None


def replay(rest: str, options: TargetOptions) -> ReplayTarget:
    """Factory for ``replay:FILE``."""
    if not rest:
        raise SafeforgeError("replay target needs a file: replay:FILE.jsonl")
    return ReplayTarget(Path(rest))
