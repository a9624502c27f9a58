"""Before/after comparison of two runs with paired tests over the probes both ran.

Rates are compared with the exact McNemar test on the shared probes (each probe is its own
control), scores with a paired bootstrap of the per-probe differences. ``flipped`` lists the
probes whose outcome changed, regressions first, so a reviewer reads the evidence, not just
the delta.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from safeforge.metrics import _observe as o
from safeforge.metrics._observe import Obs, Observations
from safeforge.metrics._records import Summary
from safeforge.metrics.stats import mcnemar_exact, paired_bootstrap
from safeforge.metrics.summarize import observe_run, summarize
from safeforge.records import Attempt

COMPARISON_VERSION = 1
ALPHA = 0.05
FLIP_METRICS = (o.JRR, o.FRR, o.LEAK, o.HALLUCINATION)
Direction = Literal["improved", "regressed", "unchanged", "n/a"]


class MetricDelta(BaseModel):
    """One metric before (``a``) and after (``b``), and whether the change is significant."""

    model_config = ConfigDict(frozen=True)

    name: str
    kind: str
    a: float | None
    b: float | None
    delta: float | None = Field(description="b − a over each run's own probes.")
    n_paired: int = Field(default=0, description="Shared probes scorable in both runs.")
    paired_delta: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    a_only: int = Field(default=0, description="Shared probes that succeeded only in run A.")
    b_only: int = Field(default=0, description="Shared probes that succeeded only in run B.")
    p_value: float | None = None
    higher_is_better: bool | None = None
    significant: bool = False
    direction: Direction = "n/a"


class FlippedProbe(BaseModel):
    """A shared probe whose outcome on ``metric`` changed between the runs."""

    model_config = ConfigDict(frozen=True)

    key: str
    metric: str
    before: bool
    after: bool
    better: bool
    prompt: str
    response_a: str | None
    response_b: str | None


class Comparison(BaseModel):
    """``compare_runs`` result: both summaries, per-metric deltas and flipped probes."""

    model_config = ConfigDict(frozen=True)

    version: int = COMPARISON_VERSION
    format: Literal["safeforge.comparison"] = "safeforge.comparison"
    alpha: float = ALPHA
    a: Summary
    b: Summary
    shared_probes: int
    deltas: list[MetricDelta]
    flipped: list[FlippedProbe]

    def delta(self, name: str) -> MetricDelta | None:
        return next((d for d in self.deltas if d.name == name), None)


def _key_map(obs: Observations, by_group: bool) -> dict[str, str] | None:
    """unit key -> pairing key (``None`` when the keys would not be unique in the run)."""
    single = len({a.target for a in obs.attempts.values()}) <= 1
    keys = {}
    for k, a in obs.attempts.items():
        probe = a.probe
        key = f"{probe.group_id}|{probe.variant}|{probe.meta.get('transform', '')}" if by_group else probe.id
        keys[k] = key if single else f"{a.target}::{key}"
    return keys if len(set(keys.values())) == len(keys) else None


def pairing_keys(obs_a: Observations, obs_b: Observations) -> tuple[dict[str, str], dict[str, str]]:
    """Pair by probe id; when the runs share no id (e.g. two models' recorded completions
    whose ids name the model), pair by group, variant and transform instead."""
    first: tuple[dict[str, str], dict[str, str]] | None = None
    for by_group in (False, True):
        keys_a, keys_b = _key_map(obs_a, by_group), _key_map(obs_b, by_group)
        if keys_a is None or keys_b is None:
            continue
        if set(keys_a.values()) & set(keys_b.values()):
            return keys_a, keys_b
        first = first or (keys_a, keys_b)
    return first or ({}, {})


def _direction(delta: float | None, significant: bool, higher_is_better: bool | None) -> Direction:
    if delta is None or higher_is_better is None:
        return "n/a"
    if not significant or delta == 0:
        return "unchanged"
    return "improved" if (delta > 0) == higher_is_better else "regressed"


def _paired(a: Mapping[str, Obs | float], b: Mapping[str, Obs | float], alpha: float) -> dict[str, object]:
    """Paired test fields for one metric over the keys both runs scored."""
    shared = [k for k in a if k in b]
    binary = all(isinstance(a[k], str) and isinstance(b[k], str) for k in shared)
    if binary:
        done = [(a[k] == "pos", b[k] == "pos") for k in shared if {a[k], b[k]} <= {"pos", "neg"}]
        diffs = [float(y) - float(x) for x, y in done]
        a_only, b_only = sum(x and not y for x, y in done), sum(y and not x for x, y in done)
    else:
        nums = [(a[k], b[k]) for k in shared if not isinstance(a[k], str) and not isinstance(b[k], str)]
        diffs = [float(y) - float(x) for x, y in nums]
        a_only = b_only = 0
    if not diffs:
        return {"n_paired": 0}
    mean, low, high, p_boot = paired_bootstrap(diffs)
    p = mcnemar_exact(a_only, b_only) if binary else p_boot
    return {
        "n_paired": len(diffs),
        "paired_delta": mean,
        "ci_low": low,
        "ci_high": high,
        "a_only": a_only,
        "b_only": b_only,
        "p_value": p,
        "significant": p < alpha,
    }


def _outcomes(obs: Observations, keys: Mapping[str, str], name: str) -> dict[str, Obs | float]:
    source: Mapping[str, Obs | float] = obs.binary.get(name) or obs.scores.get(name, {})
    return {keys[k]: v for k, v in source.items()}


def _flipped(
    obs_a: Observations, keys_a: Mapping[str, str], obs_b: Observations, keys_b: Mapping[str, str]
) -> list[FlippedProbe]:
    out = []
    attempts_a = {keys_a[k]: a for k, a in obs_a.attempts.items()}
    attempts_b = {keys_b[k]: a for k, a in obs_b.attempts.items()}
    for name in FLIP_METRICS:
        a, b = _outcomes(obs_a, keys_a, name), _outcomes(obs_b, keys_b, name)
        for key in sorted(k for k in a if k in b and {a[k], b[k]} == {"pos", "neg"}):
            before, after = a[key] == "pos", b[key] == "pos"
            out.append(
                FlippedProbe(
                    key=key,
                    metric=name,
                    before=before,
                    after=after,
                    better=after == o.HIGHER_IS_BETTER[name],
                    prompt=attempts_a[key].probe.prompt,
                    response_a=attempts_a[key].response,
                    response_b=attempts_b[key].response,
                )
            )
    return sorted(out, key=lambda f: f.better)


def compare_runs(
    a_attempts: Sequence[Attempt], b_attempts: Sequence[Attempt], *, alpha: float = ALPHA, seed: int = 0
) -> Comparison:
    """Compare run A (before) with run B (after)."""
    obs_a, _ = observe_run(a_attempts)
    obs_b, _ = observe_run(b_attempts)
    keys_a, keys_b = pairing_keys(obs_a, obs_b)
    sum_a, sum_b = summarize(a_attempts, seed=seed), summarize(b_attempts, seed=seed)
    deltas = []
    for name, metric_a in sum_a.metrics.items():
        metric_b = sum_b.metrics.get(name)
        if metric_b is None:
            continue
        value_a, value_b = metric_a.value, metric_b.value
        delta = value_b - value_a if value_a is not None and value_b is not None else None
        base = name.split("[")[0]
        fields: dict[str, object] = {}
        if name in obs_a.binary or name in obs_a.scores:
            fields = _paired(_outcomes(obs_a, keys_a, name), _outcomes(obs_b, keys_b, name), alpha)
        higher = o.HIGHER_IS_BETTER.get(base)
        significant = bool(fields.get("significant", False))
        if "p_value" not in fields:
            higher = None  # untested change: no direction claimed
        deltas.append(
            MetricDelta(
                name=name,
                kind=metric_a.kind,
                a=value_a,
                b=value_b,
                delta=delta,
                higher_is_better=higher,
                direction=_direction(delta, significant, higher),
                **fields,
            )
        )
    shared = len(set(keys_a.values()) & set(keys_b.values()))
    flipped = _flipped(obs_a, keys_a, obs_b, keys_b)
    return Comparison(alpha=alpha, a=sum_a, b=sum_b, shared_probes=shared, deltas=deltas, flipped=flipped)
