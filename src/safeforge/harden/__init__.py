"""Hardening: build safety training data from what a scan found, fine-tune with TRL, rescan."""

from __future__ import annotations

from safeforge.harden.evalset import load_probes, write_probes
from safeforge.harden.pipeline import HardenConfig, HardenResult, harden, load_result
from safeforge.harden.refusals import templated_refusal
from safeforge.harden.rejection_sampling import (
    DataCard,
    HardenData,
    RSConfig,
    build_rejection_sampling_data,
    build_rejection_sampling_data_async,
    expand_phrasings,
    n_benign_for,
)
from safeforge.harden.split import IntentSplit, split_intents
from safeforge.harden.train import TrainConfig, train_dpo, train_sft

__all__ = [
    "DataCard",
    "HardenConfig",
    "HardenData",
    "HardenResult",
    "IntentSplit",
    "RSConfig",
    "TrainConfig",
    "build_rejection_sampling_data",
    "build_rejection_sampling_data_async",
    "expand_phrasings",
    "harden",
    "load_probes",
    "load_result",
    "n_benign_for",
    "split_intents",
    "templated_refusal",
    "train_dpo",
    "train_sft",
    "write_probes",
]
