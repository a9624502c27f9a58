"""Registered judge factories: ``create_judge(name, **options)`` calls one of these.

Each imports its module only when called, so listing judges (or running the rules) never
loads torch or ONNX Runtime.
"""

from __future__ import annotations

from typing import Any

from safeforge.judges._base import Judge


def rules(**options: Any) -> Judge:
    """Keyword/structure refusal rules: 3-way + abstain, offline, ~10^4 responses/s."""
    from safeforge.judges.refusal import RulesJudge

    return RulesJudge(**options)


def embed(**options: Any) -> Judge:
    """all-MiniLM-L6-v2 + shipped heads; ``task="refusal"`` (default) or ``"harm"``."""
    from safeforge.judges.refusal import EmbedJudge

    return EmbedJudge(**options)


def cascade(**options: Any) -> Judge:
    """The default refusal judge: rules, then the encoder where unsure, then an LLM if configured."""
    from safeforge.judges.refusal import CascadeJudge

    return CascadeJudge(**options)


def llm(**options: Any) -> Judge:
    """Rubric LLM judge over any target spec (``target=``, ``task=``, ``base_url=``)."""
    from safeforge.judges.llm import LLMJudge

    return LLMJudge(**options)


def reward_model(**options: Any) -> Judge:
    """A Hugging Face sequence-classification reward model as a quality judge (``model=``)."""
    from safeforge.judges.reward_model import RewardModelJudge

    return RewardModelJudge(**options)


def leak(**options: Any) -> Judge:
    """Canary and fuzzy system-prompt leak detector."""
    from safeforge.judges.detectors import LeakJudge

    return LeakJudge(**options)


def abstention(**options: Any) -> Judge:
    """Abstain-vs-answer detector for the reward-overfitting probes."""
    from safeforge.judges.detectors import AbstentionJudge

    return AbstentionJudge(**options)


def gold(**options: Any) -> Judge:
    """Replays human labels from ``probe.meta["gold_label"]``."""
    from safeforge.judges.gold import GoldJudge

    return GoldJudge(**options)
