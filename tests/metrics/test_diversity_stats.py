"""The diversity statistics against independent references: hand counts, brute-force
leave-one-out recomputation, SciPy's entropy and the textbook standard error of a mean."""

from __future__ import annotations

import math
import random
from collections import Counter

import numpy as np
import pytest
from metric_builders import attempt
from scipy.stats import entropy as scipy_entropy

from safeforge.metrics import diversity as div
from safeforge.records import Expected, Label

R, C = Expected.REFUSE, Expected.COMPLY
WORDS = ("the", "a", "cat", "dog", "sat", "ran", "help", "cannot", "with", "that", "this", "sorry")


def _texts(rng: random.Random, count: int) -> list[str]:
    return [" ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 7))) for _ in range(count)]


def _brute_distinct(texts: list[str], n: int) -> float | None:
    grams = [tuple(w[i : i + n]) for w in map(str.split, texts) for i in range(len(w) - n + 1)]
    return len(set(grams)) / len(grams) if grams else None


def test_distinct_n_by_hand() -> None:
    value, _ = div.distinct_n(["The cat sat.", "the CAT ran"], 1)
    assert value == pytest.approx(4 / 6)  # the, cat, sat, ran of 6 words
    value, _ = div.distinct_n(["The cat sat.", "the CAT ran"], 2)
    assert value == pytest.approx(3 / 4)  # (the cat) twice, (cat sat), (cat ran)
    assert div.distinct_n(["one", "two"], 2) == (None, None)  # no bigram at all


def test_distinct_leave_one_out_matches_recomputation() -> None:
    rng = random.Random(3)
    texts = _texts(rng, 40)
    for n in (1, 2):
        value, loo = div.distinct_n(texts, n)
        assert value == pytest.approx(_brute_distinct(texts, n))
        assert loo is not None
        for i in range(len(texts)):
            assert loo[i] == pytest.approx(_brute_distinct(texts[:i] + texts[i + 1 :], n))


def _brute_top5(norm: list[str]) -> float:
    return sum(sorted(Counter(norm).values(), reverse=True)[:5]) / len(norm)


def test_template_share_and_its_leave_one_out_with_ties() -> None:
    rng = random.Random(5)
    # counts with ties around the 5th/6th place, which is where the closed form could slip
    for _ in range(20):
        texts = [f"Answer {rng.randint(0, 7)}!" for _ in range(rng.randint(3, 30))]
        norm = [div.normalise(t) for t in texts]
        top, (share, loo) = div.template_counts(texts)
        assert share == pytest.approx(_brute_top5(norm))
        assert top == round(share * len(texts))  # type: ignore[operator]
        assert loo is not None
        for i in range(len(texts)):
            assert loo[i] == pytest.approx(_brute_top5(norm[:i] + norm[i + 1 :]))


def test_normalisation_ignores_case_punctuation_and_spacing() -> None:
    assert div.normalise("  I can't   help, sorry!") == div.normalise("i can t help sorry")
    top, (share, _) = div.template_counts(["No.", "no", "NO!", "yes"])
    assert (top, share) == (4, 1.0)  # two templates, both in the top five


def _items(styles: list[str | None]) -> list[div.Item]:
    return [
        div.Item(f"k{i}", f"{s}. Something else follows." if s else "Sure.", s is not None, "f", "refuse")
        for i, s in enumerate(styles)
    ]


def test_refusal_entropy_matches_scipy_and_leave_one_out() -> None:
    rng = random.Random(11)
    styles: list[str | None] = [rng.choice(["No way", "I cannot", "Sorry I won't", None]) for _ in range(50)]
    items = _items(styles)
    m, (h, loo) = div.refusal_entropy(items)
    counts = Counter(s for s in styles if s)
    assert m == sum(counts.values())
    assert h == pytest.approx(scipy_entropy(list(counts.values()), base=2))
    assert loo is not None
    for i in range(len(items)):
        rest = Counter(s for j, s in enumerate(styles) if s and j != i)
        assert loo[i] == pytest.approx(scipy_entropy(list(rest.values()), base=2))


def test_one_refusal_template_has_zero_entropy() -> None:
    items = [div.Item(f"k{i}", f"I can't help with that. Reason {i}.", True, "f", "refuse") for i in range(9)]
    _, (h, _) = div.refusal_entropy(items)
    assert h == 0.0
    assert div.style("I can't help with that! Try a library.") == "i can t help with that"


def test_dispersion_matches_brute_force_pairs() -> None:
    rng = np.random.default_rng(0)
    v = rng.normal(size=(12, 5))
    v /= np.linalg.norm(v, axis=1, keepdims=True)

    def brute(rows: np.ndarray) -> float:
        pairs = [(i, j) for i in range(len(rows)) for j in range(i + 1, len(rows))]
        return float(np.mean([1 - rows[i] @ rows[j] for i, j in pairs]))

    value, loo = div.dispersion(v.astype(np.float32))
    assert value == pytest.approx(brute(v), abs=1e-6)
    assert loo is not None
    for i in range(len(v)):
        assert loo[i] == pytest.approx(brute(np.delete(v, i, axis=0)), abs=1e-6)
    same = np.repeat(v[:1], 4, axis=0).astype(np.float32)
    assert div.dispersion(same)[0] == pytest.approx(0.0, abs=1e-6)


def test_jackknife_of_a_mean_is_the_textbook_standard_error() -> None:
    x = np.array([2.0, 3.5, 1.0, 7.0, 4.0, 4.5, 0.5])
    loo = np.array([np.delete(x, i).mean() for i in range(len(x))])
    assert div.jackknife_se(loo) == pytest.approx(x.std(ddof=1) / math.sqrt(len(x)))


def test_paired_change_is_the_jackknife_of_the_difference() -> None:
    rng = random.Random(2)
    a_texts, b_texts = _texts(rng, 30), [t.split()[0] for t in _texts(rng, 30)]
    a = [div.Item(f"k{i}", t, None, "f", "comply") for i, t in enumerate(a_texts)]
    b = [div.Item(f"k{i}", t, None, "f", "comply") for i, t in enumerate(b_texts)]
    change = div.paired_change(a, b, div.DISTINCT_1)
    diffs = np.array(
        [
            _brute_distinct(b_texts[:i] + b_texts[i + 1 :], 1)
            - _brute_distinct(a_texts[:i] + a_texts[i + 1 :], 1)  # type: ignore[operator]
            for i in range(30)
        ]
    )
    se = math.sqrt(29 / 30 * ((diffs - diffs.mean()) ** 2).sum())
    delta = _brute_distinct(b_texts, 1) - _brute_distinct(a_texts, 1)  # type: ignore[operator]
    assert change.delta == pytest.approx(delta)
    assert change.ci_low == pytest.approx(delta - 1.959963984540054 * se)
    assert change.p_value == pytest.approx(math.erfc(abs(delta) / se / math.sqrt(2)))
    assert change.relative_drop() == pytest.approx(-delta / change.a)  # type: ignore[operator]


def test_the_sample_is_the_lowest_priorities_whatever_the_order() -> None:
    attempts = [attempt(f"p{i}", R, response=f"reply {i}") for i in range(60)]
    keep = 25
    expected = sorted(attempts, key=lambda a: div.priority(f"model-a::{a.probe.id}", 7))[:keep]
    for order in (attempts, attempts[::-1], random.Random(1).sample(attempts, len(attempts))):
        acc = div.DiversityAccumulator(seed=7, size=keep)
        for a in order:
            acc.add(a)
        assert [it.text for it in acc.items()] == [a.response for a in expected]


def test_groups_errors_and_refusals_per_expected_behaviour() -> None:
    attempts = [
        *(
            attempt(f"r{i}", R, refusal=Label.FULL_REFUSAL, response=f"No {i % 2}. Sorry.", family="x")
            for i in range(6)
        ),
        *(
            attempt(f"c{i}", C, refusal=Label.FULL_COMPLIANCE, response=f"Here {i}.", family="y")
            for i in range(4)
        ),
        attempt("e0", R, error="timeout", family="x"),
    ]
    result = div.diversity(attempts, embedder=None)
    assert result.metrics[div.DISTINCT_1].n == 10
    assert result.metrics[div.DISTINCT_1].errors == 1
    entropy = result.groups[f"{div.REFUSAL_ENTROPY}.by_expected"]
    assert entropy["refuse"].value == pytest.approx(1.0)  # two styles, three each
    assert entropy["refuse"].errors == 1
    assert entropy["comply"].n == 0  # no refusals among the answers
    assert set(result.groups[f"{div.DISTINCT_2}.by_family"]) == {"x", "y"}
    share = result.groups[f"{div.TEMPLATE_SHARE}.by_family"]["x"]
    assert (share.value, share.n) == (1.0, 6)
    low, high = share.ci_low, share.ci_high
    assert high == 1.0
    assert low is not None
    assert low < 1.0  # Wilson, not a zero-width interval


def test_without_the_embed_extra_the_lexical_measures_still_work(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from safeforge.judges import encoder
    from safeforge.metrics import summarize

    monkeypatch.setattr(encoder, "_SHARED", {})
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import fails as if not installed
    attempts = [
        attempt(f"c{i}", C, refusal=Label.FULL_COMPLIANCE, response=f"Answer {i} here.") for i in range(5)
    ]
    summary = summarize(attempts)
    dispersion = summary.metrics[div.DISPERSION]
    assert (dispersion.value, dispersion.n) == (None, 0)
    assert "pip install 'safeforge[embed]'" in dispersion.basis
    assert summary.metrics[div.DISTINCT_1].value == pytest.approx(7 / 15)  # answer, here and 5 numbers
