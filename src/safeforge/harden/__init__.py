"""Hardening: build safety training data from what a scan found, fine-tune with TRL, rescan."""

from __future__ import annotations

from safeforge.harden.train import TrainConfig, train_dpo, train_sft

__all__ = ["TrainConfig", "train_dpo", "train_sft"]
