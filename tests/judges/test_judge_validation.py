"""VALIDATION.md's headline rows, recomputed from the shared benchmark files: each figure the
document states must come out of the shipped judges again, within the interval it states.

Cost (the whole suite has a CI budget): each gold file is judged once per judge and rows that
combine files reuse those labels, and a module-wide memo of the encoder's vectors lets the
``critic`` row reuse what the ``embed`` harm row encoded (the same texts through the same
encoder give the same vectors, so the figures are unchanged)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest

from safeforge.judges import create_judge
from safeforge.judges.agreement import agreement
from safeforge.judges.encoder import Encoder
from safeforge.judges.evaluate import predict_async
from safeforge.judges.gold import GoldItem, load_gold, split_spec
from safeforge.records import Label, Task

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


_LABELS: dict[tuple[str, str, str], tuple[list[GoldItem], list[Label]]] = {}


@pytest.fixture(scope="module")
def _memo_vectors() -> Iterator[None]:
    """Encoder vectors memoised per (encoder setting, text) for this module's rows."""
    memo: dict[tuple[str, int, int, str], np.ndarray] = {}
    plain = Encoder.encode

    def encode(self: Encoder, texts: Sequence[str]) -> np.ndarray:
        setting = (str(self.backend), self.max_tokens, self.layers)
        missing = [t for t in dict.fromkeys(texts) if (*setting, t) not in memo]
        for t, v in zip(missing, plain(self, missing), strict=True):
            memo[(*setting, t)] = v
        return np.stack([memo[(*setting, t)] for t in texts]) if texts else plain(self, texts)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Encoder, "encode", encode)
        yield


def _labels(judge: str, spec: str, task: Task) -> tuple[list[GoldItem], list[Label]]:
    """(gold items, the judge's labels) for one gold file, computed once per module."""
    key = (judge, spec, task.value)
    if key not in _LABELS:
        items = load_gold(spec, task)
        options = {"task": task.value} if judge == "embed" else {}
        _LABELS[key] = items, asyncio.run(predict_async(create_judge(judge, **options), items, task))
    return _LABELS[key]


@pytest.mark.slow
@pytest.mark.shared_data
@pytest.mark.usefixtures("_memo_vectors")
@pytest.mark.parametrize("row", headline_rows(), ids=lambda r: f"{r[0]}-{r[1].split('/')[-1]}")
def test_headline_row_recomputes_within_its_interval(row: list[str], benchmarks_dir: Path) -> None:
    pytest.importorskip("onnxruntime")
    judge, spec, task, _, n = row[:5]
    fmt, relative = spec.split(":", 1) if ":" in spec else ("", spec)
    paths = [benchmarks_dir / p for p in relative.split("+")]
    items: list[GoldItem] = []
    pred: list[Label] = []
    for p in paths:
        # a folder of files: judge each file once, shared with the rows that name it
        for f in sorted(p.glob("*.csv")) if p.is_dir() else [p]:
            got = _labels(judge, f"{fmt or split_spec(str(f))[0]}:{f}", _TASKS[task])
            items, pred = items + got[0], pred + got[1]
    assert len(items) == int(n.replace(",", ""))
    result = agreement(_TASKS[task], [i.label for i in items], pred)
    stated, lo, hi = _interval(row[5])
    assert lo <= result.accuracy <= hi, f"{judge} on {spec}: {result.accuracy:.3f} vs stated {stated:.3f}"
