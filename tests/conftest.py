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
