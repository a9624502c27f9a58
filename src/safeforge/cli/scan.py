"""CLI commands ``scan`` and ``export``: flags -> ``ScanConfig`` -> ``safeforge.run.scan``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from safeforge.cli._app import app
from safeforge.errors import SafeforgeError
from safeforge.records import Expected
from safeforge.run.export import ExportFormat

_RESUME_HELP = (
    "Continue the run in DIR (re-running into the same --run-dir does the same): answered "
    "probes are never asked again, errored ones are retried. With no --target/--dataset the "
    "stored config is reused."
)


@app.command()
def scan(
    target: Annotated[
        str | None, typer.Option(help="openai:MODEL, hf:PATH, replay:FILE, python:MOD:FN, mock")
    ] = None,
    base_url: Annotated[
        list[str] | None,
        typer.Option(help="OpenAI-compatible endpoint, e.g. http://localhost:8000/v1 (repeatable: replicas)"),
    ] = None,
    api_key_env: Annotated[
        str | None, typer.Option(help="Env var holding the API key [OPENAI_API_KEY]")
    ] = None,
    dataset: Annotated[
        list[str] | None,
        typer.Option(
            help="[FORMAT:]PATH (xstest, jbb, advbench, …, csv/jsonl with a prompt column; repeatable)"
        ),
    ] = None,
    expect: Annotated[
        Expected | None,
        typer.Option(
            help="What rows without an 'expected' column should get: refuse (they count in JRR) or "
            "comply (in FRR) [refuse]"
        ),
    ] = None,
    suite: Annotated[str | None, typer.Option(help="Built-in probe suite")] = None,
    family: Annotated[list[str] | None, typer.Option(help="Probe family (repeatable)")] = None,
    transform: Annotated[list[str] | None, typer.Option(help="Prompt transform (repeatable)")] = None,
    judge: Annotated[
        list[str] | None,
        typer.Option(
            help="Judge NAME[?key=value&...] to run after generation (repeatable) [cascade, leak, abstention]"
        ),
    ] = None,
    no_report: Annotated[bool, typer.Option("--no-report", help="Skip summary.json/report.html")] = False,
    concurrency: Annotated[int | None, typer.Option(help="Requests in flight [16]")] = None,
    run_dir: Annotated[Path | None, typer.Option(help="Run directory [runs/scan-TIMESTAMP]")] = None,
    limit: Annotated[int | None, typer.Option(help="Sample this many probes (seeded)")] = None,
    seed: Annotated[int | None, typer.Option(help="Sampling seed [0]")] = None,
    timeout: Annotated[float | None, typer.Option(help="Per-request timeout in seconds [60]")] = None,
    max_retries: Annotated[int | None, typer.Option(help="Retries on 429/5xx/timeouts [4]")] = None,
    rpm: Annotated[float | None, typer.Option(help="Cap on requests per minute")] = None,
    max_new_tokens: Annotated[int | None, typer.Option(help="Tokens to generate [256]")] = None,
    temperature: Annotated[float | None, typer.Option(help="Sampling temperature; 0 = greedy [0]")] = None,
    config: Annotated[Path | None, typer.Option(help="YAML file of scan settings; flags override it")] = None,
    resume: Annotated[Path | None, typer.Option(metavar="DIR", help=_RESUME_HELP)] = None,
    force: Annotated[
        bool, typer.Option(help="Resume even if the run was made with a different config")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar")] = False,
) -> None:
    """Send probes to a target and store every attempt in a resumable run directory."""
    from safeforge.logs import route_library_logs
    from safeforge.run import ScanConfig
    from safeforge.run import scan as run_scan
    from safeforge.run.config import REDACTED
    from safeforge.run.store import Store, store_path

    flags: dict[str, Any] = {
        "target": target,
        "base_url": base_url[0] if base_url and len(base_url) == 1 else base_url or None,
        "api_key_env": api_key_env,
        "datasets": dataset or None,
        "expect": expect.value if expect else None,
        "suite": suite,
        "families": family or None,
        "transforms": transform or None,
        "judges": judge or None,
        "concurrency": concurrency,
        "run_dir": resume or run_dir,
        "limit": limit,
        "seed": seed,
        "timeout_s": timeout,
        "max_retries": max_retries,
        "requests_per_minute": rpm,
        "resume": True if resume else None,
        "force": force or None,
        "report": False if no_report else None,
    }
    overrides = {k: v for k, v in flags.items() if v is not None}
    generation = {"max_new_tokens": max_new_tokens, "temperature": temperature}
    if any(v is not None for v in generation.values()):
        overrides["generation"] = {k: v for k, v in generation.items() if v is not None}
    base: dict[str, Any] = {}
    if resume is not None and not store_path(resume).is_file():
        raise SafeforgeError(f"nothing to resume: no run store in {resume}")
    if resume is not None:
        with Store(store_path(resume)) as store:
            base = dict(store.meta().get("config", {}))
        base = {k: v for k, v in base.items() if k not in {"resume", "force", "run_dir"}}
        if REDACTED in str(base.get("base_url", "")) and "base_url" not in overrides:
            raise SafeforgeError("the stored base URL was redacted; pass --base-url again")
    cfg = ScanConfig.load(config, overrides, base=base)
    run = run_scan(cfg, progress=False if quiet else None)
    if run.dir.is_dir():
        route_library_logs(run.dir / "library.log")  # what transformers & co. said (if anything)
    total, answered = run.counts() if store_path(run.dir).is_file() else (0, 0)
    if cfg.report and total:
        from safeforge.metrics import Summary
        from safeforge.report.terminal import print_table, summary_table

        summary = Summary.model_validate_json((run.dir / "summary.json").read_text(encoding="utf-8"))
        print_table(summary_table(summary))
    typer.echo(f"{total} attempts ({answered} answered, {total - answered} errors) in {run.dir}")


@app.command()
def export(
    run_dir: Annotated[Path, typer.Argument(help="Run directory")],
    fmt: Annotated[ExportFormat, typer.Option("--format", "-f", help="Output format")] = ExportFormat.JSONL,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Output file [RUN_DIR/attempts.FORMAT]")
    ] = None,
) -> None:
    """Export a run's attempts (with verdicts) as JSONL, CSV or Parquet; its failed probes as SARIF
    2.1.0; a guard's decisions as DPO pairs."""
    from safeforge.run.export import export_run

    typer.echo(str(export_run(run_dir, fmt, output)))


__all__ = ["app", "export", "scan"]
