"""VALIDATION.md's headline rows, recomputed from the shared benchmark files: each figure the
document states must come out of the shipped judges again, within the interval it states."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from safeforge.judges import create_judge
from safeforge.judges.evaluate import evaluate
from safeforge.judges.gold import load_gold, split_spec
from safeforge.records import Task

VALIDATION = Path(__file__).resolve().parents[2] / "src" / "safeforge" / "judges" / "VALIDATION.md"
_TASKS = {"refusal": Task.REFUSAL, "harm": Task.HARM, "request": Task.REQUEST, "critic": Task.CRITIC}


def headline_rows() -> list[list[str]]:
    """The rows of the table under the "## Headline" heading (judge, gold spec, task, ...)."""
    text = VALIDATION.read_text(encoding="utf-8")
    section = text.split("## Headline", 1)[1].split("\n## ", 1)[0]
    lines = [line.strip().strip("|") for line in section.splitlines()]
    rows = [[c.strip().strip("`") for c in line.split("|")] for line in lines]
    return [r for r in rows if len(r) > 5 and r[0] not in ("judge", "") and not r[0].startswith("-")]


def _interval(cell: str) -> tuple[float, float, float]:
    value, lo, hi = (float(x) for x in re.findall(r"\d+(?:\.\d+)?", cell)[:3])
    return value / 100, lo / 100, hi / 100


def test_the_headline_table_is_there_and_parses() -> None:
    rows = headline_rows()
    assert len(rows) >= 4
    for row in rows:
        _interval(row[5])
        assert row[2] in _TASKS, row


@pytest.mark.slow
@pytest.mark.shared_data
@pytest.mark.parametrize("row", headline_rows(), ids=lambda r: f"{r[0]}-{r[1].split('/')[-1]}")
def test_headline_row_recomputes_within_its_interval(row: list[str], benchmarks_dir: Path) -> None:
    pytest.importorskip("onnxruntime")
    judge, spec, task, _, n = row[:5]
    fmt, relative = spec.split(":", 1) if ":" in spec else ("", spec)
    paths = [benchmarks_dir / p for p in relative.split("+")]
    items = [i for p in paths for i in load_gold(f"{fmt or split_spec(str(p))[0]}:{p}", _TASKS[task])]
    assert len(items) == int(n.replace(",", ""))
    options = {"task": task} if judge == "embed" else {}
    result = evaluate(create_judge(judge, **options), items, _TASKS[task])
    stated, lo, hi = _interval(row[5])
    assert lo <= result.accuracy <= hi, f"{judge} on {spec}: {result.accuracy:.3f} vs stated {stated:.3f}"
