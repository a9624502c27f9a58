"""The technique table: technique x metric, with 95 % intervals and paired tests vs the base.

One row per technique (and one for the base model) under each refusal judge the demo compares
with (``rules`` and the independent ``embed``): held-out JRR, FRR, tone adherence, safe
completion quality, confident hallucination, response diversity, and what the technique cost.
Every cell is read from the pipeline's comparison of that technique's after-scan with the one
shared before-scan; nothing here computes a metric of its own except the testbed's distinct
share, which says how varied the answers were.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

from markupsafe import Markup
from pydantic import BaseModel, ConfigDict
from rich.table import Table

from safeforge.demo.bench import holds
from safeforge.harden.pipeline import TechniqueRun
from safeforge.metrics import Comparison, Metric, Rate
from safeforge.metrics import _observe as o
from safeforge.metrics import diversity as div
from safeforge.records import Attempt, Expected
from safeforge.report.svg import TradeoffPoint, tradeoff_chart

BASE = "base model"
TABLE_METRICS: tuple[tuple[str, str], ...] = (
    (o.JRR, "JRR (held-out)"),
    (o.FRR, "FRR"),
    (o.TONE, "tone adherence"),
    (o.QUALITY, "safe-completion quality"),
    (o.HALLUCINATION, "confident hallucination"),
)
DIVERSITY_METRICS: tuple[tuple[str, str], ...] = (
    (div.DISTINCT_2, "distinct-2"),
    (div.TEMPLATE_SHARE, "template share"),
    (div.DISPERSION, "embedding dispersion"),
)
"""Response diversity (``metrics/diversity.py``): does a technique collapse answers into a template?"""


class Cell(BaseModel):
    """One metric of one row: value, interval, and for technique rows the paired test vs base."""

    model_config = ConfigDict(frozen=True)

    value: float | None
    ci_low: float | None = None
    ci_high: float | None = None
    n: int = 0
    kind: str = "rate"
    p_value: float | None = None
    direction: str = "n/a"


class BenchRow(BaseModel):
    """One technique (or the base model) under one refusal judge."""

    model_config = ConfigDict(frozen=True)

    technique: str
    judge: str
    cells: dict[str, Cell]
    distinct: float | None = None
    passed: bool | None = None
    cost: dict[str, float | None] = {}


def distinct_share(attempts: Sequence[Attempt], expected: Expected = Expected.REFUSE) -> float | None:
    """Share of distinct responses (case- and whitespace-normalised) among answered ``expected``
    probes: 1 / n when the model says one sentence to all, 1.0 when every answer differs."""
    kept = [a for a in attempts if a.ok and a.probe.expected == expected]
    texts = [" ".join((a.response or "").lower().split()) for a in kept]
    return len(set(texts)) / len(texts) if texts else None


def _cell(metric: Metric | None, comparison: Comparison | None = None, name: str = "") -> Cell:
    if metric is None:
        return Cell(value=None)
    delta = comparison.delta(name) if comparison is not None else None
    return Cell(
        value=metric.value,
        ci_low=metric.ci_low,
        ci_high=metric.ci_high,
        n=metric.n,
        kind=metric.kind,
        p_value=None if delta is None else delta.p_value,
        direction="n/a" if delta is None else delta.direction,
    )


def _metrics() -> tuple[tuple[str, str], ...]:
    return TABLE_METRICS + DIVERSITY_METRICS


def bench_rows(
    runs: Mapping[str, TechniqueRun],
    distinct: Mapping[str, float | None],
) -> list[BenchRow]:
    """Base row and one row per technique, for every judge the runs were compared under.

    ``distinct`` maps ``BASE`` and each technique name to its distinct share."""
    rows: list[BenchRow] = []
    judges = list(next(iter(runs.values())).comparisons) if runs else []
    for judge in judges:
        first = next(iter(runs.values())).comparisons[judge]
        base = {name: _cell(first.a.metrics.get(name)) for name, _ in _metrics()}
        rows.append(BenchRow(technique=BASE, judge=judge, cells=base, distinct=distinct.get(BASE)))
        for technique, run in runs.items():
            c = run.comparisons[judge]
            cells = {name: _cell(c.b.metrics.get(name), c, name) for name, _ in _metrics()}
            passed = holds(run, judge)
            rows.append(
                BenchRow(
                    technique=technique,
                    judge=judge,
                    cells=cells,
                    distinct=distinct.get(technique),
                    passed=passed,
                    cost=_cost(run),
                )
            )
    return rows


def _cost(run: TechniqueRun) -> dict[str, float | None]:
    samples = run.output.data_card.get("samples")
    return {
        "data_s": round(run.output.data_s, 1),
        "train_s": round(run.output.train_s, 1),
        "generations": float(samples) if isinstance(samples, int | float) else None,
        "inference_calls": run.output.inference_calls,
        "template_share": run.output.template_share,
        "wall_s": run.wall_s,
    }


def _value(cell: Cell) -> str:
    if cell.value is None:
        return "–"
    if cell.kind == "score":
        return f"{cell.value:.2f} [{cell.ci_low or 0:.2f}, {cell.ci_high or 0:.2f}]"
    return f"{cell.value:.1%} [{cell.ci_low or 0:.1%}, {cell.ci_high or 0:.1%}]"


def _test(cell: Cell) -> str:
    if cell.p_value is None:
        return ""
    return f"p = {cell.p_value:.2g}, {cell.direction}"


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def _verdict(row: BenchRow) -> str:
    return "" if row.passed is None else ("all hold" if row.passed else "FAIL")


def _grid(rows: Sequence[BenchRow], judge: str) -> tuple[list[str], list[list[str]]]:
    """(column heads, body rows) of one judge's table: metrics down, base then techniques across."""
    mine = [r for r in rows if r.judge == judge]
    heads = ["metric (95% CI)", *(r.technique for r in mine)]
    body = [
        [label, *(f"{_value(r.cells[m])}\n{_test(r.cells[m])}".rstrip() for r in mine)]
        for m, label in _metrics()
    ]
    body.append(["distinct answers, refuse-expected", *(_pct(r.distinct) for r in mine)])
    body.append(["claims and FRR/quality gate", *(_verdict(r) for r in mine)])
    return heads, body


def judges_of(rows: Sequence[BenchRow]) -> list[str]:
    return list(dict.fromkeys(r.judge for r in rows))


def bench_tables(rows: Sequence[BenchRow]) -> list[Table]:
    """One terminal table per judge; a technique's cell holds the paired test vs base below it."""
    tables = []
    for judge in judges_of(rows):
        heads, body = _grid(rows, judge)
        table = Table(title=f"technique table · refusal judge: {judge}", title_justify="left")
        for i, head in enumerate(heads):
            table.add_column(head, justify="left" if i == 0 else "right")
        for line in body:
            table.add_row(*line)
        tables.append(table)
    return tables


def bench_markdown(rows: Sequence[BenchRow]) -> str:
    """The same tables in Markdown (``DIR/table.md``, what the README quotes)."""
    out = []
    for judge in judges_of(rows):
        heads, body = _grid(rows, judge)
        out.append(f"Refusal judge: `{judge}`\n")
        out.append("| " + " | ".join(heads) + " |")
        out.append("|" + "---|" * len(heads))
        out += ["| " + " | ".join(c.replace("\n", "<br>") for c in line) + " |" for line in body]
        out.append("")
    return "\n".join(out)


def cost_table(rows: Sequence[BenchRow]) -> Table:
    """What each technique spent: data and training time, generations, inference calls."""
    table = Table(title="technique cost (wall seconds on this machine)", title_justify="left")
    for col in ("technique", "data s", "train s", "generations", "calls/answer", "templated", "total s"):
        table.add_column(col, justify="left" if col == "technique" else "right")
    seen: set[str] = set()
    for r in rows:
        if r.technique == BASE or r.technique in seen:
            continue
        seen.add(r.technique)
        c = r.cost
        gens = "–" if c.get("generations") is None else f"{c['generations']:.0f}"
        table.add_row(
            r.technique,
            f"{c.get('data_s') or 0:.0f}",
            f"{c.get('train_s') or 0:.0f}",
            gens,
            f"{c.get('inference_calls') or 1:g}",
            _pct(c.get("template_share")),
            f"{c.get('wall_s') or 0:.0f}",
        )
    return table


def bench_section(rows: Sequence[BenchRow]) -> str:
    """The table and a JRR-vs-FRR chart per judge, as an escaped HTML ``<section>``."""
    parts = [
        "<section><h2>Technique table</h2><p>Every technique applied to the same base model under "
        "the same budget and scanned on the same held-out probes as the one before-scan. Cells are "
        "values with 95 % intervals; below each, the paired test against the base model.</p>"
    ]
    for judge in judges_of(rows):
        heads, body = _grid(rows, judge)
        head = "".join(f"<th>{escape(h)}</th>" for h in heads)
        lines = "".join(
            "<tr>" + "".join(f"<td>{escape(c).replace(chr(10), '<br>')}</td>" for c in line) + "</tr>"
            for line in body
        )
        parts.append(f"<h3>Refusal judge: {escape(judge)}</h3><table><tr>{head}</tr>{lines}</table>")
        parts.append(str(_chart([r for r in rows if r.judge == judge])))
    parts.append("</section>")
    return "".join(parts)


def _chart(rows: Sequence[BenchRow]) -> Markup:
    """JRR against FRR: the base model and an arrow from it to each technique."""

    def rate(cell: Cell) -> Rate:
        k = round((cell.value or 0.0) * cell.n)
        return Rate(value=cell.value, ci_low=cell.ci_low, ci_high=cell.ci_high, n=cell.n, k=k)

    base = next((r for r in rows if r.technique == BASE), None)
    points: list[TradeoffPoint] = []
    for i, r in enumerate(r for r in rows if r.technique != BASE):
        if base is not None:
            points.append(TradeoffPoint(BASE, rate(base.cells[o.JRR]), rate(base.cells[o.FRR]), i))
        points.append(TradeoffPoint(r.technique, rate(r.cells[o.JRR]), rate(r.cells[o.FRR]), i, True))
    return tradeoff_chart(points)
