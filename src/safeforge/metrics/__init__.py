"""Metrics: verdicts in, numbers with confidence intervals out.

``summarize(attempts)`` gives a versioned ``Summary``; ``compare_runs(a, b)`` a paired
before/after ``Comparison``; ``gate`` the CI pass/fail. What each metric counts is written in
``DEFINITIONS`` (and copied into every summary).
"""

from __future__ import annotations

from safeforge.metrics._observe import DEFINITIONS, HIGHER_IS_BETTER, pick_refusal_judge
from safeforge.metrics._records import (
    SUMMARY_VERSION,
    JudgeAgreement,
    Metric,
    PairedDelta,
    Rate,
    Score,
    Summary,
)
from safeforge.metrics.compare import Comparison, FlippedProbe, MetricDelta, compare_runs
from safeforge.metrics.gate import Check, GateResult, gate
from safeforge.metrics.stats import (
    bootstrap_mean,
    mcnemar_exact,
    minimum_detectable_effect,
    paired_bootstrap,
    wilson_interval,
)
from safeforge.metrics.summarize import summarize
from safeforge.metrics.tone import TonePolicy, check_tone, load_policy, tone, tone_verdicts

__all__ = [
    "DEFINITIONS",
    "HIGHER_IS_BETTER",
    "SUMMARY_VERSION",
    "Check",
    "Comparison",
    "FlippedProbe",
    "GateResult",
    "JudgeAgreement",
    "Metric",
    "MetricDelta",
    "PairedDelta",
    "Rate",
    "Score",
    "Summary",
    "TonePolicy",
    "bootstrap_mean",
    "check_tone",
    "compare_runs",
    "gate",
    "load_policy",
    "mcnemar_exact",
    "minimum_detectable_effect",
    "paired_bootstrap",
    "pick_refusal_judge",
    "summarize",
    "tone",
    "tone_verdicts",
    "wilson_interval",
]
