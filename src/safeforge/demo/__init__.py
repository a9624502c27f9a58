"""The built-in demo: a tiny flawed assistant, scanned, hardened and rescanned on CPU."""

from __future__ import annotations

from safeforge.demo.corpus import COMPLY, corpus_rows, seed_response
from safeforge.demo.model import DemoModelConfig, build_demo_model, cache_root, demo_model_dir
from safeforge.demo.run import DemoCheck, before_after_table, demo_checks, demo_config, run_demo

__all__ = [
    "COMPLY",
    "DemoCheck",
    "DemoModelConfig",
    "before_after_table",
    "build_demo_model",
    "cache_root",
    "corpus_rows",
    "demo_checks",
    "demo_config",
    "demo_model_dir",
    "run_demo",
    "seed_response",
]
