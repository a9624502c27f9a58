"""Abstention as a classifier: precision and F1 over abstain-expected and answerable questions.

Recall needs no new counting (it is ``abstention_rate``: the abstain-expected questions the model
abstained on) and neither does the over-abstention rate (``over_abstention_rate``: the answerable
questions it abstained on); both are per-attempt outcomes in :mod:`safeforge.metrics._observe`.
Precision and F1 combine the two groups, so they are not a share of one set of attempts: they
are counted here from those outcomes, in the four cells of the confusion table

    abstain-expected, abstained  -> TP        answerable, abstained  -> FP
    abstain-expected, answered   -> FN        answerable, answered   -> TN

and joined to summaries through the builder's accumulator seam (bounded memory, any order).
Precision is a share of the abstentions (Wilson interval); F1 = 2TP / (2TP + FP + FN) gets a
seeded parametric bootstrap of the four counts. ``paired_change`` compares two runs on the
questions both scored (a paired bootstrap over those questions), for ``compare`` and the gate.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from safeforge.metrics import _observe as o
from safeforge.metrics._records import Metric, Rate, Score
from safeforge.metrics.stats import BOOTSTRAP_RESAMPLES, CONFIDENCE, wilson_interval

NAMES = (o.ABSTENTION_PRECISION, o.ABSTENTION_F1)
Cell = Literal["tp", "fp", "fn", "tn"]
CELLS: tuple[Cell, ...] = ("tp", "fp", "fn", "tn")


def cell(outcomes: Mapping[str, object]) -> Cell | None:
    """The confusion-table cell of one attempt's outcomes (``None``: not a scored question)."""
    expected = outcomes.get(o.ABSTENTION)
    if expected in ("pos", "neg"):
        return "tp" if expected == "pos" else "fn"
    answerable = outcomes.get(o.OVER_ABSTENTION)
    if answerable in ("pos", "neg"):
        return "fp" if answerable == "pos" else "tn"
    return None


def f1(tp: float, fp: float, fn: float) -> float | None:
    """``2TP / (2TP + FP + FN)``; ``None`` when the model never abstained and nothing was expected."""
    denominator = 2 * tp + fp + fn
    return 2 * tp / denominator if denominator else None


def _f1_interval(counts: Sequence[int], seed: int) -> tuple[float | None, float | None]:
    """Percentile bootstrap interval of F1 over the questions: resampling n questions with
    replacement is a multinomial draw of the (tp, fp, fn, tn) counts."""
    n = sum(counts)
    if n == 0:
        return None, None
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(n, np.asarray(counts, dtype=float) / n, size=BOOTSTRAP_RESAMPLES)
    values = _statistic(o.ABSTENTION_F1, draws)
    values = values[~np.isnan(values)]
    if not len(values):
        return None, None
    tail = (1 - CONFIDENCE) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    return float(low), float(high)


@dataclass
class AbstentionAccumulator:
    """Confusion-table counts, fed one attempt's outcomes at a time."""

    counts: dict[Cell, int] = field(default_factory=lambda: dict.fromkeys(CELLS, 0))

    def add(self, outcomes: Mapping[str, object]) -> None:
        where = cell(outcomes)
        if where is not None:
            self.counts[where] += 1

    def metrics(self, seed: int = 0) -> dict[str, Metric]:
        """``abstention_precision`` (a Rate) and ``abstention_f1`` (a Score)."""
        tp, fp, fn, tn = (self.counts[c] for c in CELLS)
        abstained = tp + fp
        low, high = wilson_interval(tp, abstained) if abstained else (None, None)
        precision = Rate(
            value=tp / abstained if abstained else None,
            ci_low=low,
            ci_high=high,
            n=abstained,
            k=tp,
            basis=o.DEFINITIONS[o.ABSTENTION_PRECISION],
        )
        value = f1(tp, fp, fn)
        f_low, f_high = _f1_interval((tp, fp, fn, tn), seed) if value is not None else (None, None)
        score = Score(
            value=value,
            ci_low=f_low,
            ci_high=f_high,
            n=tp + fp + fn + tn if value is not None else 0,
            basis=o.DEFINITIONS[o.ABSTENTION_F1],
        )
        return {o.ABSTENTION_PRECISION: precision, o.ABSTENTION_F1: score}


def cells(binary: Mapping[str, Mapping[str, object]]) -> dict[str, Cell]:
    """Each question's cell, by pairing key, from a run's per-metric outcomes."""
    out: dict[str, Cell] = {}
    for metric in (o.ABSTENTION, o.OVER_ABSTENTION):
        for key, value in binary.get(metric, {}).items():
            where = cell({metric: value})
            if where is not None:
                out[key] = where
    return out


def _statistic(name: str, counts: np.ndarray) -> np.ndarray:
    """Precision or F1 of each row of (tp, fp, fn, tn) counts (NaN where undefined)."""
    tp, fp, fn = counts[..., 0], counts[..., 1], counts[..., 2]
    denominator = tp + fp if name == o.ABSTENTION_PRECISION else 2 * tp + fp + fn
    numerator = tp if name == o.ABSTENTION_PRECISION else 2 * tp
    return np.where(denominator > 0, numerator / np.maximum(denominator, 1), np.nan)


def paired_change(
    name: str, a: Mapping[str, Cell], b: Mapping[str, Cell], alpha: float, seed: int = 0
) -> dict[str, object]:
    """Precision or F1 after minus before on the questions both runs scored, with a seeded
    paired bootstrap over those questions. Resampling n questions with replacement is a
    multinomial draw over the 16 (before cell, after cell) combinations, so the bootstrap runs
    on counts whatever n is. ``p`` is two-sided, from the bootstrap distribution shifted to mean
    zero (as ``stats.paired_bootstrap``); significant when p < ``alpha`` and the interval
    excludes 0."""
    shared = [k for k in a if k in b]
    if not shared:
        return {"n_paired": 0}
    index = {c: i for i, c in enumerate(CELLS)}
    joint = np.zeros(16)
    for k in shared:
        joint[4 * index[a[k]] + index[b[k]]] += 1
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(len(shared), joint / len(shared), size=BOOTSTRAP_RESAMPLES)
    grid = draws.reshape(-1, 4, 4)  # [resample, before cell, after cell]
    before, after = grid.sum(axis=2), grid.sum(axis=1)
    table = joint.reshape(4, 4)
    point = float(_statistic(name, table.sum(axis=0)) - _statistic(name, table.sum(axis=1)))
    diffs = _statistic(name, after) - _statistic(name, before)
    diffs = diffs[~np.isnan(diffs)]
    if np.isnan(point) or not len(diffs):
        return {"n_paired": len(shared)}
    low, high = np.percentile(diffs, [100 * alpha / 2, 100 * (1 - alpha / 2)])
    if float(diffs.std()) == 0.0:
        p = 1.0 if point == 0.0 else 1 / BOOTSTRAP_RESAMPLES
    else:
        p = max(float((np.abs(diffs - point) >= abs(point)).mean()), 1 / BOOTSTRAP_RESAMPLES)
    return {
        "n_paired": len(shared),
        "paired_delta": point,
        "ci_low": float(low),
        "ci_high": float(high),
        "p_value": p,
        "significant": p < alpha and not low <= 0.0 <= high,
    }
