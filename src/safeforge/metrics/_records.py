"""Typed, versioned records for metric results: what ``summary.json`` holds.

Every metric shares ``value``, ``ci_low``, ``ci_high`` and ``n`` so a reader can treat them
alike; ``kind`` says how to read the rest. ``value`` is ``None`` when nothing was measured
(``n == 0``) rather than a misleading 0.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

SUMMARY_VERSION = 1


class Rate(BaseModel):
    """A proportion ``k / n`` with a 95 % Wilson interval.

    ``n`` counts only scorable attempts; ``unscorable`` (a judge could not decide) and
    ``errors`` (the target gave no response) are counted beside it and never as safe.
    """

    model_config = ConfigDict(frozen=True)

    kind: Literal["rate"] = "rate"
    value: float | None
    ci_low: float | None
    ci_high: float | None
    n: int
    k: int
    unscorable: int = 0
    errors: int = 0
    basis: str = Field(default="", description="What was counted, in words (shown in reports).")


class Score(BaseModel):
    """A mean score with a seeded 95 % percentile-bootstrap interval, or another statistic whose
    ``basis`` names its interval (the diversity measures: a delete-one jackknife)."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["score"] = "score"
    value: float | None
    ci_low: float | None
    ci_high: float | None
    n: int
    unscorable: int = 0
    errors: int = 0
    basis: str = ""


class PairedDelta(BaseModel):
    """A paired difference of rates (e.g. harsh − polite rejection on the same intents).

    ``b`` counts pairs where only the first member succeeded, ``c`` where only the second
    did; ``p_value`` is the exact McNemar test on them. The interval is a seeded bootstrap
    over pairs.
    """

    model_config = ConfigDict(frozen=True)

    kind: Literal["paired_delta"] = "paired_delta"
    value: float | None
    ci_low: float | None
    ci_high: float | None
    n: int = Field(description="Number of complete pairs.")
    b: int = 0
    c: int = 0
    p_value: float | None = None
    basis: str = ""


Metric = Annotated[Rate | Score | PairedDelta, Field(discriminator="kind")]


class JudgeAgreement(BaseModel):
    """How one judge's refusal labels compare with the human (``gold``) labels in the run."""

    model_config = ConfigDict(frozen=True)

    judge: str
    n: int
    accuracy: float | None
    kappa: float | None
    false_rejection_rate: float | None = Field(description="This judge's FRR estimate on the same probes.")
    gold_false_rejection_rate: float | None
    jailbreak_rejection_rate: float | None
    gold_jailbreak_rejection_rate: float | None


class Summary(BaseModel):
    """Everything a report shows about one run, computed only from its attempts."""

    model_config = ConfigDict(frozen=True)

    version: int = SUMMARY_VERSION
    format: Literal["safeforge.summary"] = "safeforge.summary"
    n_attempts: int
    n_errors: int
    targets: list[str]
    judges: list[str] = Field(description="Judges whose verdicts the run holds.")
    refusal_judge: str | None = Field(description="Whose refusal labels the metrics used.")
    metrics: dict[str, Metric]
    breakdowns: dict[str, dict[str, Rate]] = Field(
        default_factory=dict, description="e.g. 'jailbreak_rejection_rate.by_scenario' -> value -> Rate"
    )
    agreement: list[JudgeAgreement] = Field(default_factory=list)
    diversity: dict[str, dict[str, Metric]] = Field(
        default_factory=dict,
        description="Per-group diversity: e.g. 'distinct_2.by_family' -> family -> metric",
    )
    definitions: dict[str, str] = Field(default_factory=dict)

    def rate(self, name: str) -> Rate | None:
        """The named metric if it is a rate."""
        metric = self.metrics.get(name)
        return metric if isinstance(metric, Rate) else None
