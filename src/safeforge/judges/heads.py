"""Small classifier heads as plain arrays: multinomial logistic regression trained with numpy,
stored in one ``.safetensors`` file (no pickle). Feature builders live here too, so training
and inference cannot drift apart.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from safeforge.errors import SafeforgeError, require
from safeforge.judges.rules import (
    _ABSTAIN_RE,
    _DECLINE_RE,
    _FOREIGN_RE,
    _STEPS,
    classify_refusal,
    normalize,
)

F32 = NDArray[np.float32]
REFUSAL_CLASSES = ("full_compliance", "full_refusal", "partial_refusal")
HARM_CLASSES = ("safe", "harmful")  # the request head's classes (and the harm cross-encoder's)
HEADS_PATH = Path(__file__).parent / "data" / "heads.safetensors"


@dataclass
class LogReg:
    """Softmax regression: ``probs = softmax(standardise(x) @ w + b)``."""

    w: F32
    b: F32
    mean: F32
    std: F32

    def predict_proba(self, x: F32) -> F32:
        z = ((x - self.mean) / self.std) @ self.w + self.b
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        out: F32 = (e / e.sum(axis=1, keepdims=True)).astype(np.float32)
        return out


def fit_logreg(
    x: F32,
    y: NDArray[np.int64],
    n_classes: int,
    *,
    l2: float = 1e-2,
    epochs: int = 400,
    lr: float = 0.05,
    class_weight: bool = True,
    sample_weight: NDArray[np.float32] | None = None,
    seed: int = 0,
) -> LogReg:
    """Full-batch Adam on the L2-regularised cross-entropy; balanced class weights by default,
    times ``sample_weight`` where given (e.g. to keep one large source from dominating)."""
    rng = np.random.default_rng(seed)
    mean = x.mean(axis=0).astype(np.float32)
    std = (x.std(axis=0) + 1e-6).astype(np.float32)
    xs = (x - mean) / std
    w = (rng.normal(0, 0.01, (x.shape[1], n_classes))).astype(np.float32)
    b = np.zeros(n_classes, dtype=np.float32)
    onehot = np.eye(n_classes, dtype=np.float32)[y]
    counts = np.bincount(y, minlength=n_classes).astype(np.float32)
    cw = (len(y) / (n_classes * np.maximum(counts, 1))) if class_weight else np.ones(n_classes, np.float32)
    sw = cw[y][:, None].astype(np.float32)
    if sample_weight is not None:
        sw = sw * (sample_weight / sample_weight.mean())[:, None].astype(np.float32)
    state = [np.zeros_like(w), np.zeros_like(w), np.zeros_like(b), np.zeros_like(b)]
    for t in range(1, epochs + 1):
        p = LogReg(w, b, np.zeros_like(mean), np.ones_like(std)).predict_proba(xs)
        g = (p - onehot) * sw / len(y)
        gw, gb = xs.T @ g + l2 * w, g.sum(axis=0)
        for i, (param, grad) in enumerate(((w, gw), (b, gb))):
            m, v = state[2 * i], state[2 * i + 1]
            m[:] = 0.9 * m + 0.1 * grad
            v[:] = 0.999 * v + 0.001 * grad * grad
            param -= lr * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
    return LogReg(w, b, mean, std)


def rule_features(texts: Sequence[str]) -> F32:
    """Cheap response features from the rules: where declines appear, how long, how listy."""
    rows = []
    for text in texts:
        norm = normalize(text)
        head = norm[:200]
        res = classify_refusal(text)
        rows.append(
            [
                float(bool(_DECLINE_RE.search(norm) or _FOREIGN_RE.search(norm))),
                float(bool(_DECLINE_RE.search(head) or _FOREIGN_RE.search(head))),
                float(bool(_ABSTAIN_RE.search(norm))),
                res.refusal_score,
                math.log1p(len(norm)) / 8.0,
                min(len(_STEPS.findall(norm)), 10) / 10.0,
            ]
        )
    return np.asarray(rows, dtype=np.float32).reshape(len(texts), 6)


def save_heads(path: Path, heads: dict[str, LogReg], meta: dict[str, str]) -> None:
    st: Any = require("safetensors.numpy", "embed")
    tensors = {
        f"{name}.{part}": getattr(h, part) for name, h in heads.items() for part in ("w", "b", "mean", "std")
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    st.save_file(
        {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in tensors.items()}, str(path), metadata=meta
    )


def load_heads(path: Path = HEADS_PATH) -> tuple[dict[str, LogReg], dict[str, str]]:
    """Heads and their training metadata (what data each was trained on)."""
    if not path.is_file():
        raise SafeforgeError(f"judge heads not found at {path}; run `safeforge judge train`")
    st: Any = require("safetensors", "embed")
    heads: dict[str, dict[str, F32]] = {}
    with st.safe_open(str(path), framework="numpy") as fh:
        meta = dict(fh.metadata() or {})
        for key in fh.keys():  # noqa: SIM118 - safe_open is not a mapping
            name, _, part = key.rpartition(".")
            heads.setdefault(name, {})[part] = fh.get_tensor(key)
    return {n: LogReg(**parts) for n, parts in heads.items()}, meta
