"""The statistics against independent references: closed forms, hand counts, brute force."""

from __future__ import annotations

import math
from itertools import product
from statistics import NormalDist

import numpy as np
import pytest

from safeforge.metrics.stats import (
    bootstrap_mean,
    cohen_kappa,
    mcnemar_exact,
    mcnemar_score,
    paired_bootstrap,
    tango_interval,
    wilson_interval,
    z_value,
)

Z95 = 1.959963984540054  # the 97.5 % standard-normal quantile, from tables


def wilson_by_quadratic(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson's interval as the roots of (p̂ − p)² = z² p(1 − p)/n — a different route to it."""
    p_hat = k / n
    a = 1 + z * z / n
    b = -(2 * p_hat + z * z / n)
    c = p_hat * p_hat
    disc = math.sqrt(b * b - 4 * a * c)
    return (-b - disc) / (2 * a), (-b + disc) / (2 * a)


def test_z_value_is_the_tabled_quantile() -> None:
    assert z_value() == pytest.approx(Z95, abs=1e-12)


@pytest.mark.parametrize(("k", "n"), [(8, 10), (1, 20), (19, 20), (50, 100), (3, 7), (999, 1000)])
def test_wilson_matches_the_quadratic_roots(k: int, n: int) -> None:
    low, high = wilson_interval(k, n)
    ref_low, ref_high = wilson_by_quadratic(k, n)
    assert low == pytest.approx(ref_low, abs=1e-12)
    assert high == pytest.approx(ref_high, abs=1e-12)
    assert low < k / n < high


def test_wilson_known_table_value() -> None:
    # 8/10: the textbook Wilson 95 % interval is 0.4902 – 0.9433
    low, high = wilson_interval(8, 10)
    assert (round(low, 4), round(high, 4)) == (0.4902, 0.9433)


def test_wilson_edges_stay_in_unit_interval() -> None:
    assert wilson_interval(0, 10)[0] == 0.0
    assert wilson_interval(10, 10)[1] == 1.0
    assert wilson_interval(0, 10)[1] == pytest.approx(wilson_by_quadratic(0, 10)[1])
    assert wilson_interval(0, 0) == (0.0, 1.0)
    with pytest.raises(ValueError, match="k <= n"):
        wilson_interval(5, 4)


def test_mcnemar_known_table() -> None:
    # b=8, c=2: 2 * P(X <= 2 | Bin(10, 1/2)) = 2 * 56/1024
    assert mcnemar_exact(8, 2) == 0.109375
    assert mcnemar_exact(2, 8) == 0.109375


def test_mcnemar_against_brute_force_enumeration() -> None:
    for b, c in [(0, 6), (3, 3), (1, 9), (7, 12)]:
        n = b + c
        observed = math.comb(n, b) / 2**n
        # two-sided: sum of the probabilities of all outcomes no more likely than the observed one
        brute = sum(
            math.comb(n, i) / 2**n for i in range(n + 1) if math.comb(n, i) / 2**n <= observed + 1e-15
        )
        assert mcnemar_exact(b, c) == pytest.approx(min(1.0, brute), abs=1e-12)
    assert mcnemar_exact(0, 0) == 1.0
    assert mcnemar_exact(0, 6) == pytest.approx(2 / 64)


def test_bootstrap_mean_is_seeded_and_brackets_the_mean() -> None:
    values = [0.1, 0.4, 0.35, 0.8, 0.6, 0.2, 0.9, 0.5]
    first = bootstrap_mean(values, seed=3)
    assert first == bootstrap_mean(values, seed=3)
    mean, low, high = first
    assert mean == pytest.approx(sum(values) / len(values))
    assert min(values) <= low < mean < high <= max(values)
    assert bootstrap_mean(values, seed=4) != first


def test_paired_bootstrap_detects_a_consistent_shift_and_not_noise() -> None:
    shifted = [0.2, 0.25, 0.15, 0.3, 0.2, 0.1, 0.22, 0.18, 0.27, 0.2]
    mean, low, high, p = paired_bootstrap(shifted)
    assert 0 < low < mean < high
    assert p < 0.01
    noise = [0.1, -0.1, 0.2, -0.2, 0.05, -0.05, 0.15, -0.15]
    assert paired_bootstrap(noise)[3] > 0.5
    # all pairs moved by the same amount: the exact sign test value 2 * 0.5**n
    assert paired_bootstrap([1.0] * 6)[3] == pytest.approx(2 * 0.5**6)


def test_cohen_kappa_on_a_hand_table() -> None:
    # 2x2: both yes 20, both no 15, rater A yes / B no 5, A no / B yes 10 (n = 50)
    pairs = [("y", "y")] * 20 + [("n", "n")] * 15 + [("y", "n")] * 5 + [("n", "y")] * 10
    p_o = 35 / 50
    p_e = (25 / 50) * (30 / 50) + (25 / 50) * (20 / 50)
    assert cohen_kappa(pairs) == pytest.approx((p_o - p_e) / (1 - p_e))
    assert cohen_kappa([("a", "a")] * 3) is None
    assert all(
        cohen_kappa(list(zip(x, x, strict=True))) == 1.0 for x in product("ab", repeat=4) if len(set(x)) == 2
    )


def test_mcnemar_score_is_the_normal_tail_of_the_discordant_split() -> None:
    normal = NormalDist()
    for b, c in [(8, 2), (0, 4), (12, 0), (5, 5), (1, 30)]:
        z = (c - b) / math.sqrt(b + c)
        assert mcnemar_score(b, c) == pytest.approx(2 * (1 - normal.cdf(abs(z))), abs=1e-12)
    assert mcnemar_score(0, 0) == 1.0


def _tango_by_profile_likelihood(b: int, c: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Tango's interval by a different route: the constrained MLE of the A-only cell under
    Δ = Δ0 found by maximizing the (concave) profile log-likelihood numerically, not by the
    closed form; then the score statistic, and each end of the span it does not reject."""
    m = n - b - c

    def loglik(p21: float, d0: float) -> float:
        cells = ((c, p21 + d0), (b, p21), (m, 1 - 2 * p21 - d0))
        return sum(k * math.log(p) for k, p in cells if k)

    def stat(d0: float) -> float:
        lo, hi = max(0.0, -d0) + 1e-12, (1 - d0) / 2 - 1e-12
        for _ in range(100):  # ternary search on a concave function
            x1, x2 = lo + (hi - lo) / 3, hi - (hi - lo) / 3
            lo, hi = (x1, hi) if loglik(x1, d0) < loglik(x2, d0) else (lo, x2)
        p21 = (lo + hi) / 2
        return (c - b - n * d0) / math.sqrt(n * (2 * p21 + d0 * (1 - d0)))

    def end(target: float) -> float:
        lo, hi = -1 + 1e-9, 1 - 1e-9
        for _ in range(60):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if stat(mid) > target else (lo, mid)
        return (lo + hi) / 2

    return end(z), end(-z)


@pytest.mark.parametrize(("b", "c", "n"), [(8, 2, 45), (7, 1, 21), (0, 4, 48), (3, 3, 30), (1, 20, 60)])
def test_tango_interval_matches_the_score_test_inverted_by_brute_force(b: int, c: int, n: int) -> None:
    low, high = tango_interval(b, c, n)
    ref_low, ref_high = _tango_by_profile_likelihood(b, c, n)
    assert low == pytest.approx(ref_low, abs=1e-6)
    assert high == pytest.approx(ref_high, abs=1e-6)
    assert low < (c - b) / n < high


def test_tango_interval_and_the_score_test_never_disagree() -> None:
    for b in range(25):
        for c in range(25):
            for n in {b + c + 1, b + c + 20, 200}:
                low, high = tango_interval(b, c, n)
                assert (not low <= 0 <= high) == (mcnemar_score(b, c) < 0.05), (b, c, n)


def test_minimum_detectable_effect_matches_the_tabled_sample_size() -> None:
    """Fleiss' table: 10 % vs 20 % at two-sided α = 0.05 and 80 % power needs 199 per group
    (no continuity correction), so with n = 199 the detectable rise from 10 % is 10 points."""
    from safeforge.metrics.stats import minimum_detectable_effect

    assert minimum_detectable_effect(0.10, 199) == pytest.approx(0.10, abs=5e-4)
    # a fall from 90 % mirrors a rise from 10 %; fewer probes, larger effect; none at tiny n
    assert minimum_detectable_effect(0.90, 199, rise=False) == pytest.approx(0.10, abs=5e-4)
    assert minimum_detectable_effect(0.10, 48) > 0.2  # type: ignore[operator]
    assert minimum_detectable_effect(0.5, 10) is None
    assert minimum_detectable_effect(0.1, 0) is None


def _auroc_by_pairs(scores: list[float], labels: list[bool]) -> tuple[float, float]:
    """AUC by counting every (positive, negative) pair (ties half) and DeLong's variance from its
    structural components, each computed pair by pair."""
    pos = [s for s, y in zip(scores, labels, strict=True) if y]
    neg = [s for s, y in zip(scores, labels, strict=True) if not y]

    def psi(a: float, b: float) -> float:
        return 1.0 if a > b else 0.5 if a == b else 0.0

    v10 = [sum(psi(x, y) for y in neg) / len(neg) for x in pos]
    v01 = [sum(psi(x, y) for x in pos) / len(pos) for y in neg]
    auc = sum(v10) / len(v10)

    def var(values: list[float]) -> float:
        mean = sum(values) / len(values)
        return sum((v - mean) ** 2 for v in values) / (len(values) - 1)

    return auc, var(v10) / len(pos) + var(v01) / len(neg)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_auroc_matches_pair_counting_and_delong_by_brute_force(seed: int) -> None:
    from safeforge.metrics.stats import auroc, z_value

    rng = np.random.default_rng(seed)
    labels = [bool(v) for v in rng.integers(0, 2, size=60)]
    # coarse scores so that ties occur, shifted up for positives
    scores = [float(np.round(rng.normal(0.6 if y else 0.0, 1.0), 1)) for y in labels]
    result = auroc(scores, labels)
    assert result is not None
    auc, low, high = result
    ref_auc, ref_var = _auroc_by_pairs(scores, labels)
    assert auc == pytest.approx(ref_auc)
    half = z_value() * math.sqrt(ref_var)
    assert low == pytest.approx(max(0.0, ref_auc - half))
    assert high == pytest.approx(min(1.0, ref_auc + half))


def test_auroc_edge_cases() -> None:
    from safeforge.metrics.stats import auroc

    assert auroc([0.1, 0.9], [False, True]) == (1.0, 1.0, 1.0)  # one of each: no variance
    assert auroc([0.3, 0.3, 0.3], [True, False, True])[0] == 0.5  # type: ignore[index]  # all tied
    assert auroc([0.2, 0.4], [True, True]) is None  # no negatives
    perfect_inverse = auroc([3.0, 2.0, 1.0, 0.0], [False, False, True, True])
    assert perfect_inverse is not None
    assert perfect_inverse[0] == 0.0
