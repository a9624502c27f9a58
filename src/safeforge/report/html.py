"""Render the self-contained HTML report (one run) and the comparison page (two runs).

Jinja2 with autoescape on for every template: model output, prompts and dataset strings are
escaped where they are inserted. The only ``Markup`` values are the package's own CSS and the
SVG charts, which escape their own text (see ``svg.py``). A strict Content-Security-Policy
(no scripts at all, styles only by hash) is a second wall should anything slip through.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from itertools import zip_longest
from pathlib import Path

from jinja2 import Environment, FileSystemLoader
from markupsafe import Markup, escape

from safeforge.metrics import Comparison, FlippedProbe, Metric, PairedDelta, Rate, Summary
from safeforge.metrics import _observe as o
from safeforge.metrics import diversity as div
from safeforge.metrics.attacks import AttackSummary
from safeforge.metrics.summarize import TAG_BREAKDOWNS
from safeforge.records import Attempt
from safeforge.report.attacks import attack_rows, winning_conversations
from safeforge.report.failures import FailureSection, truncate, worst_failures
from safeforge.report.svg import TradeoffPoint, bar_chart, tradeoff_chart
from safeforge.report.validation import judge_validation
from safeforge.taxonomy import title as tag_title

TEMPLATES = Path(__file__).with_name("templates")
FLIPS_PER_GROUP = 8
MAX_BARS = 14
CHARTS = (
    (o.JRR + ".by_scenario", "Jailbreak rejection by threat scenario", False),
    (o.JRR + ".by_transform", "Jailbreak rejection by obfuscation transform", False),
    (o.JRR + ".by_method", "Jailbreak rejection by red-team method", False),
    (o.JRR + ".by_category", "Jailbreak rejection by harm category", False),
    (o.JRR + ".by_family", "Jailbreak rejection by probe family", False),
    (o.JRR + ".by_owasp", "Jailbreak rejection by OWASP LLM Top 10 (2025) risk", False),
    (o.JRR + ".by_target", "Jailbreak rejection by model", False),
    (o.FRR + ".by_target", "False rejection by model", True),
    (o.FRR + ".by_category", "False rejection by prompt type", True),
)
HEADLINE = (
    (o.JRR, "Jailbreak rejection", True),
    (o.FRR, "False rejection", False),
    (o.QUALITY, "Safe completion quality", True),
    (o.TONE, "Tone adherence", True),
)


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def _pp(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:+.1f} pp"


def _pval(value: float | None) -> str:
    if value is None:
        return "–"
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def _num(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def _val(value: float | None, kind: str) -> str:
    """A metric value as its kind reads: scores (and diversity statistics) as numbers, rates as %."""
    return _num(value) if kind == "score" else _pct(value)


def _dval(value: float | None, kind: str) -> str:
    if kind == "score":
        return "–" if value is None else f"{value:+.2f}"
    return _pp(value)


def _breakable(name: str) -> Markup:
    """``name`` escaped, with line-break chances after ``_``, ``.`` and ``[`` (``<wbr>``), so a
    long metric name wraps at its parts instead of pushing a table out of its card."""
    parts = re.split(r"(?<=[_.\[])", name)
    return Markup("<wbr>").join(escape(part) for part in parts)


@functools.cache
def environment() -> Environment:
    """The report's Jinja environment (autoescape on for every template, whatever its name).
    One per process, so each template is compiled once (``warm`` compiles the run report's
    while a scan generates)."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES), autoescape=True, trim_blocks=True, lstrip_blocks=True
    )
    env.filters.update(
        pct=_pct,
        pp=_pp,
        pval=_pval,
        num=_num,
        val=_val,
        dval=_dval,
        target=display_target,
        breakable=_breakable,
    )
    return env


@functools.cache
def _css() -> tuple[Markup, str]:
    """The stylesheet and the CSP that allows exactly it (by SHA-256) and nothing else."""
    css = (TEMPLATES / "report.css").read_text(encoding="utf-8")
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    csp = (
        "default-src 'none'; script-src 'none'; object-src 'none'; base-uri 'none'; form-action 'none'; "
        f"img-src data:; font-src 'none'; connect-src 'none'; style-src 'sha256-{digest}'"
    )
    return Markup(css), csp


@functools.cache
def _version() -> str:
    try:
        return version("safeforge")
    except PackageNotFoundError:
        return "dev"


def render_page(template: str, title: str, **context: object) -> str:
    """Render one of the package's page templates with the shared stylesheet and CSP."""
    css, csp = _css()
    return (
        environment()
        .get_template(template)
        .render(title=title, css=css, csp=csp, version=_version(), **context)
    )


_page = render_page
RUN_TEMPLATE = "report.html.j2"
_RUN_PARTS = ("_base.html.j2", "_macros.html.j2")
"""What ``RUN_TEMPLATE`` extends and imports (Jinja compiles those when it first renders)."""


def warm() -> None:
    """Compile the run report's template and read what every page shows (the version, the
    judges' validation figures) now: a scan calls this on its judging thread, so the report
    written when the last answer arrives waits for neither Jinja's compiler nor the files."""
    for name in (RUN_TEMPLATE, *_RUN_PARTS):
        environment().get_template(name)
    _css()
    _version()
    judge_validation()


@dataclass(frozen=True)
class Card:
    title: str
    metric: Metric
    cls: str
    note: str


def _value_text(metric: Metric) -> tuple[str, str]:
    if metric.kind == "score":
        return _num(metric.value), f"{_num(metric.ci_low)} – {_num(metric.ci_high)}"
    return _pct(metric.value), f"{_pct(metric.ci_low)} – {_pct(metric.ci_high)}"


DIVERSITY_COLUMNS = (
    (div.DISTINCT_1, "distinct-1"),
    (div.DISTINCT_2, "distinct-2"),
    (div.DISPERSION, "embedding dispersion"),
    (div.TEMPLATE_SHARE, "template share"),
    (div.REFUSAL_ENTROPY, "refusal-style entropy (bits)"),
)


@dataclass(frozen=True)
class DiversityRow:
    group: str
    cells: list[tuple[str, str]]
    """(value, "95% CI · n") per column."""


def _diversity_cell(metric: Metric | None) -> tuple[str, str]:
    if metric is None or metric.value is None:
        return "–", "" if metric is None else f"n = {metric.n}"
    value, ci = _value_text(metric)
    return value, f"{ci} · n = {metric.n}" if metric.ci_low is not None else f"n = {metric.n}"


def diversity_rows(summary: Summary) -> list[DiversityRow]:
    """The run's diversity measures, then each expected behaviour's and each family's."""
    if not any(name in summary.metrics for name, _ in DIVERSITY_COLUMNS):
        return []
    rows = [
        DiversityRow("all responses", [_diversity_cell(summary.metrics.get(n)) for n, _ in DIVERSITY_COLUMNS])
    ]
    for dim, label in (("by_expected", "expected"), ("by_family", "family")):
        groups = sorted({g for n, _ in DIVERSITY_COLUMNS for g in summary.diversity.get(f"{n}.{dim}", {})})
        for group in groups:
            cells = [
                _diversity_cell(summary.diversity.get(f"{n}.{dim}", {}).get(group))
                for n, _ in DIVERSITY_COLUMNS
            ]
            rows.append(DiversityRow(f"{label}: {group}", cells))
    return rows


TAGGED_METRICS = ((o.JRR, "rejected"), (o.LEAK, "leaked"), (o.HALLUCINATION, "answered confidently"))


@dataclass(frozen=True)
class TaxonomyRow:
    """One taxonomy id's rate of one metric (a probe with two ids counts under each)."""

    tag: str
    metric: str
    value: str
    ci: str
    n: int


def taxonomy_rows(summary: Summary) -> list[TaxonomyRow]:
    """The security metrics broken down by OWASP, NIST and ATLAS id, in catalogue order."""
    rows = []
    for metric, reads in TAGGED_METRICS:
        for dim in TAG_BREAKDOWNS:
            for tag, rate in summary.breakdowns.get(f"{metric}.{dim}", {}).items():
                name = tag if tag == "untagged" else tag_title(tag)
                value, ci = _value_text(rate)
                rows.append(TaxonomyRow(name, f"{metric} ({reads})", value, ci, rate.n))
    return rows


def _card(summary: Summary, name: str, title: str, higher_is_better: bool) -> Card:
    metric = summary.metrics.get(name) or Rate(value=None, ci_low=None, ci_high=None, n=0, k=0)
    value = metric.value
    cls = ""
    if value is not None and metric.kind == "rate":
        good = value >= 0.95 if higher_is_better else value <= 0.05
        ok = value >= 0.8 if higher_is_better else value <= 0.15
        cls = "good" if good else "mid" if ok else "bad"
    note = ""
    if name == o.QUALITY and metric.kind == "rate":
        note = "Proxy: share of safe prompts answered (non-empty, not refused) — no quality judge ran."
    elif name == o.TONE and "summary time" in summary.definitions.get(o.TONE, ""):
        note = "Rule checks of the default tone policy."
    return Card(title, metric, cls, note)


def display_target(target: str) -> str:
    """A target as reports show it: an ``hf:`` path that exists is made absolute, so a model in
    the cache and one trained into a relative ``--out`` read alike (both absolute)."""
    kind, sep, rest = target.partition(":")
    if kind == "hf" and sep and rest and not Path(rest).is_absolute() and Path(rest).exists():
        return f"hf:{Path(rest).resolve()}"
    return target


def tradeoff_points(
    summary: Summary, series: int = 0, after: bool = False, label: str | None = None
) -> list[TradeoffPoint]:
    """One point per target (or one for the run), JRR against FRR; ``label`` (a run's name in a
    comparison) names the point, or prefixes each target's."""
    jrr_by, frr_by = (
        summary.breakdowns.get(o.JRR + ".by_target"),
        summary.breakdowns.get(o.FRR + ".by_target"),
    )
    if jrr_by and frr_by:
        return [
            TradeoffPoint(f"{label}: {t}" if label else t, jrr_by[t], frr_by[t], series + i, after)
            for i, t in enumerate(sorted(jrr_by.keys() & frr_by.keys()))
        ]
    jrr, frr = summary.rate(o.JRR), summary.rate(o.FRR)
    if jrr is None or frr is None:
        return []
    name = label or ", ".join(display_target(t) for t in summary.targets) or "run"
    return [TradeoffPoint(name, jrr, frr, series, after)]


@dataclass(frozen=True)
class FlipGroup:
    """The flipped probes of one metric and direction: counts by family, the first few shown."""

    metric: str
    better: bool
    total: int
    by_family: list[tuple[str, int]]
    shown: list[FlippedProbe]


def flipped_groups(flipped: Sequence[FlippedProbe], per_group: int = FLIPS_PER_GROUP) -> list[FlipGroup]:
    """Flips grouped by (metric, better/worse), regressions first, then the larger groups;
    each keeps ``per_group`` probes (text truncated) and counts all of them by family."""
    groups: dict[tuple[str, bool], list[FlippedProbe]] = {}
    for f in flipped:
        groups.setdefault((f.metric, f.better), []).append(f)
    out = []
    for (metric, better), items in sorted(groups.items(), key=lambda kv: (kv[0][1], -len(kv[1]), kv[0][0])):
        families = Counter(f.family or "–" for f in items).most_common()
        by_family = [[f for f in items if (f.family or "–") == fam] for fam, _ in families]
        picked = [f for row in zip_longest(*by_family) for f in row if f is not None][:per_group]
        shown = [
            f.model_copy(
                update={
                    "prompt": truncate(f.prompt, 600)[0],
                    "response_a": truncate(f.response_a)[0],
                    "response_b": truncate(f.response_b)[0],
                }
            )
            for f in picked  # round-robin over families: the sample shows each kind of flip
        ]
        out.append(FlipGroup(metric, better, len(items), families, shown))
    return out


def _chart(rates: dict[str, Rate], title: str, lower_is_better: bool) -> tuple[str, Markup]:
    """A bar chart of one breakdown; long ones keep only the weakest groups, worst first."""
    rows = [(name, r) for name, r in rates.items() if r.value is not None]
    if len(rows) > MAX_BARS:
        rows.sort(key=lambda row: (row[1].value or 0.0) * (-1 if lower_is_better else 1))
        title = f"{title} ({MAX_BARS} weakest of {len(rows)})"
        rows = rows[:MAX_BARS]
    return title, bar_chart(rows, title=title, lower_is_better=lower_is_better)


def _dispersion_note(summary: Summary) -> str:
    metric = summary.metrics.get(div.DISPERSION)
    return metric.basis if metric is not None and metric.value is None and metric.n == 0 else ""


def render_run_html(
    summary: Summary,
    attempts: Sequence[Attempt] = (),
    *,
    failures: Sequence[FailureSection] | None = None,
    attacks: AttackSummary | None = None,
) -> str:
    """The run report as one HTML string. The failure sections come from ``failures`` when
    given (collected while streaming the run, see ``FailureCollector``), else from ``attempts``;
    ``attacks`` adds an attack run's sections."""
    if failures is None:
        failures = worst_failures(attempts, refusal_judge=summary.refusal_judge)
    cards = [_card(summary, *spec) for spec in HEADLINE]
    charts = [
        _chart(summary.breakdowns[key], title, lower)
        for key, title, lower in CHARTS
        if key in summary.breakdowns
    ]
    metric_rows = [
        (name, m, summary.definitions.get(name, m.basis), *_value_text(m))
        for name, m in summary.metrics.items()
        if not isinstance(m, PairedDelta) and (m.n or m.unscorable or m.errors)
    ]
    unmeasured = [name for name, m in summary.metrics.items() if not (m.n or getattr(m, "unscorable", 0))]
    paired_rows = [(n, m) for n, m in summary.metrics.items() if isinstance(m, PairedDelta) and m.n]
    return _page(
        RUN_TEMPLATE,
        "safeforge report",
        summary=summary,
        cards=[(c, *_value_text(c.metric)) for c in cards],
        tradeoff=tradeoff_chart(tradeoff_points(summary)),
        charts=charts,
        taxonomy=taxonomy_rows(summary),
        attack_rows=attack_rows(attacks) if attacks is not None else [],
        winners=winning_conversations(attacks) if attacks is not None else [],
        attack_harm_judged=attacks is None or attacks.harm_judged,
        metric_rows=metric_rows,
        paired_rows=paired_rows,
        unmeasured=unmeasured,
        failures=failures,
        diversity=diversity_rows(summary),
        diversity_columns=[title for _, title in DIVERSITY_COLUMNS],
        dispersion_note=_dispersion_note(summary),
        validation=judge_validation(),
    )


def render_compare_html(comparison: Comparison) -> str:
    """The comparison page as one HTML string."""
    points = tradeoff_points(comparison.a, label=f"A: {comparison.a_label}") + tradeoff_points(
        comparison.b, after=True, label=f"B: {comparison.b_label}"
    )
    return _page(
        "compare.html.j2",
        "safeforge comparison",
        cmp=comparison,
        targets_a=[display_target(t) for t in comparison.a.targets],
        targets_b=[display_target(t) for t in comparison.b.targets],
        deltas=comparison.deltas,
        flip_groups=flipped_groups(comparison.flipped),
        tradeoff=tradeoff_chart(points),
    )
