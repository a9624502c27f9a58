"""The dev protocol that chose the harm cross-encoder over the frozen harm head, rerunnable.

The previous harm head was a logistic regression on frozen MiniLM features (the response
embedding, question-response similarities, refusal probabilities, length/steps/code/hedging:
``frozen_harm.py``). It reads the question and the response apart. The cross-encoder
(``safeforge/judges/cross.py``) reads them together, so its top layers can attend from the
response to the request. Both are measured on the harm head's dev data only, never on
JailbreakBench (the cross-dataset check).

Protocol, fixed before the first run:

* Training rows: GPTFuzz ``train.csv`` plus Do-Not-Answer folds 1-4 (fold = question id mod 5).
* Dev rows: Do-Not-Answer fold 0 (questions never in training) and GPTFuzz ``evaluate.csv``
  (upstream's split: questions 80-99, never in training).
* Both fit on the same rows with the classes weighted equally (the frozen head's chosen setting).
* Rule: the cross-encoder replaces the frozen head only if the mean of its two dev accuracies is
  higher.

The cross-encoder is scored through the shipped inference path (``PairScorer``, int8 ONNX).
Usage: ``python benchmarks/harm_cross_encoder.py [--data BENCHMARKS_DIR]`` (~35 min on 2 cores:
~6 min of frozen features, ~5 min caching the frozen layers, ~8 min per epoch).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from safetensors.torch import save_file

from frozen_harm import HARM_ENCODER, HARM_L2, harm_matrix
from safeforge.judges.cross import PairScorer, train_cross, tuned_state
from safeforge.judges.heads import fit_logreg, load_heads
from safeforge.judges.train import REFUSAL_ENCODER, _encoder
from safeforge.judges.training_data import DNA_QUESTION_BASE, BenchmarkDir, harm_training_set
from safeforge.records import Label


def rates(pred: NDArray[np.bool_], y: NDArray[np.int64]) -> tuple[float, str]:
    pos = y == 1
    acc = float(np.mean(pred == pos))
    fpr = (pred & ~pos).sum() / max(1, (~pos).sum())
    fnr = (~pred & pos).sum() / max(1, pos.sum())
    return acc, f"{acc:.1%} (n={len(y)}, FPR {fpr:.1%}, FNR {fnr:.1%})"


def main() -> None:
    default = os.environ.get(
        "SAFEFORGE_BENCHMARKS", str(Path(__file__).resolve().parents[2] / "shared/data/benchmarks")
    )
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(default))
    parser.add_argument("--every", type=int, default=1, help="every n-th row only: a smoke run, not a result")
    args = parser.parse_args()
    items = harm_training_set(BenchmarkDir(args.data))[:: args.every]
    y = np.asarray([int(i.label is Label.HARMFUL) for i in items], dtype=np.int64)
    q = np.asarray([int(i.meta["question"]) for i in items], dtype=np.int64)
    dna, fuzz_eval = q >= DNA_QUESTION_BASE, (q < DNA_QUESTION_BASE) & (q >= 80)
    dna_dev = dna & (q % 5 == 0)
    train = ~fuzz_eval & ~dna_dev
    print(f"rows: {train.sum()} training, {dna_dev.sum()} Do-Not-Answer dev, {fuzz_eval.sum()} GPTFuzz dev")

    t0 = time.perf_counter()
    heads, _ = load_heads()
    refusal = (_encoder("onnx", REFUSAL_ENCODER), heads["refusal"])
    x, _ = harm_matrix(items, refusal, _encoder("onnx", HARM_ENCODER))
    frozen = fit_logreg(x[train], y[train], 2, l2=HARM_L2).predict_proba(x)[:, 1] >= 0.5
    print(f"frozen head: {time.perf_counter() - t0:.0f} s")

    t0 = time.perf_counter()
    rows = np.flatnonzero(train)
    model = train_cross(
        [items[i].prompt for i in rows], [items[i].response for i in rows], y[rows], log=print
    )
    held = np.flatnonzero(~train)
    with tempfile.TemporaryDirectory() as tmp:
        weights = Path(tmp) / "harm_cross_dev.safetensors"
        save_file(tuned_state(model), str(weights))
        scorer = PairScorer(weights)  # the shipped path: int8 ONNX
        scores = np.zeros(len(y), dtype=np.float32)
        scores[held] = scorer.score([items[i].prompt for i in held], [items[i].response for i in held])
    cross = scores >= 0.5
    print(f"cross-encoder: {time.perf_counter() - t0:.0f} s")

    print(f"\n{'method':30s} {'Do-Not-Answer fold 0':38s} {'GPTFuzz evaluate.csv':38s} mean")
    for name, pred in (("frozen head (logistic)", frozen), ("cross-encoder (int8 ONNX)", cross)):
        a, sa = rates(pred[dna_dev], y[dna_dev])
        b, sb = rates(pred[fuzz_eval], y[fuzz_eval])
        print(f"{name:30s} {sa:38s} {sb:38s} {(a + b) / 2:.1%}")


if __name__ == "__main__":
    main()
