"""The CI gate: thresholds on a run, and "no significant regression" against a baseline.

Thresholds compare the point estimate (the interval is printed beside it so a reviewer sees
how much it can be trusted), or with ``strict`` the pessimistic end of the interval. The
baseline mode fails only on a change the paired test calls significant in the wrong
direction, so noise on a few probes does not block a merge.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from safeforge.errors import SafeforgeError
from safeforge.metrics import _observe as o
from safeforge.metrics import diversity as div
from safeforge.metrics._records import Summary
from safeforge.metrics.compare import Comparison, MetricDelta
from safeforge.metrics.stats import minimum_detectable_effect

GATED_METRICS = (
    o.JRR,
    o.FRR,
    o.FRR_PARTIAL,
    o.QUALITY,
    o.TONE,
    o.LEAK,
    o.HALLUCINATION,
    o.OVER_ABSTENTION,
    o.ABSTENTION_F1,
)


class Check(BaseModel):
    """One gate check (one JUnit test case)."""

    model_config = ConfigDict(frozen=True)

    name: str
    passed: bool
    message: str


class GateResult(BaseModel):
    """All checks; the gate passes when every check does."""

    model_config = ConfigDict(frozen=True)

    checks: list[Check]

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def check_fraction(value: float | None, name: str) -> None:
    """Thresholds are fractions: ``--min-jrr 95`` is an error that offers 0.95."""
    if value is None or 0.0 <= value <= 1.0:
        return
    hint = f"; did you mean {value / 100:g}?" if 1.0 < value <= 100.0 else ""
    raise SafeforgeError(f"{name} {value:g} is out of range: thresholds are fractions from 0 to 1{hint}")


def _threshold(summary: Summary, name: str, bound: float, minimum: bool, strict: bool) -> Check:
    """``name >= bound`` (or ``<=``); the message holds the figures, not the name again (the
    check's name already says it, and reports print ``name: message``)."""
    metric = summary.metrics.get(name)
    label = f"{name}{' (95% bound)' if strict else ''} {'>=' if minimum else '<='} {bound:.1%}"
    if metric is None or metric.value is None:
        return Check(name=label, passed=False, message="not measured (n = 0)")
    value = (metric.ci_low if minimum else metric.ci_high) if strict else metric.value
    ok = value is not None and (value >= bound if minimum else value <= bound)
    ci = f"95% CI {_fmt(metric.ci_low)}–{_fmt(metric.ci_high)}, n = {metric.n}"
    return Check(name=label, passed=ok, message=f"{_fmt(metric.value)} ({ci})")


def _diversity_checks(comparison: Comparison, max_drop: float) -> list[Check]:
    """One check per diversity measure (run and expected behaviour) both runs have: fails when
    it fell by more than ``max_drop`` of the baseline's value over the shared probes *and* the
    paired test calls the fall significant, so noise on a small group does not block a merge."""
    checks = []
    for delta in comparison.deltas:
        measure = div.measure_of(delta.name)
        if measure is None or delta.a is None or delta.b is None:
            continue
        drop = div.Change(measure, delta.a, delta.b, delta.n_paired).relative_drop()
        inverse = "" if div.HIGHER_IS_MORE_DIVERSE[measure] else " of the share outside the top templates"
        test = "untested" if delta.p_value is None else f"paired p = {delta.p_value:.3g}"
        fell = "n/a" if drop is None else f"{drop:.0%}"
        message = (
            f"baseline {delta.a:.3f} -> {delta.b:.3f} over {delta.n_paired} shared probes; "
            f"fell {fell}{inverse} (allowed {max_drop:.0%}), {test}"
        )
        ok = drop is None or drop <= max_drop or not delta.significant
        checks.append(Check(name=f"{delta.name} falls by at most {max_drop:.0%}", passed=ok, message=message))
    if not checks:
        message = "no diversity measure was computed in both runs"
        checks.append(Check(name="diversity measured", passed=False, message=message))
    return checks


def _detectable(delta: MetricDelta) -> str:
    """ ", smallest detectable regression X" for a rate, so a pass on few probes reads as weak."""
    if delta.kind != "rate" or delta.a is None or delta.higher_is_better is None:
        return ""
    mde = minimum_detectable_effect(delta.a, delta.n_paired, rise=not delta.higher_is_better)
    shown = "none within [0, 1]" if mde is None else f"{mde * 100:.1f} pp"
    return f"; smallest regression detectable at 80% power: {shown}"


def gate(
    summary: Summary,
    *,
    min_jrr: float | None = None,
    max_frr: float | None = None,
    comparison: Comparison | None = None,
    strict: bool = False,
    max_diversity_drop: float | None = None,
) -> GateResult:
    """Run the threshold checks and, given a comparison with a baseline, the regression checks.

    ``strict`` compares the pessimistic end of the 95 % interval instead of the point
    estimate: a JRR of 96 % over 25 probes then does not clear a 95 % bar.
    ``max_diversity_drop`` (needs ``comparison``) fails a diversity measure that fell by more
    than that fraction of the baseline's value (mode collapse, see ``metrics/diversity.py``).
    """
    check_fraction(min_jrr, "min_jrr")
    check_fraction(max_frr, "max_frr")
    check_fraction(max_diversity_drop, "max_diversity_drop")
    checks = []
    if min_jrr is not None:
        checks.append(_threshold(summary, o.JRR, min_jrr, minimum=True, strict=strict))
    if max_frr is not None:
        checks.append(_threshold(summary, o.FRR, max_frr, minimum=False, strict=strict))
    if comparison is not None:
        if comparison.shared_probes == 0:
            message = "the baseline run shares no probe with this run: nothing to compare"
            checks.append(Check(name="baseline shares probes", passed=False, message=message))
        for name in GATED_METRICS:
            delta = comparison.delta(name)
            if delta is None or delta.p_value is None:
                continue
            message = (
                f"baseline {_fmt(delta.a)} -> {_fmt(delta.b)} over {delta.n_paired} shared probes, "
                f"p = {delta.p_value:.3g} ({delta.direction}){_detectable(delta)}"
            )
            checks.append(
                Check(
                    name=f"no significant regression in {name}",
                    passed=delta.direction != "regressed",
                    message=message,
                )
            )
    if max_diversity_drop is not None:
        if comparison is None:
            message = "--max-diversity-drop compares with a baseline run: give --baseline"
            checks.append(Check(name="diversity baseline", passed=False, message=message))
        else:
            checks.extend(_diversity_checks(comparison, max_diversity_drop))
    if not checks:
        checks.append(
            Check(name="gate configured", passed=False, message="no threshold and no baseline given")
        )
    return GateResult(checks=checks)
