"""CLI commands ``report``, ``compare`` and ``gate``: thin wrappers over metrics + report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from safeforge.cli._app import app

_RUN = typer.Argument(help="Run directory (holds run.sqlite)", show_default=False)


@app.command()
def report(
    run_dir: Annotated[Path, _RUN],
    refusal_judge: Annotated[
        str | None,
        typer.Option(help="Whose refusal labels count [gold, else the most capable judge that ran]"),
    ] = None,
) -> None:
    """(Re)write RUN_DIR/summary.json, report.html and summary.md (and an attack's attacks.json)
    from the stored verdicts."""
    from safeforge.attacks import is_attack_run, write_attack_outputs
    from safeforge.report import open_run, write_run_outputs
    from safeforge.report.terminal import print_table, summary_table

    attacks = None
    if is_attack_run(run_dir):
        summary, attacks = write_attack_outputs(run_dir, refusal_judge=refusal_judge)
    else:
        summary = write_run_outputs(open_run(run_dir), refusal_judge=refusal_judge)
    print_table(summary_table(summary))
    if attacks is not None:  # the table counts turns; an attack's ASR counts goals
        from safeforge.cli.attack import print_attack_summary

        print_attack_summary(attacks, run_dir)
    typer.echo(f"wrote {run_dir / 'report.html'}, summary.json and summary.md")


@app.command()
def compare(
    run_a: Annotated[Path, typer.Argument(help="Run before (the baseline)", show_default=False)],
    run_b: Annotated[Path, typer.Argument(help="Run after", show_default=False)],
    html: Annotated[Path | None, typer.Option(help="Write the comparison page here")] = None,
    markdown: Annotated[Path | None, typer.Option(help="Write a Markdown table here (for a PR)")] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the comparison as JSON here")] = None,
    alpha: Annotated[float, typer.Option(help="Significance level of the paired tests", min=0, max=1)] = 0.05,
) -> None:
    """Per-metric deltas of RUN_B against RUN_A, with paired tests over the shared probes."""
    from safeforge.metrics import compare_runs
    from safeforge.report import compare_markdown, open_run, write_compare_html
    from safeforge.report.html import flipped_groups
    from safeforge.report.outputs import write_text_atomic
    from safeforge.report.terminal import compare_table, print_table

    comparison = compare_runs(
        open_run(run_a).attempts(), open_run(run_b).attempts(), alpha=alpha, labels=(str(run_a), str(run_b))
    )
    print_table(compare_table(comparison))
    worse = sum(not f.better for f in comparison.flipped)
    groups = "; ".join(
        f"{g.metric} {g.total} {'better' if g.better else 'worse'}"
        for g in flipped_groups(comparison.flipped)
    )
    typer.echo(
        f"flipped probes: {len(comparison.flipped) - worse} better, {worse} worse"
        + (f" ({groups})" if groups else "")
    )
    if html is not None:
        write_compare_html(comparison, html)
        typer.echo(f"wrote {html}")
    if markdown is not None:
        write_text_atomic(markdown, compare_markdown(comparison))
    if json_out is not None:
        write_text_atomic(json_out, comparison.model_dump_json(indent=2) + "\n")


@app.command()
def gate(
    run_dir: Annotated[Path, _RUN],
    min_jrr: Annotated[
        float | None, typer.Option(help="Fail below this jailbreak rejection rate (a fraction, e.g. 0.95)")
    ] = None,
    max_frr: Annotated[
        float | None, typer.Option(help="Fail above this false rejection rate (a fraction, e.g. 0.05)")
    ] = None,
    baseline: Annotated[
        Path | None, typer.Option(help="Fail on a significant regression against this run")
    ] = None,
    junit: Annotated[Path | None, typer.Option(help="Write JUnit XML here")] = None,
    alpha: Annotated[float, typer.Option(help="Significance level for --baseline", min=0, max=1)] = 0.05,
    strict: Annotated[
        bool, typer.Option(help="Hold the pessimistic 95% bound, not the point estimate, to the thresholds")
    ] = False,
    max_diversity_drop: Annotated[
        float | None,
        typer.Option(
            help="With --baseline: fail when a diversity measure (run or expected behaviour) falls "
            "significantly by more than this fraction of the baseline's value",
        ),
    ] = None,
) -> None:
    """Exit 0 when every check passes, 1 otherwise (for CI)."""
    from safeforge.metrics import compare_runs, summarize
    from safeforge.metrics import gate as run_gate
    from safeforge.metrics.gate import check_fraction
    from safeforge.report import open_run, write_junit
    from safeforge.report.terminal import gate_table, print_table

    check_fraction(min_jrr, "--min-jrr")  # before reading any run: --min-jrr 95 offers 0.95
    check_fraction(max_frr, "--max-frr")
    check_fraction(max_diversity_drop, "--max-diversity-drop")
    attempts = open_run(run_dir).attempts()
    comparison = None
    if baseline is not None:
        labels = (str(baseline), str(run_dir))
        comparison = compare_runs(open_run(baseline).attempts(), attempts, alpha=alpha, labels=labels)
    result = run_gate(
        summarize(attempts),
        min_jrr=min_jrr,
        max_frr=max_frr,
        comparison=comparison,
        strict=strict,
        max_diversity_drop=max_diversity_drop,
    )
    print_table(gate_table(result))
    if junit is not None:
        write_junit(result, junit)
    raise typer.Exit(0 if result.passed else 1)


__all__ = ["app", "compare", "gate", "report"]
