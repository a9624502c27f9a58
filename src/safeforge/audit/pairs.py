"""Preference-pair files -> ``Pair`` records. A spec is ``[FORMAT:]PATH`` (``.jsonl``, ``.json``,
``.csv``, each optionally gzipped).

- ``hh-rlhf``: Anthropic HH-RLHF rows, ``chosen`` and ``rejected`` each a whole transcript in
  ``\\n\\nHuman: … \\n\\nAssistant: …`` form that differ in the last assistant turn;
- ``preference``: TRL's preference columns, ``chosen`` / ``rejected`` (strings or lists of
  ``{"role", "content"}`` messages) and an optional ``prompt`` (string or messages) before them.

Without a prefix the format is detected from the first row. Rows that are not a usable pair
(no final assistant turn, an empty side) are skipped and counted, never scored; a file with no
usable pair at all is an error naming it. ``limit`` keeps a seeded, order-independent
subsample (the pairs whose hashed contents are lowest).
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from safeforge.audit.records import Chat, Pair
from safeforge.errors import SafeforgeError
from safeforge.records import Message

FORMATS = ("hh-rlhf", "preference")
_TURN = re.compile(r"\n\n(Human|Assistant): ?")


@dataclass(frozen=True)
class PairFile:
    """The usable pairs of one file, and how many rows were skipped."""

    subset: str
    source: str
    pairs: list[Pair]
    skipped: int


def _read_text(path: Path) -> str:
    if not path.is_file():
        raise SafeforgeError(f"pairs file not found: {path}")
    raw = path.read_bytes()
    try:
        data = gzip.decompress(raw) if path.suffix.lower() == ".gz" else raw
        return data.decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise SafeforgeError(f"{path}: not readable as UTF-8 text ({exc})") from exc


def read_records(path: Path) -> list[dict[str, Any]]:
    """Rows of a JSONL / JSON-array / CSV file (``.gz`` allowed), values kept as parsed."""
    text = _read_text(path)
    kind = Path(path.name.removesuffix(".gz")).suffix.lower()
    if kind == ".csv":
        return list(csv.DictReader(io.StringIO(text, newline="")))
    rows: list[Any]
    if kind == ".json" and text.lstrip().startswith("["):
        try:
            rows = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SafeforgeError(f"{path}:{exc.lineno}: invalid JSON ({exc.msg})") from exc
    else:
        rows = []
        for lineno, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise SafeforgeError(f"{path}:{lineno}: invalid JSON ({exc.msg})") from exc
    if not all(isinstance(r, dict) for r in rows):
        raise SafeforgeError(f"{path}: expected one JSON object per row")
    return [dict(r) for r in rows]


def parse_transcript(text: str) -> Chat:
    """``\\n\\nHuman: … \\n\\nAssistant: …`` -> messages (text before the first marker dropped)."""
    parts = _TURN.split("\n\n" + text.lstrip("\n") if not text.startswith("\n\n") else text)
    turns = []
    for role, content in zip(parts[1::2], parts[2::2], strict=True):
        turns.append(Message(role="user" if role == "Human" else "assistant", content=content.strip()))
    return tuple(turns)


def _messages(value: Any) -> Chat:
    if isinstance(value, str):
        return (Message(role="assistant", content=value),)
    if isinstance(value, list):
        return tuple(Message(role=m["role"], content=str(m["content"])) for m in value)
    raise ValueError("expected a string or a list of messages")


def _usable(chat: Chat) -> bool:
    return len(chat) >= 2 and chat[-1].role == "assistant" and bool(chat[-1].content.strip())


def _row_pair(fmt: str, row: dict[str, Any], pid: str, subset: str) -> Pair | None:
    try:
        if fmt == "hh-rlhf":
            x, y = parse_transcript(str(row["chosen"])), parse_transcript(str(row["rejected"]))
        else:
            prompt = row.get("prompt") or ()
            context = (
                (Message(role="user", content=prompt),) if isinstance(prompt, str) else _messages(prompt)
            )
            x, y = context + _messages(row["chosen"]), context + _messages(row["rejected"])
    except (KeyError, ValueError, TypeError):
        return None
    if not (_usable(x) and _usable(y)):
        return None
    return Pair(id=pid, group=subset, x=x, y=y)


def detect(row: dict[str, Any]) -> str:
    if not {"chosen", "rejected"} <= row.keys():
        raise SafeforgeError("a pairs file needs 'chosen' and 'rejected' columns")
    chosen = row["chosen"]
    hh = "prompt" not in row and isinstance(chosen, str) and "\n\nAssistant:" in chosen
    return "hh-rlhf" if hh else "preference"


def sample(pairs: Sequence[Pair], limit: int | None, seed: int) -> list[Pair]:
    """At most ``limit`` pairs: those whose hashed contents are lowest (seeded; the same pairs
    whatever their order in the file)."""
    if limit is None:
        return list(pairs)

    def rank(p: Pair) -> bytes:
        text = p.model_dump_json(include={"x", "y"})
        return hashlib.blake2b(f"{seed}\0{text}".encode(), digest_size=8).digest()

    return sorted(pairs, key=rank)[:limit]


def load_pairs(spec: str, *, limit: int | None = None, seed: int = 0) -> PairFile:
    """Load ``[FORMAT:]PATH`` (see the module docstring)."""
    head, sep, rest = spec.partition(":")
    fmt: str | None = head if sep and head in FORMATS else None
    path = Path(rest if fmt else spec).expanduser()
    rows = read_records(path)
    if not rows:
        raise SafeforgeError(f"{path}: no rows")
    try:
        fmt = fmt or detect(rows[0])
    except SafeforgeError as exc:
        raise SafeforgeError(f"{path}: {exc}") from None
    subset = f"{fmt}:{path.parent.name}/{path.name.split('.')[0]}"
    pairs = [_row_pair(fmt, row, f"{subset}:{i}", subset) for i, row in enumerate(rows)]
    usable = [p for p in pairs if p is not None]
    if not usable:
        raise SafeforgeError(f"{path}: no row is a usable {fmt} pair (chosen/rejected ending in an answer)")
    usable = sample(usable, limit, seed)
    skipped = sum(p is None for p in pairs)
    return PairFile(subset=subset, source=str(path), pairs=usable, skipped=skipped)
