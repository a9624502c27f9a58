"""The built-in demo: a tiny flawed assistant, scanned, hardened and rescanned on CPU -- and the
technique bench that applies every hardening technique to it under one budget."""

from __future__ import annotations

from safeforge.demo.bench import BUDGET, DEMO_OPTIONS, Budget
from safeforge.demo.corpus import POLICY, corpus_rows, seed_response
from safeforge.demo.model import DemoModelConfig, build_demo_model, cache_root, demo_model_dir
from safeforge.demo.run import demo_config, run_demo
from safeforge.demo.table import BenchRow, bench_rows, distinct_share

__all__ = [
    "BUDGET",
    "DEMO_OPTIONS",
    "POLICY",
    "BenchRow",
    "Budget",
    "DemoModelConfig",
    "bench_rows",
    "build_demo_model",
    "cache_root",
    "corpus_rows",
    "demo_config",
    "demo_model_dir",
    "distinct_share",
    "run_demo",
    "seed_response",
]
