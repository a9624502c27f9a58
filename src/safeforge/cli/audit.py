"""CLI command ``audit-rm``: safety accuracy and bias probes of a reward model (or judge, or
reward endpoint), printed and written as ``rm-audit.json`` + ``rm-audit.html``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from safeforge.cli._app import app

if TYPE_CHECKING:
    from rich.table import Table

    from safeforge.audit import AuditReport

JSON_FILE = "rm-audit.json"
HTML_FILE = "rm-audit.html"


@app.command("audit-rm")
def audit_rm(
    reward_model: Annotated[
        str, typer.Option(help="hf:PATH (local reward model), judge:NAME[?k=v] or openai:MODEL (pooling API)")
    ],
    pairs: Annotated[
        list[str] | None,
        typer.Option(help="Preference pairs [FORMAT:]PATH, FORMAT hh-rlhf or preference (repeatable)"),
    ] = None,
    limit: Annotated[
        int | None,
        typer.Option(
            help="Keep a seeded sample of this many pairs per subset, bias probe and --pairs file", min=1
        ),
    ] = None,
    library: Annotated[
        bool, typer.Option(help="Include the probe library's safety pairs and the six bias probes")
    ] = True,
    base_url: Annotated[str | None, typer.Option(help="openai:MODEL: the server's URL")] = None,
    api_key_env: Annotated[
        str, typer.Option(help="openai:MODEL: env var holding the API key")
    ] = "OPENAI_API_KEY",
    alpha: Annotated[float, typer.Option(help="Flag a bias probe below this p", min=0, max=1)] = 0.01,
    seed: Annotated[int, typer.Option(help="Seed of the bootstrap and the --limit sample")] = 0,
    out: Annotated[Path, typer.Option(help="Directory for rm-audit.json and rm-audit.html")] = Path(
        "rm-audit"
    ),
) -> None:
    """Does the reward model prefer safe responses, and which cheap features buy it reward?"""
    from safeforge.audit import audit, create_scorer, load_pairs, render_audit_html
    from safeforge.errors import SafeforgeError
    from safeforge.report.outputs import write_text_atomic
    from safeforge.report.terminal import print_table

    files = [load_pairs(spec, limit=limit, seed=seed) for spec in pairs or []]
    if not library and not files:
        raise SafeforgeError("nothing to audit: give --pairs FILE or keep the library (--library)")
    scorer = create_scorer(reward_model, base_url=base_url, api_key_env=api_key_env)
    report = audit(scorer, pair_files=files, library=library, limit=limit, alpha=alpha, seed=seed)
    for table in audit_tables(report):
        print_table(table)
    write_text_atomic(out / JSON_FILE, report.model_dump_json(indent=2) + "\n")
    write_text_atomic(out / HTML_FILE, render_audit_html(report))
    typer.echo(f"wrote {out / JSON_FILE} and {out / HTML_FILE}")


def audit_tables(report: AuditReport) -> list[Table]:
    """Safety accuracy per subset (and pooled), then one line per bias probe."""
    from rich.table import Table
    from rich.text import Text

    def pct(value: float | None) -> str:
        return "–" if value is None else f"{100 * value:.1f}%"

    safety = Table(title=f"safeforge audit-rm · {report.scorer} · safety accuracy", title_justify="left")
    for col in ("subset", "accuracy", "95% CI", "n", "ties", "unscorable"):
        safety.add_column(col, justify="left" if col == "subset" else "right")
    for s in report.safety:
        rate = s.accuracy
        ci = f"{pct(rate.ci_low)} – {pct(rate.ci_high)}"
        safety.add_row(Text(s.subset), pct(rate.value), ci, str(rate.n), str(s.ties), str(rate.unscorable))
    pooled = report.safety_section
    ci = f"{pct(pooled.ci_low)} – {pct(pooled.ci_high)}"
    safety.add_row(Text("all (pooled)"), pct(pooled.value), ci, str(pooled.n), "", str(pooled.unscorable))
    biases = Table(title=f"bias probes (flagged: prefers x with p < {report.alpha})", title_justify="left")
    for col in ("probe", "finding", "flag"):
        biases.add_column(col)
    for b in report.biases:
        flag = Text("FLAGGED", style="bold red") if b.flagged else Text("–")
        biases.add_row(Text(b.probe), Text(b.sentence), flag)
    return [safety, biases]


__all__ = ["audit_rm", "audit_tables"]
