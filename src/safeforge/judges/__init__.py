"""Judges: batched, typed verdicts over attempts, each also usable as a TRL reward function.

``create_judge(name, **options)`` builds a registered judge; ``DEFAULT_JUDGES`` is what a scan
runs when no judge is named (cheap and offline). Validation against human labels:
``safeforge judge-eval`` and ``VALIDATION.md`` beside this file.
"""

from __future__ import annotations

from typing import Any

from safeforge.judges._base import JUDGES, Judge, JudgeFactory, RewardFn
from safeforge.judges.reward import as_reward

for _name in ("rules", "embed", "cascade", "llm", "reward_model", "leak", "abstention", "gold"):
    JUDGES.lazy(_name, f"safeforge.judges.factories:{_name}")

DEFAULT_JUDGES: tuple[str, ...] = ("cascade", "leak", "abstention")
"""The refusal cascade (rules, then the encoder where unsure), the leak and abstention detectors."""


def create_judge(name: str, **options: Any) -> Judge:
    """Build the judge registered as ``name`` (a ``SafeforgeError`` with hints if unknown)."""
    return JUDGES.get(name)(**options)


__all__ = ["DEFAULT_JUDGES", "JUDGES", "Judge", "JudgeFactory", "RewardFn", "as_reward", "create_judge"]
