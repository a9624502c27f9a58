"""Registered judge factories: ``create_judge(name, **options)`` calls one of these.

Each imports its module only when called, so listing judges (or running the rules) never
loads torch or ONNX Runtime. ``@builds`` names the class a factory forwards its options to, so
``safeforge judges list`` can show every judge's options and ``create_judge`` can reject a
misspelt or missing one with the accepted list.
"""

from __future__ import annotations

from typing import Any

from safeforge.judges._base import Judge, builds


@builds("safeforge.judges.refusal:RulesJudge")
def rules(**options: Any) -> Judge:
    """Keyword/structure refusal rules: 3-way + abstain, offline, ~10^4 responses/s."""
    from safeforge.judges.refusal import RulesJudge

    return RulesJudge(**options)


@builds("safeforge.judges.refusal:EmbedJudge", extra="embed")
def embed(**options: Any) -> Judge:
    """all-MiniLM-L6-v2 + shipped heads; ``task="refusal"`` (default) or ``"harm"``."""
    from safeforge.judges.refusal import EmbedJudge

    return EmbedJudge(**options)


@builds("safeforge.judges.refusal:CascadeJudge", extra="embed")
def cascade(**options: Any) -> Judge:
    """The default refusal judge: rules, then the encoder where unsure, then an LLM if configured."""
    from safeforge.judges.refusal import CascadeJudge

    return CascadeJudge(**options)


@builds("safeforge.judges.llm:LLMJudge")
def llm(**options: Any) -> Judge:
    """Rubric LLM judge over any target spec (``target=``, ``task=``, ``base_url=``)."""
    from safeforge.judges.llm import LLMJudge

    return LLMJudge(**options)


@builds("safeforge.judges.reward_model:RewardModelJudge", extra="hf")
def reward_model(**options: Any) -> Judge:
    """A Hugging Face sequence-classification reward model as a quality judge (``model=``)."""
    from safeforge.judges.reward_model import RewardModelJudge

    return RewardModelJudge(**options)


@builds("safeforge.judges.detectors:LeakJudge")
def leak(**options: Any) -> Judge:
    """Canary and fuzzy system-prompt leak detector."""
    from safeforge.judges.detectors import LeakJudge

    return LeakJudge(**options)


@builds("safeforge.judges.detectors:AbstentionJudge")
def abstention(**options: Any) -> Judge:
    """Abstain-vs-answer detector for the reward-overfitting probes."""
    from safeforge.judges.detectors import AbstentionJudge

    return AbstentionJudge(**options)


@builds("safeforge.judges.gold:GoldJudge")
def gold(**options: Any) -> Judge:
    """Replays human labels from ``probe.meta["gold_label"]``."""
    from safeforge.judges.gold import GoldJudge

    return GoldJudge(**options)


@builds("safeforge.judges.request:RequestHarmJudge", extra="embed")
def request_harm(**options: Any) -> Judge:
    """Is the prompt asking for something harmful? Reads the prompt only; score = P(harmful)."""
    from safeforge.judges.request import RequestHarmJudge

    return RequestHarmJudge(**options)


@builds("safeforge.judges.critic:CriticJudge", extra="embed")
def critic(**options: Any) -> Judge:
    """Was this the right kind of response? pass/fail, score in [0, 1] for reranking and rewards."""
    from safeforge.judges.critic import CriticJudge

    return CriticJudge(**options)
