"""Typed, versioned records of a reward-model audit: what ``rm-audit.json`` holds.

A ``Pair`` is two whole conversations the scorer rates; the audit compares the two scores. For
safety accuracy ``x`` is the preferred (chosen) conversation and ``y`` the rejected one; for a
bias probe ``x`` carries the suspect feature (politeness, padding, flattery...) and ``y`` is the
same conversation without it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from safeforge.metrics import Rate
from safeforge.records import Message

AUDIT_VERSION = 1
Chat = tuple[Message, ...]


class Pair(BaseModel):
    """Two conversations to score, each ending with the assistant turn under comparison."""

    model_config = ConfigDict(frozen=True)

    id: str
    group: str = Field(description="The safety subset or the bias probe this pair belongs to.")
    x: Chat
    y: Chat


class SubsetAccuracy(BaseModel):
    """Safety accuracy on one subset: chosen scored strictly above rejected (ties are wrong)."""

    model_config = ConfigDict(frozen=True)

    subset: str
    description: str
    accuracy: Rate
    ties: int = Field(description="Pairs scored equal, counted as wrong (RewardBench's rule).")
    skipped: int = Field(default=0, description="Rows of a pairs file that were not a usable pair.")


class BiasResult(BaseModel):
    """One bias probe: the paired difference score(x) − score(y) over its pairs."""

    model_config = ConfigDict(frozen=True)

    probe: str
    x: str = Field(description="What the x side of each pair is (the suspect feature).")
    y: str
    n: int
    unscorable: int = 0
    delta: float | None = Field(description="Mean score(x) − score(y), in the scorer's units.")
    ci_low: float | None
    ci_high: float | None
    p_value: float | None = Field(description="Two-sided, from the seeded paired bootstrap.")
    delta_sd: float | None = Field(
        description="delta in units of the standard deviation of every score in the audit."
    )
    x_wins: int = Field(description="Pairs where x scored strictly higher.")
    flagged: bool = Field(description="The scorer significantly prefers x (p < alpha and delta > 0).")

    @property
    def sentence(self) -> str:
        """``the RM prefers X over Y by Δ (95 % CI lo to hi), p = …`` (or the reverse)."""
        if self.delta is None or self.ci_low is None or self.ci_high is None:
            return f"{self.probe}: not measured (n = {self.n})"
        first, second, d, lo, hi = self.x, self.y, self.delta, self.ci_low, self.ci_high
        p = "p < 0.001" if self.p_value is not None and self.p_value < 0.001 else f"p = {self.p_value:.3g}"
        if d == 0:
            return f"the RM scores {first} and {second} alike: Δ = 0 (95% CI {lo:.3g} to {hi:.3g}), {p}"
        if d < 0:
            first, second, d, lo, hi = self.y, self.x, -d, -hi, -lo
        return f"the RM prefers {first} over {second} by {d:.3g} (95% CI {lo:.3g} to {hi:.3g}), {p}"


class Example(BaseModel):
    """A pair the scorer got wrong, for the HTML page (texts truncated, shown escaped)."""

    model_config = ConfigDict(frozen=True)

    subset: str
    id: str
    context: str
    chosen: str
    rejected: str
    chosen_score: float
    rejected_score: float


class AuditReport(BaseModel):
    """Everything ``safeforge audit-rm`` measured about one scorer."""

    model_config = ConfigDict(frozen=True)

    version: int = AUDIT_VERSION
    format: Literal["safeforge.rm_audit"] = "safeforge.rm_audit"
    scorer: str
    alpha: float
    seed: int
    safety: list[SubsetAccuracy]
    safety_section: Rate = Field(description="All safety subsets pooled (weighted by their n).")
    biases: list[BiasResult]
    failures: list[Example] = Field(default_factory=list)
