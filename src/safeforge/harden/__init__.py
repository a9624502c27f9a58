"""Hardening: build safety training data from what a scan found, fine-tune with TRL, rescan.

One pipeline (:func:`harden`) and one registry of techniques (``safeforge.harden.techniques``):
each technique turns the train-side pool into a hardened model or an inference wrapper; the
pipeline measures it on held-out probes.
"""

from __future__ import annotations

from safeforge.harden.evalset import load_probes, write_probes
from safeforge.harden.pipeline import (
    HardenConfig,
    HardenResult,
    TechniqueRun,
    harden,
    load_result,
    prepare,
    run_technique,
)
from safeforge.harden.pool import PoolConfig, TrainPool, train_pool
from safeforge.harden.refusals import templated_refusal
from safeforge.harden.split import IntentSplit, split_intents
from safeforge.harden.techniques import (
    TECHNIQUES,
    Claim,
    ClaimCheck,
    Technique,
    TechniqueContext,
    TechniqueOutput,
    check_claims,
    create_technique,
)
from safeforge.harden.train import TrainConfig, train_dpo, train_sft

__all__ = [
    "TECHNIQUES",
    "Claim",
    "ClaimCheck",
    "HardenConfig",
    "HardenResult",
    "IntentSplit",
    "PoolConfig",
    "Technique",
    "TechniqueContext",
    "TechniqueOutput",
    "TechniqueRun",
    "TrainConfig",
    "TrainPool",
    "check_claims",
    "create_technique",
    "harden",
    "load_probes",
    "load_result",
    "prepare",
    "run_technique",
    "split_intents",
    "templated_refusal",
    "train_dpo",
    "train_pool",
    "train_sft",
    "write_probes",
]
