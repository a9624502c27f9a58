"""Shared fixtures. The hub is switched off for every test: nothing may touch the network."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

for _key, _value in {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "TOKENIZERS_PARALLELISM": "false",
}.items():
    os.environ.setdefault(_key, _value)

REPO = Path(__file__).resolve().parents[1]
BENCHMARKS = Path(os.environ.get("SAFEFORGE_BENCHMARKS", REPO.parent / "shared" / "data" / "benchmarks"))


@pytest.fixture(scope="session")
def benchmarks_dir() -> Path:
    """The real public benchmark files (present in CI beside the clone, not on a user's machine)."""
    if not BENCHMARKS.is_dir():
        pytest.skip(f"benchmark data not found at {BENCHMARKS} (set SAFEFORGE_BENCHMARKS to its path)")
    return BENCHMARKS


# --- tiny offline models (helper B): real transformers models built from configs, no download ---


@pytest.fixture(scope="session")
def tiny_model_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """arch ("gpt2", "qwen2") -> dir of a tiny random causal LM with tokenizer + chat template.

    Built once per session (a few seconds). Treat the dirs as read-only: copy one before
    training into it. Skips when the [hf] extra is not installed.
    """
    pytest.importorskip("transformers")
    from safeforge.models import ARCHS, DEMO_CORPUS, build_tiny_model, build_tiny_tokenizer

    root = tmp_path_factory.mktemp("tiny_models")
    tok = build_tiny_tokenizer(DEMO_CORPUS, root / "tokenizer")
    # a wide init makes the untrained models emit varied, prompt-dependent text with decisive argmaxes
    return {arch: build_tiny_model(arch, tok, root / arch, initializer_range=0.5) for arch in ARCHS}
