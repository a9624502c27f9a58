"""``safeforge judges train``: rebuild the heads (``data/heads.safetensors`` and the harm
cross-encoder beside it, ``harm_cross.safetensors``) from data.

Not bit for bit: today's code gives refusal and request heads that differ from the shipped ones
(weights by up to 0.08), which an earlier revision of the code trained. Traced so far: the rules'
refusal score, a refusal-head feature, changed by 0.05 on 6 of its 3,485 training rows after the
head was fit (``ed3c15a``: premise corrections); the request head's 5,418 training rows are
identical, yet it drifts too, so the encoder's vectors differ as well (not traced further).
Retrain and re-measure VALIDATION.md before shipping a new file. The cross-encoder's fine-tuning
takes ~25 min on 2 cores.

Each head records what it was trained on and the encoder settings it needs (``HEAD.layers``,
``HEAD.max_tokens``); the judges build that encoder. The training sets are in
``training_data.py``:

* **refusal** (3-way): synthetic responses written from the label definitions plus
  Do-Not-Answer action 0/5 responses, on the fast encoder (``REFUSAL_ENCODER``).
* **harm** (harmful compliance): the cross-encoder of ``cross.py`` fine-tuned on GPTFuzz's 7,700
  and Do-Not-Answer's 5,634 human-labelled responses. Its dev protocol (what it was chosen on,
  against the frozen head it replaced) is ``benchmarks/harm_cross_encoder.py``.
* **request** (is the prompt harmful): the probe library's prompts and public prompt sets.

XSTest and JailbreakBench's judge comparison are never training data: they are the validation
sets (``VALIDATION.md``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from safeforge.errors import require
from safeforge.judges.cross import CROSS_NAME, train_cross, tuned_state
from safeforge.judges.encoder import Backend, Encoder
from safeforge.judges.heads import (
    F32,
    HARM_CLASSES,
    HEADS_PATH,
    REFUSAL_CLASSES,
    LogReg,
    fit_logreg,
    rule_features,
    save_heads,
)
from safeforge.judges.request import request_inputs
from safeforge.judges.training_data import (
    BenchmarkDir,
    RequestRow,
    harm_training_set,
    refusal_training_set,
    request_training_set,
)
from safeforge.records import Label

# (layers, max_tokens) per head, chosen on dev data only (VALIDATION.md says which)
REFUSAL_ENCODER = (2, 64)
REQUEST_ENCODER = (6, 64)
REFUSAL_L2, REQUEST_L2 = 0.05, 1e-2


def refusal_inputs(encoder: Encoder, texts: list[str]) -> F32:
    """The refusal head's input: the response embedding plus the rule features."""
    return np.hstack([encoder.encode(texts), rule_features(texts)])


def train_refusal(encoder: Encoder, rows: list[tuple[str, Label]]) -> LogReg:
    """The 3-way refusal head (no class weighting: the synthetic mix sets the prior)."""
    x = refusal_inputs(encoder, [t for t, _ in rows])
    y = np.asarray([REFUSAL_CLASSES.index(lab.value) for _, lab in rows], dtype=np.int64)
    return fit_logreg(x, y, len(REFUSAL_CLASSES), l2=REFUSAL_L2, class_weight=False)


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
) -> Path:
    """Train the refusal and request heads (written to ``out`` with their provenance and encoder
    settings) and the harm cross-encoder (written beside it as ``harm_cross.safetensors``)."""
    st: Any = require("safetensors.torch", "embed")
    refusal_enc = _encoder(backend, REFUSAL_ENCODER)
    rows = refusal_training_set(data, seed=seed)
    refusal = train_refusal(refusal_enc, rows)
    requests = request_training_set(data)
    request_enc = _encoder(backend, REQUEST_ENCODER)
    request = train_request(request_enc, requests)
    sources = sorted({r.source.partition(":")[0] for r in requests})
    items = harm_training_set(data)
    harm_trained_on = f"{len(items)} human-labelled responses: gptfuzz, do-not-answer"
    meta = {
        **_settings(
            "refusal",
            refusal_enc,
            f"{len(rows)} rows: synthetic (synth.py) + Do-Not-Answer action 0/5 responses",
            REFUSAL_CLASSES,
        ),
        **_settings("request", request_enc, f"{len(requests)} prompts: {', '.join(sources)}", HARM_CLASSES),
        "harm.trained_on": f"{CROSS_NAME}: {harm_trained_on}",
        "encoder": f"all-MiniLM-L6-v2 {backend}",
        "encoder.layers": str(refusal_enc.layers),  # readers from before per-head settings
        "encoder.max_tokens": str(refusal_enc.max_tokens),
        "seed": str(seed),
    }
    labels = np.asarray([int(i.label is Label.HARMFUL) for i in items], dtype=np.int64)
    cross = train_cross([i.prompt for i in items], [i.response for i in items], labels, seed=seed)
    save_heads(out, {"refusal": refusal, "request": request}, meta)
    st.save_file(
        tuned_state(cross),
        str(out.with_name(CROSS_NAME)),
        metadata={"trained_on": harm_trained_on, "classes": ",".join(HARM_CLASSES), "seed": str(seed)},
    )
    return out
