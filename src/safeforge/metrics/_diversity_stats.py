"""The diversity statistics (``metrics/diversity.py`` names and reports them).

Each returns its value over a set of responses together with its delete-one values -- the
statistic recomputed with each response left out, in closed form where one exists -- which give
the jackknife interval of one run and the paired jackknife of a change between two runs.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

TOP_TEMPLATES = 5
STYLE_WORDS = 12


@dataclass(frozen=True)
class Item:
    """One answered attempt as the diversity measures see it."""

    key: str
    text: str
    refused: bool | None
    """Full or partial refusal per the refusal judge; ``None`` when no judge scored it."""
    family: str
    expected: str


Stat = tuple[float | None, NDArray[np.float64] | None]


def words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def normalise(text: str) -> str:
    """Lower case, punctuation dropped, whitespace collapsed: what ``template_share`` compares."""
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def distinct_n(texts: Sequence[str], n: int) -> Stat:
    """Unique n-grams / all n-grams, and the same with each text left out. Each distinct text
    is counted once (templated answers repeat), weighted by how often it occurs."""
    times = Counter(texts)
    grams = {t: Counter(zip(*(w[i:] for i in range(n)), strict=False)) for t in times for w in [words(t)]}
    total_counts: Counter[tuple[str, ...]] = Counter()
    for t, g in grams.items():
        for gram, c in g.items():
            total_counts[gram] += c * times[t]
    total = sum(total_counts.values())
    if total == 0:
        return None, None
    unique = len(total_counts)
    left_out: dict[str, float] = {}
    for t, g in grams.items():
        rest = total - sum(g.values())
        only_here = sum(1 for gram, c in g.items() if total_counts[gram] == c)
        left_out[t] = (unique - only_here) / rest if rest else np.nan
    loo = np.array([left_out[t] for t in texts], dtype=float)
    return unique / total, None if np.isnan(loo).any() else loo


def template_counts(texts: Sequence[str]) -> tuple[int, Stat]:
    """(responses in the top-5 templates, (share, delete-one shares))."""
    normalised = {t: normalise(t) for t in set(texts)}
    norm = [normalised[t] for t in texts]
    counts = Counter(norm)
    ranked = sorted(counts.values(), reverse=True)
    top = sum(ranked[:TOP_TEMPLATES])
    sixth = ranked[TOP_TEMPLATES] if len(ranked) > TOP_TEMPLATES else 0
    n = len(texts)
    if n < 2:
        return top, (top / n if n else None, None)
    # leaving one out lowers the top-5 total only when its template is strictly above the 6th
    loo = np.array([(top - (counts[t] > sixth)) / (n - 1) for t in norm], dtype=float)
    return top, (top / n, loo)


def style(text: str) -> str:
    """A refusal's style: the first sentence, normalised, cut to ``STYLE_WORDS`` words."""
    first = re.split(r"(?<=[.!?])\s+|\n", text.strip(), maxsplit=1)[0]
    return " ".join(normalise(first).split()[:STYLE_WORDS])


def _entropy(counts: Iterable[int]) -> float:
    values = [c for c in counts if c > 0]
    total = sum(values)
    return math.log2(total) - sum(c * math.log2(c) for c in values) / total if total else 0.0


def refusal_entropy(items: Sequence[Item]) -> tuple[int, Stat]:
    """(refusals counted, (entropy of their styles, delete-one entropies over all items))."""
    styled = {t: style(t) for t in {it.text for it in items if it.refused}}
    styles = [styled[it.text] if it.refused else None for it in items]
    counts = Counter(s for s in styles if s is not None)
    m = sum(counts.values())
    if m == 0:
        return 0, (None, None)
    h = _entropy(counts.values())
    if m < 2:
        return m, (h, None)
    xlogx = sum(c * math.log2(c) for c in counts.values())
    loo = np.full(len(items), h)
    for i, s in enumerate(styles):
        if s is not None:
            c = counts[s]
            rest = xlogx - c * math.log2(c) + ((c - 1) * math.log2(c - 1) if c > 1 else 0.0)
            loo[i] = math.log2(m - 1) - rest / (m - 1)
    return m, (h, loo)


def dispersion(vectors: NDArray[np.float32]) -> Stat:
    """Mean pairwise cosine distance of unit vectors, and the same with each row left out.
    Without the m x m distance matrix: row i's distances to the others sum to
    ``(m - 1) - v_i . (S - v_i)`` with ``S`` the sum of all rows, so the cost is linear in m."""
    m = len(vectors)
    if m < 2:
        return None, None
    v = vectors.astype(np.float64)
    rows = (m - 1) - (v @ v.sum(axis=0) - np.einsum("ij,ij->i", v, v))
    total = rows.sum()
    value = max(0.0, float(total / (m * (m - 1))))  # identical rows: rounding leaves -1e-8
    if m < 3:
        return value, None
    return value, np.maximum(0.0, (total - 2 * rows) / ((m - 1) * (m - 2)))


def jackknife_se(loo: NDArray[np.float64]) -> float:
    """The delete-one jackknife standard error from the leave-one-out values."""
    n = len(loo)
    return float(math.sqrt((n - 1) / n * float(((loo - loo.mean()) ** 2).sum())))
