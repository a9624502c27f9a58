"""Rich tables for the terminal (compare and gate output)."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from safeforge.metrics import Comparison, GateResult, Summary
from safeforge.report.markdown import HEADLINE

_STYLE = {"improved": "green", "regressed": "bold red", "unchanged": "", "n/a": "dim"}


def _v(kind: str, value: float | None, signed: bool = False) -> str:
    if value is None:
        return "–"
    if kind == "score":
        return f"{value:+.3f}" if signed else f"{value:.3f}"
    return f"{100 * value:+.1f} pp" if signed else f"{100 * value:.1f}%"


def summary_table(summary: Summary) -> Table:
    table = Table(title="safeforge summary", title_justify="left")
    for col in ("metric", "value", "95% CI", "n", "unscorable", "errors"):
        table.add_column(col, justify="left" if col == "metric" else "right")
    for name in HEADLINE:
        m = summary.metrics.get(name)
        if m is None or m.kind == "paired_delta" or m.n == 0:
            continue
        ci = f"{_v(m.kind, m.ci_low)} – {_v(m.kind, m.ci_high)}"
        table.add_row(Text(name), _v(m.kind, m.value), ci, str(m.n), str(m.unscorable), str(m.errors))
    return table


def compare_table(comparison: Comparison) -> Table:
    table = Table(title=f"safeforge compare · {comparison.shared_probes} shared probes", title_justify="left")
    for col in ("metric", "A", "B", "Δ", "pairs", "A-only/B-only", "p", "verdict"):
        table.add_column(col, justify="left" if col in ("metric", "verdict") else "right")
    for d in comparison.deltas:
        if d.a is None and d.b is None:
            continue
        p = "–" if d.p_value is None else f"{d.p_value:.3g}"
        table.add_row(
            Text(d.name),
            _v(d.kind, d.a),
            _v(d.kind, d.b),
            _v(d.kind, d.delta, signed=True),
            str(d.n_paired),
            "–" if d.kind == "paired_delta" else f"{d.a_only}/{d.b_only}",  # gaps: tested per group
            p,
            Text(d.direction, style=_STYLE[d.direction]),
        )
    return table


def gate_table(result: GateResult) -> Table:
    table = Table(title="safeforge gate: " + ("PASS" if result.passed else "FAIL"), title_justify="left")
    table.add_column("check")
    table.add_column("result")
    table.add_column("detail")
    for c in result.checks:
        table.add_row(
            Text(c.name),
            Text("pass", style="green") if c.passed else Text("FAIL", style="bold red"),
            Text(c.message),
        )
    return table


def print_table(table: Table) -> None:
    """Print to stdout; CI logs are not terminals, so give them room for full metric names."""
    console = Console()
    if not console.is_terminal:
        console = Console(width=140)
    console.print(table)
