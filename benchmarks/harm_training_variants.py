"""The dev protocol that chose the harm head's training set (VALIDATION.md section 2), rerunnable.

Each variant is scored on two dev sets and never on JailbreakBench, the cross-dataset check:
Do-Not-Answer folds grouped by question, and GPTFuzz's upstream ``evaluate.csv`` (questions
80-99). Every head is fit on GPTFuzz ``train.csv`` plus, for the variants that use it, the other
Do-Not-Answer folds. The rule fixed before the runs: the best mean of the two accuracies wins.
Features come from the shipped refusal head and the harm encoder (``train.harm_matrix``), as the
shipped harm head's do. Takes ~6 min on 2 cores, most of it encoding 13,334 responses.

Usage: ``python benchmarks/harm_training_variants.py [--data BENCHMARKS_DIR]``.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from frozen_harm import HARM_ENCODER, HARM_L2, harm_matrix
from safeforge.judges.heads import fit_logreg, load_heads
from safeforge.judges.train import REFUSAL_ENCODER, _encoder
from safeforge.judges.training_data import DNA_QUESTION_BASE, BenchmarkDir, harm_training_set

# (name, uses Do-Not-Answer, every source weighs the same within its class, L2)
VARIANTS = [
    ("GPTFuzz only", False, False, HARM_L2),
    ("+ Do-Not-Answer, classes balanced", True, False, HARM_L2),
    ("+ Do-Not-Answer, sources weighted", True, True, HARM_L2),
    ("+ Do-Not-Answer, sources weighted, L2 1.0", True, True, 1.0),
]


def accuracy(pred: NDArray[np.bool_], y: NDArray[np.int64]) -> str:
    pos = y == 1
    fpr = (pred & ~pos).sum() / max(1, (~pos).sum())
    fnr = (~pred & pos).sum() / max(1, pos.sum())
    return f"{np.mean(pred == pos):.1%} (FPR {fpr:.1%}, FNR {fnr:.1%})"


def main() -> None:
    default = os.environ.get(
        "SAFEFORGE_BENCHMARKS", str(Path(__file__).resolve().parents[2] / "shared/data/benchmarks")
    )
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(default))
    args = parser.parse_args()
    items = harm_training_set(BenchmarkDir(args.data))
    heads, _ = load_heads()
    x, y = harm_matrix(
        items, (_encoder("onnx", REFUSAL_ENCODER), heads["refusal"]), _encoder("onnx", HARM_ENCODER)
    )
    q = np.asarray([int(i.meta["question"]) for i in items], dtype=np.int64)
    dna, fuzz_eval = q >= DNA_QUESTION_BASE, (q < DNA_QUESTION_BASE) & (q >= 80)
    fuzz_train, fold = ~dna & ~fuzz_eval, q % 5
    print(f"{'variant':44s} Do-Not-Answer held-out folds     GPTFuzz evaluate.csv          mean")
    for name, use_dna, source_weight, l2 in VARIANTS:
        pred_dna = np.zeros(len(y), dtype=bool)
        pred_eval = np.zeros(len(y), dtype=bool)
        for k in range(5):
            train = fuzz_train | (dna & (fold != k)) if use_dna else fuzz_train
            weight = None
            if source_weight:  # each (source, class) cell sums to the same weight
                weight = np.zeros(len(y), dtype=np.float32)
                for cell in (dna, ~dna):
                    for label in (0, 1):
                        m = train & cell & (y == label)
                        weight[m] = 1.0 / max(1, m.sum())
                weight = weight[train]
            head = fit_logreg(x[train], y[train], 2, l2=l2, sample_weight=weight)
            held = dna & (fold == k)
            pred_dna[held] = head.predict_proba(x[held])[:, 1] >= 0.5
            if k == 0:  # evaluate.csv is outside every fold's training set; one head scores it
                pred_eval[fuzz_eval] = head.predict_proba(x[fuzz_eval])[:, 1] >= 0.5
        a_dna = float(np.mean(pred_dna[dna] == (y[dna] == 1)))
        a_eval = float(np.mean(pred_eval[fuzz_eval] == (y[fuzz_eval] == 1)))
        print(
            f"{name:44s} {accuracy(pred_dna[dna], y[dna]):32s} "
            f"{accuracy(pred_eval[fuzz_eval], y[fuzz_eval]):29s} {(a_dna + a_eval) / 2:.1%}"
        )


if __name__ == "__main__":
    main()
