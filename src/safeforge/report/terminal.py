"""Rich tables for the terminal (summary, compare and gate output), sized for 80 columns."""

from __future__ import annotations

from rich import box
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


def _ci(kind: str, low: float | None, high: float | None) -> str:
    """A compact interval: ``17.7–23.3%`` (one unit sign) so it fits its column on one line."""
    if low is None or high is None:
        return "–"
    if kind == "score":
        return f"{low:.3f}–{high:.3f}"
    return f"{100 * low:.1f}–{100 * high:.1f}%"


def _table(title: str) -> Table:
    """Tables sized for an 80-column terminal: light rules, numbers never wrap (only the name
    column folds when a metric name is longer than the room left)."""
    return Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)


def _numbers(table: Table, *names: str) -> None:
    for name in names:
        table.add_column(name, justify="right", no_wrap=True)


def summary_table(summary: Summary) -> Table:
    table = _table("safeforge summary")
    table.add_column("metric", overflow="fold")
    _numbers(table, "value", "95% CI", "n", "unsc./err.")
    for name in HEADLINE:
        m = summary.metrics.get(name)
        if m is None or m.kind == "paired_delta" or m.n == 0:
            continue
        ci = _ci(m.kind, m.ci_low, m.ci_high)
        table.add_row(Text(name), _v(m.kind, m.value), ci, str(m.n), f"{m.unscorable}/{m.errors}")
    return table


def compare_table(comparison: Comparison) -> Table:
    """Both runs' values (each over its own probes) and the paired change over the shared ones;
    the caption says which is which and names the runs."""
    table = _table(f"safeforge compare · {comparison.shared_probes} shared probes")
    table.add_column("metric", overflow="fold")
    _numbers(table, "A", "B", "paired Δ", "pairs", "p")
    table.add_column("verdict", no_wrap=True)
    for d in comparison.deltas:
        if d.a is None and d.b is None:
            continue
        p = "–" if d.p_value is None else "<0.001" if d.p_value < 0.001 else f"{d.p_value:.2g}"
        table.add_row(
            Text(d.name),
            _v(d.kind, d.a),
            _v(d.kind, d.b),
            _v(d.kind, d.paired_delta, signed=True),
            str(d.n_paired),
            p,
            Text(d.direction, style=_STYLE[d.direction]),
        )
    table.caption = (
        f"A = {comparison.a_label}, B = {comparison.b_label}. A and B: each run over its own probes; "
        "paired Δ (B − A), pairs and p: over the probes both scored. Intervals and the unpaired Δ: "
        "--html, --markdown or --json."
    )
    table.caption_justify = "left"
    return table


def gate_table(result: GateResult) -> Table:
    table = _table("safeforge gate: " + ("PASS" if result.passed else "FAIL"))
    table.add_column("check", overflow="fold")
    table.add_column("result", no_wrap=True)
    table.add_column("detail")
    for c in result.checks:
        table.add_row(
            Text(c.name),
            Text("pass", style="green") if c.passed else Text("FAIL", style="bold red"),
            Text(c.message),
        )
    return table


def print_table(table: Table) -> None:
    """Print to stdout; CI logs are not terminals, so give them room for full metric names
    (on a terminal the tables fit 80 columns without wrapping a number)."""
    console = Console()
    if not console.is_terminal:
        console = Console(width=140)
    console.print(table)
