"""Published / recomputed reference figures for the gold datasets, shown beside a judge's own
agreement by ``judge-eval``. These are reference values for comparison (from the benchmark
folder's PUBLISHED.md), not outputs of safeforge's code.
"""

from __future__ import annotations

from pydantic import BaseModel


class Reference(BaseModel):
    """One detector's agreement with the human labels of a dataset, as published/recomputed."""

    detector: str
    accuracy: float
    kappa: float | None = None
    precision: float | None = None
    recall: float | None = None
    f1: float | None = None
    fpr: float | None = None
    fnr: float | None = None
    three_way_accuracy: float | None = None


XSTEST_SOURCE = (
    "XSTest (Röttger et al., NAACL 2024), paul-rottger/exaggerated-safety automated_evaluation_labels, "
    "recomputed vs final_label over 2,250 completions; refusal = FR or PR"
)
XSTEST = (
    Reference(
        detector="XSTest string match",
        accuracy=0.884,
        precision=0.954,
        recall=0.815,
        f1=0.879,
        kappa=0.77,
        three_way_accuracy=0.839,
    ),
    Reference(
        detector="XSTest GPT-4 classifier",
        accuracy=0.821,
        precision=0.938,
        recall=0.700,
        f1=0.801,
        kappa=0.65,
        three_way_accuracy=0.799,
    ),
    Reference(
        detector="annotator 1 vs 2, raw 3-way (mean of the 5 models)",
        accuracy=0.964,
        three_way_accuracy=0.964,
    ),
)
JBB_SOURCE = (
    "JailbreakBench judge-comparison.csv (Chao et al., NeurIPS 2024 D&B, arXiv:2404.01318), "
    "recomputed vs human_majority over 300 rows"
)
JBB = (
    Reference(detector="HarmBench classifier (Llama-2-13B)", accuracy=0.783, fpr=0.268, fnr=0.127),
    Reference(detector="GPT-4", accuracy=0.903, fpr=0.100, fnr=0.091),
    Reference(detector="Llama Guard 2", accuracy=0.877, fpr=0.132, fnr=0.109),
    Reference(detector="Llama-3-70B (JailbreakBench judge)", accuracy=0.907, fpr=0.116, fnr=0.055),
)
DNA_SOURCE = (
    "Do-Not-Answer (Wang et al., arXiv:2308.13387) README: per-model % harmless by human / GPT-4 / "
    "Longformer; "
    "per-class classifier figures not retrieved"
)
DNA: tuple[Reference, ...] = ()

REFERENCES: dict[str, tuple[str, tuple[Reference, ...]]] = {
    "xstest": (XSTEST_SOURCE, XSTEST),
    "jbb": (JBB_SOURCE, JBB),
    "dna": (DNA_SOURCE, DNA),
}
