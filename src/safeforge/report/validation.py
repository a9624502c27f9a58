"""The judges' validation figures (agreement with human labels), shown beside every report.

The judges package owns the figures; this module only reads them, from a ``VALIDATION``
string attribute of ``safeforge.judges`` or a ``VALIDATION.md`` file beside it, and turns the
Markdown into plain blocks (headings, paragraphs, tables) for the template to escape and
lay out. Absent figures are not an error: the report says they are missing.
"""

from __future__ import annotations

import functools
import importlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

JUDGES_DIR = Path(__file__).resolve().parents[1] / "judges"


@dataclass(frozen=True)
class Block:
    """One Markdown block: a heading, a paragraph, a list item or a table."""

    kind: Literal["heading", "paragraph", "item", "table"]
    text: str = ""
    rows: list[list[str]] = field(default_factory=list)


def _clean(text: str) -> str:
    return re.sub(r"[*`]", "", text).strip()


def parse_markdown(text: str) -> list[Block]:
    """A small, safe Markdown reader: no HTML passes through, only text and table cells."""
    blocks: list[Block] = []
    table: list[list[str]] = []
    para: list[str] = []

    def flush() -> None:
        if table:
            blocks.append(Block("table", rows=list(table)))
            table.clear()
        if para:
            blocks.append(Block("paragraph", " ".join(para)))
            para.clear()

    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("|"):
            if para:
                flush()
            cells = [_clean(c) for c in line.strip("|").split("|")]
            if not all(re.fullmatch(r":?-{2,}:?", c) for c in cells if c):
                table.append(cells)
            continue
        if table or not line:
            flush()
        if not line:
            continue
        if line.startswith("#"):
            blocks.append(Block("heading", _clean(line.lstrip("#"))))
        elif line[:2] in ("- ", "* "):
            flush()
            blocks.append(Block("item", _clean(line[2:])))
        else:
            para.append(_clean(line))
    flush()
    return blocks


def judge_validation() -> tuple[Block, ...] | None:
    """The judges' validation figures as blocks, or ``None`` when the judges publish none (each
    text is parsed once per process: a scan does it on its judging thread, before its report)."""
    text: str | None = None
    try:
        module = importlib.import_module("safeforge.judges")
        attr = getattr(module, "VALIDATION", None)
        text = attr if isinstance(attr, str) else None
    except Exception:  # a broken optional import must not break a report
        text = None
    path = JUDGES_DIR / "VALIDATION.md"
    if text is None and path.is_file():
        text = path.read_text(encoding="utf-8")
    return _parsed(text) if text else None


@functools.cache
def _parsed(text: str) -> tuple[Block, ...]:
    return tuple(parse_markdown(text))
