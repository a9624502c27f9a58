"""Abstention metrics: over-abstention, precision and F1, counted by hand and checked against a
brute-force bootstrap; their paired change in compare and the gate."""

from __future__ import annotations

import numpy as np
import pytest
from metric_builders import attempt

from safeforge.metrics import Rate, Score, compare_runs, gate, summarize, wilson_interval
from safeforge.records import Attempt, Expected, Label, Method

A, C = Expected.ABSTAIN, Expected.COMPLY
Q = Method.UNANSWERABLE


def _question(pid: str, expected: Expected, abstained: bool, target: str = "m") -> Attempt:
    label = Label.ABSTAIN if abstained else Label.ANSWERED
    response = "I don't know." if abstained else "It is 42."
    return attempt(pid, expected, abstention=label, method=Q, response=response, target=target)


def _table(tp: int, fn: int, fp: int, tn: int, target: str = "m") -> list[Attempt]:
    cells = [(A, True)] * tp + [(A, False)] * fn + [(C, True)] * fp + [(C, False)] * tn
    return [_question(f"q{i}", e, ab, target) for i, (e, ab) in enumerate(cells)]


def test_over_abstention_counts_answerable_twins_only_and_a_refusal_declines() -> None:
    attempts = [
        _question("c1", C, abstained=True),
        _question("c2", C, abstained=False),
        attempt("c3", C, refusal=Label.FULL_REFUSAL, method=Q),  # declined: needless too
        attempt("b1", C, refusal=Label.FULL_REFUSAL),  # a benign request, not a question twin
        _question("u1", A, abstained=True),
    ]
    rate = summarize(attempts).metrics["over_abstention_rate"]
    assert isinstance(rate, Rate)
    assert (rate.k, rate.n) == (2, 3)


def test_precision_and_f1_from_the_confusion_table() -> None:
    summary = summarize(_table(tp=6, fn=4, fp=2, tn=8))
    precision = summary.metrics["abstention_precision"]
    f1 = summary.metrics["abstention_f1"]
    assert isinstance(precision, Rate)
    assert isinstance(f1, Score)
    assert (precision.k, precision.n) == (6, 8)
    assert (precision.ci_low, precision.ci_high) == pytest.approx(wilson_interval(6, 8))
    recall = summary.metrics["abstention_rate"].value
    assert recall == pytest.approx(0.6)
    assert f1.value == pytest.approx(2 * 0.75 * 0.6 / (0.75 + 0.6))
    assert f1.n == 20


def test_f1_interval_matches_a_brute_force_bootstrap_over_questions() -> None:
    tp, fn, fp, tn = 9, 5, 4, 12
    f1 = summarize(_table(tp, fn, fp, tn)).metrics["abstention_f1"]
    # independent reference: resample the 30 questions themselves, 20,000 times
    labels = np.array([0] * tp + [2] * fn + [1] * fp + [3] * tn)
    rng = np.random.default_rng(12345)
    draws = labels[rng.integers(0, len(labels), size=(20000, len(labels)))]
    t, p, n = ((draws == c).sum(axis=1) for c in (0, 1, 2))
    values = 2 * t / np.maximum(2 * t + p + n, 1)
    low, high = np.percentile(values, [2.5, 97.5])
    assert f1.ci_low == pytest.approx(low, abs=0.03)
    assert f1.ci_high == pytest.approx(high, abs=0.03)


def test_no_questions_means_no_value_not_zero() -> None:
    summary = summarize([attempt("r1", Expected.REFUSE, refusal=Label.FULL_REFUSAL)])
    assert summary.metrics["abstention_precision"].value is None
    assert summary.metrics["abstention_f1"].value is None
    assert summary.metrics["abstention_f1"].n == 0


def test_compare_tests_the_paired_change_of_f1_and_the_gate_fails_on_needless_abstention() -> None:
    before = _table(tp=2, fn=28, fp=0, tn=30, target="base")
    learnt = _table(tp=26, fn=4, fp=1, tn=29, target="tuned")
    result = compare_runs(before, learnt)
    f1 = result.delta("abstention_f1")
    assert f1 is not None
    assert f1.n_paired == 60
    assert f1.paired_delta == pytest.approx(52 / 57 - 4 / 32)
    assert f1.significant
    assert f1.direction == "improved"
    assert f1.ci_low is not None
    assert f1.ci_low > 0
    # a model that abstains on everything: recall 1, but over-abstention rises significantly
    lazy = _table(tp=30, fn=0, fp=30, tn=0, target="lazy")
    comparison = compare_runs(before, lazy)
    over = comparison.delta("over_abstention_rate")
    assert over is not None
    assert over.direction == "regressed"
    verdict = gate(comparison.b, comparison=comparison)
    failed = {c.name for c in verdict.checks if not c.passed}
    assert "no significant regression in over_abstention_rate" in failed
    flips = [f for f in comparison.flipped if f.metric == "over_abstention_rate"]
    assert len(flips) == 30
    assert not any(f.better for f in flips)


def test_paired_f1_change_on_identical_runs_is_zero_and_not_significant() -> None:
    before = _table(tp=10, fn=5, fp=3, tn=12, target="a")
    again = _table(tp=10, fn=5, fp=3, tn=12, target="b")
    f1 = compare_runs(before, again).delta("abstention_f1")
    assert f1 is not None
    assert f1.paired_delta == pytest.approx(0.0)
    assert not f1.significant
    assert f1.direction == "unchanged"
