"""``safeforge judge train``: reproduce the shipped embedding-judge heads from data.

What each head is trained on:

* **refusal head** (3-way, XSTest definitions): synthetic responses from ``synth.py`` whose
  answer bodies are TruthfulQA reference answers; plus real Do-Not-Answer responses whose
  human action label is 0 (refuse -> full_refusal) or 5 (follows -> full_compliance). Actions
  1-4 are left out because Do-Not-Answer's scheme counts refuting/disclaiming as not refusing,
  which contradicts XSTest's. Never trained on XSTest, which its figures are reported on.
* **harm head** (harmful compliance): JailbreakBench ``judge-comparison.csv`` human-majority
  labels (all 300 rows). A head trained on Do-Not-Answer does not transfer to jailbreak
  responses (see VALIDATION.md), so JailbreakBench is this head's only usable source and its
  figure is a goal-grouped 5-fold cross-validation (``harm_cross_validation``), said as such;
  ``judge-eval`` on JailbreakBench with the shipped head is in-sample and flagged.
  ``harm_training_set`` keeps the Do-Not-Answer recipe for the cross-dataset comparison.
"""

from __future__ import annotations

import csv
import json
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from safeforge.errors import SafeforgeError
from safeforge.judges.encoder import LAYERS, MAX_TOKENS, Backend, Encoder
from safeforge.judges.gold import load_dna, load_jbb
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
from safeforge.judges.synth import synthesize
from safeforge.judges.training_data import BenchmarkDir, RequestRow, request_training_set
from safeforge.records import Label, Task

csv.field_size_limit(2**24)


@dataclass(frozen=True)
class TrainData:
    """Where the training files are (paths into a benchmark folder laid out like ../shared)."""

    truthfulqa: Path
    dna: Path
    jbb: Path

    @classmethod
    def from_dir(cls, root: Path) -> TrainData:
        data = cls(
            root / "truthfulqa" / "TruthfulQA.csv",
            root / "do-not-answer" / "data_en.csv",
            root / "jbb-behaviors" / "judge-comparison.csv",
        )
        for p in (data.truthfulqa, data.dna, data.jbb):
            if not p.is_file():
                raise SafeforgeError(f"training file not found: {p}")
        return data


def _truthfulqa_answers(path: Path) -> list[str]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    out = []
    for r in rows:
        parts = [r["Best Answer"].strip(), *[c.strip() for c in r["Correct Answers"].split(";")][:2]]
        out.append(". ".join(p.rstrip(".") for p in parts if p and "no comment" not in p.lower()) + ".")
    return out


def refusal_training_set(data: TrainData, *, n_synth: int = 2500, seed: int = 0) -> list[tuple[str, Label]]:
    """(response, 3-way label) pairs for the refusal head; see the module docstring."""
    dna = load_dna(data.dna, Task.REFUSAL)
    follows = [i.response for i in dna if i.meta["action"] == "5"]
    refuses = [i.response for i in dna if i.meta["action"] == "0"]
    pool = _truthfulqa_answers(data.truthfulqa)
    rows = synthesize(n_synth, pool, seed=seed)
    rows += [(t, Label.FULL_COMPLIANCE) for t in follows]
    rng = random.Random(seed)
    rows += [(t, Label.FULL_REFUSAL) for t in rng.sample(refuses, min(len(refuses), 800))]
    return rows


def refusal_inputs(encoder: Encoder, texts: list[str]) -> F32:
    """The refusal head's input: the response embedding plus the rule features."""
    return np.hstack([encoder.encode(texts), rule_features(texts)])


def train_refusal(encoder: Encoder, rows: list[tuple[str, Label]]) -> tuple[LogReg, F32]:
    texts = [t for t, _ in rows]
    x = refusal_inputs(encoder, texts)
    y = np.asarray([REFUSAL_CLASSES.index(lab.value) for _, lab in rows], dtype=np.int64)
    return fit_logreg(x, y, len(REFUSAL_CLASSES), l2=0.05, class_weight=False), x


def harm_training_set(data: TrainData, *, seed: int = 0) -> list[tuple[str, str, int]]:
    """(prompt, response, harmful) rows: Do-Not-Answer human labels, the same responses under a
    different question (safe: off-topic), and 'restate the request, then say something else'
    variants (safe), beside restated-then-harmful ones (harmful) so restating alone is not harm."""
    items = load_dna(data.dna, Task.HARM)
    rng = random.Random(seed)
    rows = [(i.prompt, i.response, int(i.label is Label.HARMFUL)) for i in items]
    others = [i.response for i in items]
    for i in items:
        rows.append((i.prompt, rng.choice(others), 0))
        opener = f"Sure, here is {rng.choice(_RESTATE)} {i.prompt.rstrip('?.!').lower()}:"
        if i.label is Label.HARMFUL:
            rows.append((i.prompt, f"{opener}\n\n{i.response}", 1))
        elif rng.random() < 0.3:
            rows.append((i.prompt, f"{opener}\n\n{rng.choice(others)}", 0))
    return rows


_RESTATE = ("how to", "a guide on", "my answer to", "a response to")


def jbb_harm_inputs(
    encoder: Encoder, refusal_head: LogReg, data: TrainData
) -> tuple[F32, NDArray[np.int64], NDArray[np.int64]]:
    """(harm-head inputs, labels, goal-group ids) for JailbreakBench's 300 judged responses."""
    items = load_jbb(data.jbb)
    texts = [i.response for i in items]
    goals = sorted({i.prompt for i in items})
    gvec = dict(zip(goals, encoder.encode(goals), strict=True))
    rvec = encoder.encode(texts)
    bvec = encoder.encode([body_text(t) for t in texts])
    probs = refusal_head.predict_proba(np.hstack([rvec, rule_features(texts)]))
    x = harm_inputs(np.stack([gvec[i.prompt] for i in items]), rvec, bvec, probs, texts)
    y = np.asarray([int(i.label is Label.HARMFUL) for i in items], dtype=np.int64)
    return x, y, np.asarray([goals.index(i.prompt) for i in items], dtype=np.int64)


def harm_cross_validation(
    x: F32, y: NDArray[np.int64], groups: NDArray[np.int64], *, folds: int = 5, seed: int = 0
) -> dict[str, float]:
    """Goal-grouped k-fold agreement (a behaviour never sits in both train and test folds)."""
    order = np.random.default_rng(seed).permutation(int(groups.max()) + 1)
    fold = (np.argsort(order) % folds)[groups]
    pred = np.zeros(len(y), dtype=bool)
    for k in range(folds):
        head = fit_logreg(x[fold != k], y[fold != k], 2, l2=HARM_L2)
        pred[fold == k] = head.predict_proba(x[fold == k])[:, 1] >= 0.5
    pos, neg = y == 1, y == 0
    return {
        "accuracy": float((pred == pos).mean()),
        "fpr": float((pred & neg).sum() / neg.sum()),
        "fnr": float((~pred & pos).sum() / pos.sum()),
        "n": float(len(y)),
    }


HARM_L2 = 1.0
REQUEST_L2 = 1e-2


def train_request(encoder: Encoder, rows: list[RequestRow]) -> LogReg:
    """The request head: prompt embedding -> P(harmful request), balanced class weights."""
    x = request_inputs(encoder, [r.prompt for r in rows])
    y = np.asarray([int(r.harmful) for r in rows], dtype=np.int64)
    return fit_logreg(x, y, 2, l2=REQUEST_L2)


def request_meta(rows: list[RequestRow], encoder: Encoder) -> dict[str, str]:
    """Provenance of the request head, stored with it."""
    sources = sorted({r.source.partition(":")[0] for r in rows})
    return {
        "request.classes": ",".join(HARM_CLASSES),
        "request.trained_on": f"{len(rows)} prompts: " + ", ".join(sources) + " (never XSTest)",
        "request.layers": str(encoder.layers),
        "request.max_tokens": str(encoder.max_tokens),
    }


def train_heads(
    data: TrainData,
    *,
    out: Path = HEADS_PATH,
    backend: str = Backend.ONNX,
    max_tokens: int = MAX_TOKENS,
    layers: int = LAYERS,
    seed: int = 0,
) -> tuple[Path, dict[str, float]]:
    """Train both heads, write them (with their provenance and the encoder settings they need)
    to ``out``; also return the harm head's grouped 5-fold figure on JailbreakBench."""
    encoder = Encoder(backend=backend, max_tokens=max_tokens, layers=layers)
    rows = refusal_training_set(data, seed=seed)
    refusal_head, _ = train_refusal(encoder, rows)
    x, y, groups = jbb_harm_inputs(encoder, refusal_head, data)
    cv = harm_cross_validation(x, y, groups, seed=seed)
    harm_head = fit_logreg(x, y, 2, l2=HARM_L2)
    requests = request_training_set(BenchmarkDir(data.dna.parents[1]))
    request_head = train_request(encoder, requests)
    meta = {
        "refusal.classes": ",".join(REFUSAL_CLASSES),
        "refusal.trained_on": f"{len(rows)} rows: synthetic (synth.py, TruthfulQA answer bodies) + "
        "Do-Not-Answer action 0/5 responses",
        "harm.classes": ",".join(HARM_CLASSES),
        "harm.trained_on": "jbb: JailbreakBench judge-comparison.csv human_majority (300 rows)",
        "harm.cv": json.dumps(cv),
        "encoder": f"all-MiniLM-L6-v2 {backend}, max_tokens={max_tokens}, layers={layers}",
        "encoder.max_tokens": str(max_tokens),
        "encoder.layers": str(layers),
        "seed": str(seed),
        **request_meta(requests, encoder),
    }
    save_heads(out, {"refusal": refusal_head, "harm": harm_head, "request": request_head}, meta)
    return out, cv
