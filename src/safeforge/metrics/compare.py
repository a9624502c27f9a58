"""Before/after comparison of two runs with paired tests over the probes both ran.

Rates are compared on the shared probes (each probe is its own control) with one method for
the p-value, the interval and the verdict: McNemar's score test (asymptotic, no continuity
correction) and Tango's score interval, which is that test inverted — the interval excludes 0
exactly when p < α (a bootstrap interval beside an exact McNemar p could disagree: an FRR
interval excluded 0 while p = 0.125 said "unchanged"). Scores get a paired bootstrap of the
per-probe differences, its interval at 1 − α, and count as significant only when p < α *and*
that interval excludes 0. ``delta`` is unpaired
(each run over its own probes); ``paired_delta`` is over the shared ones, with ``n_paired``:
reports label which is which. ``flipped`` lists the probes whose outcome changed,
regressions first, so a reviewer reads the evidence, not just the delta.

The within-run paired effects (``politeness_gap``, ``obfuscation_drop[...]``) are differences
already, so their change is tested one level up: each (anchor, variant) pair scored in both runs
gives a per-pair gap d ∈ {−1, 0, 1} (anchor rejected − variant rejected) in A and in B; the
changes d_B − d_A are averaged per group (the pairs of one intent share their anchor, so they
are not independent) and the group means get a seeded paired bootstrap. A gap is a disparity
whichever its sign, so "improved" means a significant change that leaves ``|gap|`` smaller on
the shared pairs, "regressed" one that leaves it larger.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from safeforge.metrics import _observe as o
from safeforge.metrics import abstention as ab
from safeforge.metrics import diversity as div
from safeforge.metrics._observe import Obs, Observations
from safeforge.metrics._records import Summary
from safeforge.metrics.stats import mcnemar_score, paired_bootstrap, tango_interval
from safeforge.metrics.summarize import _groups, _is_polite, _plain_key, _transform, observe_run, summarize
from safeforge.records import Attempt, Method

COMPARISON_VERSION = 1
ALPHA = 0.05
FLIP_METRICS = (o.JRR, o.FRR, o.LEAK, o.HALLUCINATION, o.OVER_ABSTENTION)
Direction = Literal["improved", "regressed", "unchanged", "n/a"]


class MetricDelta(BaseModel):
    """One metric before (``a``) and after (``b``), and whether the change is significant."""

    model_config = ConfigDict(frozen=True)

    name: str
    kind: str
    a: float | None
    b: float | None
    delta: float | None = Field(description="b − a over each run's own probes (unpaired).")
    n_paired: int = Field(
        default=0,
        description="Shared probes scorable in both runs; for paired effects (kind 'paired_delta') "
        "the shared groups, the unit the change in gap is bootstrapped over.",
    )
    paired_delta: float | None = Field(
        default=None, description="Mean paired change b − a; for paired effects, of the gap per group."
    )
    ci_low: float | None = Field(
        default=None,
        description="Interval of paired_delta at 1 − alpha, from the same method as p_value: Tango's "
        "score interval for rates (McNemar's score test inverted), the paired bootstrap for scores.",
    )
    ci_high: float | None = None
    a_only: int = Field(default=0, description="Shared probes that succeeded only in run A.")
    b_only: int = Field(default=0, description="Shared probes that succeeded only in run B.")
    p_value: float | None = None
    higher_is_better: bool | None = Field(
        default=None, description="None for paired effects: there closer to 0 is better (|gap| shrinks)."
    )
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
    family: str = Field(default="", description="The probe's family (reports group flips by it).")
    prompt: str
    response_a: str | None
    response_b: str | None


class Comparison(BaseModel):
    """``compare_runs`` result: both summaries, per-metric deltas and flipped probes."""

    model_config = ConfigDict(frozen=True)

    version: int = COMPARISON_VERSION
    format: Literal["safeforge.comparison"] = "safeforge.comparison"
    alpha: float = ALPHA
    a_label: str = Field(default="A", description="What run A is (its run directory), for reports.")
    b_label: str = Field(default="B", description="What run B is (its run directory), for reports.")
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
    if all(isinstance(a[k], str) and isinstance(b[k], str) for k in shared):
        done = [(a[k] == "pos", b[k] == "pos") for k in shared if {a[k], b[k]} <= {"pos", "neg"}]
        a_only, b_only = sum(x and not y for x, y in done), sum(y and not x for x, y in done)
        return _paired_rate(a_only, b_only, len(done), alpha) if done else {"n_paired": 0}
    nums = [(a[k], b[k]) for k in shared if not isinstance(a[k], str) and not isinstance(b[k], str)]
    diffs = [float(y) - float(x) for x, y in nums]
    if not diffs:
        return {"n_paired": 0}
    mean, low, high, p = paired_bootstrap(diffs, confidence=1 - alpha)
    return {
        "n_paired": len(diffs),
        "paired_delta": mean,
        "ci_low": low,
        "ci_high": high,
        "p_value": p,
        "significant": p < alpha and not low <= 0.0 <= high,
    }


def _paired_rate(a_only: int, b_only: int, n: int, alpha: float) -> dict[str, object]:
    """McNemar's score test and Tango's interval (its inversion) for Δ = (b_only − a_only) / n."""
    low, high = tango_interval(a_only, b_only, n, 1 - alpha)
    p = mcnemar_score(a_only, b_only)
    return {
        "n_paired": n,
        "paired_delta": (b_only - a_only) / n,
        "ci_low": low,
        "ci_high": high,
        "a_only": a_only,
        "b_only": b_only,
        "p_value": p,
        "significant": p < alpha,
    }


PairKey = tuple[str, str]
"""(anchor, variant) pairing keys of one within-run pair: harsh and polite, or plain and transformed."""


def _pair_gaps(obs: Observations, keys: Mapping[str, str], name: str) -> dict[PairKey, float] | None:
    """Per complete pair of a paired-effect metric: anchor rejected − variant rejected (−1, 0, 1).

    Mirrors ``summarize.politeness_pairs`` / ``obfuscation_pairs`` but keeps each pair's keys so
    the two runs' pairs can be matched; ``None`` when ``name`` is not a paired effect."""
    base, _, transform = name.partition("[")
    transform = transform.rstrip("]")
    if base not in (o.POLITENESS_GAP, o.OBFUSCATION_DROP) or not keys:
        return None
    jrr, attempts = obs.binary[o.JRR], obs.attempts
    out: dict[PairKey, float] = {}
    for members in _groups(attempts).values():
        if base == o.POLITENESS_GAP:
            harsh = [
                k for k in members if attempts[k].probe.variant == "harsh" and not _transform(attempts[k])
            ]
            anchor = harsh[0] if harsh else None
            variants = [k for k in members if _is_polite(attempts[k])]
        else:
            anchor = _plain_key(members, attempts)
            variants = [
                k
                for k in members
                if attempts[k].probe.method == Method.OBFUSCATION
                and (_transform(attempts[k]) == transform if transform else bool(_transform(attempts[k])))
            ]
        for k in variants:
            if anchor is not None and {jrr[anchor], jrr[k]} <= {"pos", "neg"}:
                out[(keys[anchor], keys[k])] = float(jrr[anchor] == "pos") - float(jrr[k] == "pos")
    return out


def _gap_change(
    gaps_a: Mapping[PairKey, float], gaps_b: Mapping[PairKey, float], alpha: float, seed: int
) -> dict[str, object]:
    """Paired test of the change in a gap over the pairs both runs scored, clustered by group.

    Per shared group (anchor key): the mean gap in A, in B, and their difference; the group
    differences get the seeded paired bootstrap (exact sign test when all are equal)."""
    by_group: dict[str, list[PairKey]] = defaultdict(list)
    for pair in gaps_a:
        if pair in gaps_b:
            by_group[pair[0]].append(pair)
    if not by_group:
        return {"n_paired": 0}
    per_a = [sum(gaps_a[k] for k in ks) / len(ks) for ks in by_group.values()]
    per_b = [sum(gaps_b[k] for k in ks) / len(ks) for ks in by_group.values()]
    changes = [b - a for a, b in zip(per_a, per_b, strict=True)]
    mean, low, high, p = paired_bootstrap(changes, confidence=1 - alpha, seed=seed)
    gap_a, gap_b = abs(sum(per_a) / len(per_a)), abs(sum(per_b) / len(per_b))
    significant = p < alpha and not low <= 0.0 <= high  # the interval shown and the verdict agree
    direction: Direction = "unchanged"
    if significant and gap_a != gap_b:
        direction = "improved" if gap_b < gap_a else "regressed"
    return {
        "n_paired": len(per_a),
        "paired_delta": mean,
        "ci_low": low,
        "ci_high": high,
        "p_value": p,
        "significant": significant,
        "direction": direction,
    }


def _outcomes(obs: Observations, keys: Mapping[str, str], name: str) -> dict[str, Obs | float]:
    source: Mapping[str, Obs | float] = obs.binary.get(name) or obs.scores.get(name, {})
    return {keys[k]: v for k, v in source.items()}


def _cells(obs: Observations, keys: Mapping[str, str]) -> dict[str, ab.Cell]:
    return ab.cells({m: _outcomes(obs, keys, m) for m in (o.ABSTENTION, o.OVER_ABSTENTION)})


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
                    family=attempts_a[key].probe.family,
                    prompt=attempts_a[key].probe.prompt,
                    response_a=attempts_a[key].response,
                    response_b=attempts_b[key].response,
                )
            )
    return sorted(out, key=lambda f: f.better)


def _diversity_delta(name: str, change: div.Change, alpha: float) -> MetricDelta:
    """A per-group diversity change (``distinct_2.by_expected[refuse]``): not a summary metric."""
    fields = change.fields(alpha)
    higher = change.higher_is_better if "p_value" in fields else None
    direction = _direction(change.delta, bool(fields.get("significant", False)), higher)
    return MetricDelta(
        name=name,
        kind=change.kind,
        a=change.a,
        b=change.b,
        delta=change.delta,
        higher_is_better=higher,
        direction=direction,
        **fields,
    )


def compare_runs(
    a_attempts: Sequence[Attempt],
    b_attempts: Sequence[Attempt],
    *,
    alpha: float = ALPHA,
    seed: int = 0,
    labels: tuple[str, str] = ("A", "B"),
    refusal_judge: str | None = None,
) -> Comparison:
    """Compare run A (before) with run B (after); ``labels`` name them in reports (run dirs);
    ``refusal_judge`` picks whose refusal labels count in both (default: each run's preferred
    judge, see ``pick_refusal_judge``)."""
    obs_a, _ = observe_run(a_attempts, refusal_judge=refusal_judge)
    obs_b, _ = observe_run(b_attempts, refusal_judge=refusal_judge)
    keys_a, keys_b = pairing_keys(obs_a, obs_b)
    sum_a = summarize(a_attempts, refusal_judge=refusal_judge, seed=seed)
    sum_b = summarize(b_attempts, refusal_judge=refusal_judge, seed=seed)
    judges = (obs_a.refusal_judge, obs_b.refusal_judge)
    diverse = div.changes(
        *div.aligned_items(a_attempts, b_attempts, keys_a, keys_b, refusal_judges=judges, seed=seed)
    )
    deltas = []
    for name, metric_a in sum_a.metrics.items():
        metric_b = sum_b.metrics.get(name)
        if metric_b is None:
            continue
        value_a, value_b = metric_a.value, metric_b.value
        delta = value_b - value_a if value_a is not None and value_b is not None else None
        base = name.split("[")[0]
        fields: dict[str, object] = {}
        higher = o.HIGHER_IS_BETTER.get(base)
        gaps_a, gaps_b = _pair_gaps(obs_a, keys_a, name), _pair_gaps(obs_b, keys_b, name)
        if name in diverse:  # measured on the shared probes, so A and B compare like with like
            change = diverse[name]
            value_a, value_b, delta, higher = change.a, change.b, change.delta, change.higher_is_better
            fields = change.fields(alpha)
        elif gaps_a is not None and gaps_b is not None:
            fields, higher = _gap_change(gaps_a, gaps_b, alpha, seed), None
        elif name in ab.NAMES:  # precision / F1 combine two sets of questions: paired bootstrap
            fields = ab.paired_change(name, _cells(obs_a, keys_a), _cells(obs_b, keys_b), alpha, seed)
        elif name in obs_a.binary or name in obs_a.scores:
            fields = _paired(_outcomes(obs_a, keys_a, name), _outcomes(obs_b, keys_b, name), alpha)
        if "p_value" not in fields:
            higher = None  # untested change: no direction claimed
        if "direction" not in fields:
            fields["direction"] = _direction(delta, bool(fields.get("significant", False)), higher)
        deltas.append(
            MetricDelta(
                name=name,
                kind=metric_a.kind,
                a=value_a,
                b=value_b,
                delta=delta,
                higher_is_better=higher,
                **fields,
            )
        )
    deltas += [_diversity_delta(name, c, alpha) for name, c in diverse.items() if name not in sum_a.metrics]
    shared = len(set(keys_a.values()) & set(keys_b.values()))
    flipped = _flipped(obs_a, keys_a, obs_b, keys_b)
    return Comparison(
        alpha=alpha,
        a_label=labels[0],
        b_label=labels[1],
        a=sum_a,
        b=sum_b,
        shared_probes=shared,
        deltas=deltas,
        flipped=flipped,
    )
