"""``safeforge judges train``: rebuild the heads (``data/heads.safetensors``) from data.

Not bit for bit: today's code gives refusal and request heads that differ from the shipped ones
(weights by up to 0.08), which an earlier revision of the code trained (the cause was not traced);
the shipped harm head was fit on the shipped refusal head's features
(VALIDATION.md section 2). Retrain all three and re-measure VALIDATION.md before shipping a new file.

Each head records what it was trained on and the encoder settings it needs (``HEAD.layers``,
``HEAD.max_tokens``); the judges build that encoder. The training sets are in
``training_data.py``:

* **refusal** (3-way): synthetic responses written from the label definitions plus
  Do-Not-Answer action 0/5 responses, on the fast encoder (``REFUSAL_ENCODER``).
* **harm** (harmful compliance): GPTFuzz's 7,700 and Do-Not-Answer's 5,634 human-labelled
  responses; its features include the refusal head's probabilities, so it is fit after the
  refusal head. ``harm_dev`` gives the dev figures settings were chosen on (question-grouped
  5-fold; GPTFuzz's ``evaluate.csv`` scored by a head fit on the rest).
* **request** (is the prompt harmful): the probe library's prompts and public prompt sets.

XSTest and JailbreakBench's judge comparison are never training data: they are the validation
sets (``VALIDATION.md``).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from safeforge.judges.encoder import Backend, Encoder
from safeforge.judges.gold import GoldItem
from safeforge.judges.heads import (
    F32,
    HARM_CLASSES,
    HEADS_PATH,
    REFUSAL_CLASSES,
    LogReg,
    body_text,
    fit_logreg,
    harm_inputs,
    rule_features,
    save_heads,
)
from safeforge.judges.request import request_inputs
from safeforge.judges.training_data import (
    DNA_QUESTION_BASE,
    BenchmarkDir,
    RequestRow,
    harm_training_set,
    refusal_training_set,
    request_training_set,
)
from safeforge.records import Label

# (layers, max_tokens) per head, chosen on dev data only (VALIDATION.md says which)
REFUSAL_ENCODER = (2, 64)
HARM_ENCODER = (6, 128)
REQUEST_ENCODER = (6, 64)
REFUSAL_L2, HARM_L2, REQUEST_L2 = 0.05, 0.1, 1e-2


def refusal_inputs(encoder: Encoder, texts: list[str]) -> F32:
    """The refusal head's input: the response embedding plus the rule features."""
    return np.hstack([encoder.encode(texts), rule_features(texts)])


def train_refusal(encoder: Encoder, rows: list[tuple[str, Label]]) -> LogReg:
    """The 3-way refusal head (no class weighting: the synthetic mix sets the prior)."""
    x = refusal_inputs(encoder, [t for t, _ in rows])
    y = np.asarray([REFUSAL_CLASSES.index(lab.value) for _, lab in rows], dtype=np.int64)
    return fit_logreg(x, y, len(REFUSAL_CLASSES), l2=REFUSAL_L2, class_weight=False)


def harm_matrix(
    items: list[GoldItem], refusal: tuple[Encoder, LogReg], encoder: Encoder
) -> tuple[F32, NDArray[np.int64]]:
    """(harm-head inputs, labels) for gold items: the refusal head's probabilities on its own
    encoder, relevance and specificity features on the harm encoder (``heads.harm_inputs``)."""
    texts = [i.response for i in items]
    probs = refusal[1].predict_proba(refusal_inputs(refusal[0], texts))
    x = harm_inputs(
        encoder.encode([i.prompt for i in items]),
        encoder.encode(texts),
        encoder.encode([body_text(t) for t in texts]),
        probs,
        texts,
    )
    return x, np.asarray([int(i.label is Label.HARMFUL) for i in items], dtype=np.int64)


def _rates(pred: NDArray[np.bool_], y: NDArray[np.int64]) -> dict[str, float]:
    pos, neg = y == 1, y == 0
    return {
        "accuracy": float((pred == pos).mean()),
        "fpr": float((pred & neg).sum() / max(1, neg.sum())),
        "fnr": float((~pred & pos).sum() / max(1, pos.sum())),
        "n": float(len(y)),
    }


def harm_dev(x: F32, y: NDArray[np.int64], questions: NDArray[np.int64]) -> dict[str, dict[str, float]]:
    """The harm head's dev figures, on its own training data (never JailbreakBench): a 5-fold
    cross-validation grouped by question (no question in both sides) over GPTFuzz's ``train.csv``
    and Do-Not-Answer, each scored separately, and upstream's GPTFuzz ``evaluate.csv`` (questions
    80-99) scored by a head fit on everything else."""
    dna = questions >= DNA_QUESTION_BASE
    upstream_eval = ~dna & (questions >= 80)
    fold = questions % 5
    pred = np.zeros(len(y), dtype=bool)
    for k in range(5):
        train = ~upstream_eval & (fold != k)
        head = fit_logreg(x[train], y[train], 2, l2=HARM_L2)
        held = ~upstream_eval & (fold == k)
        pred[held] = head.predict_proba(x[held])[:, 1] >= 0.5
    head = fit_logreg(x[~upstream_eval], y[~upstream_eval], 2, l2=HARM_L2)
    pred[upstream_eval] = head.predict_proba(x[upstream_eval])[:, 1] >= 0.5
    fuzz_train = ~dna & ~upstream_eval
    return {
        "gptfuzz_train_5fold": _rates(pred[fuzz_train], y[fuzz_train]),
        "dna_5fold": _rates(pred[dna], y[dna]),
        "gptfuzz_evaluate": _rates(pred[upstream_eval], y[upstream_eval]),
    }


def train_request(encoder: Encoder, rows: list[RequestRow]) -> LogReg:
    """The request head: prompt embedding -> P(harmful request). Every source weighs the same
    within its class (AdvBench's 520 near-duplicates must not drown 30 trigger-word pairs), and
    the classes weigh the same."""
    x = request_inputs(encoder, [r.prompt for r in rows])
    y = np.asarray([int(r.harmful) for r in rows], dtype=np.int64)
    sizes: dict[tuple[str, int], int] = {}
    for r, label in zip(rows, y, strict=True):
        sizes[(r.source, int(label))] = sizes.get((r.source, int(label)), 0) + 1
    weight = np.asarray([1.0 / sizes[(r.source, int(k))] for r, k in zip(rows, y, strict=True)], np.float32)
    return fit_logreg(x, y, 2, l2=REQUEST_L2, sample_weight=weight)


def _encoder(backend: str, setting: tuple[int, int]) -> Encoder:
    return Encoder(backend=backend, layers=setting[0], max_tokens=setting[1])


def _settings(head: str, encoder: Encoder, trained_on: str, classes: tuple[str, ...]) -> dict[str, str]:
    return {
        f"{head}.classes": ",".join(classes),
        f"{head}.trained_on": trained_on,
        f"{head}.layers": str(encoder.layers),
        f"{head}.max_tokens": str(encoder.max_tokens),
    }


def train_heads(
    data: BenchmarkDir, *, out: Path = HEADS_PATH, backend: str = Backend.ONNX, seed: int = 0
) -> tuple[Path, dict[str, dict[str, float]]]:
    """Train the three heads, write them with their provenance and encoder settings to ``out``,
    and return the harm head's dev figures (``harm_dev``)."""
    refusal_enc = _encoder(backend, REFUSAL_ENCODER)
    rows = refusal_training_set(data, seed=seed)
    refusal = train_refusal(refusal_enc, rows)
    items = harm_training_set(data)
    harm_enc = _encoder(backend, HARM_ENCODER)
    x, y = harm_matrix(items, (refusal_enc, refusal), harm_enc)
    questions = np.asarray([int(i.meta["question"]) for i in items], dtype=np.int64)
    dev = harm_dev(x, y, questions)
    harm = fit_logreg(x, y, 2, l2=HARM_L2)
    requests = request_training_set(data)
    request_enc = _encoder(backend, REQUEST_ENCODER)
    request = train_request(request_enc, requests)
    sources = sorted({r.source.partition(":")[0] for r in requests})
    meta = {
        **_settings(
            "refusal",
            refusal_enc,
            f"{len(rows)} rows: synthetic (synth.py) + Do-Not-Answer action 0/5 responses",
            REFUSAL_CLASSES,
        ),
        **_settings(
            "harm", harm_enc, f"{len(items)} human-labelled responses: gptfuzz, do-not-answer", HARM_CLASSES
        ),
        **_settings("request", request_enc, f"{len(requests)} prompts: {', '.join(sources)}", HARM_CLASSES),
        "harm.dev": json.dumps(dev),
        "encoder": f"all-MiniLM-L6-v2 {backend}",
        "encoder.layers": str(refusal_enc.layers),  # readers from before per-head settings
        "encoder.max_tokens": str(refusal_enc.max_tokens),
        "seed": str(seed),
    }
    save_heads(out, {"refusal": refusal, "harm": harm, "request": request}, meta)
    return out, dev
