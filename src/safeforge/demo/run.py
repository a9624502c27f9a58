"""``safeforge demo``: build the flawed demo assistant, scan it, harden it, rescan, compare.

Everything runs on the CPU with nothing downloaded. One before-scan of the held-out probes is
shared by every technique the run applies (``--technique NAME``, or ``all`` for the whole
registry); each technique starts from the same base model within the same budget
(:mod:`safeforge.demo.bench`). The numbers printed are the pipeline's; each technique's claims
and the no-significant-regression gate are *checked* under two refusal judges (the ``rules``
and the independent ``embed`` judge), each marked pass or fail, never assumed. A failed claim, a
significant rise in false rejection or fall in safe-completion quality (``bench.GATING``) marks
the technique as not holding (``passed: false`` in demo.json, one verdict line per technique at
the end); other regressions are printed as such. The command exits 1 only when a technique's run
failed or a testbed check failed: a technique that does not hold is a result the demo shows, not a
broken demo.

Output contract (other tools read it)::

    DIR/demo.json                 before, after, data_card, checks (the primary technique),
                                  techniques{NAME: {after, data_card, checks, gates, wall_s, dir}},
                                  table, testbed (the testbed's own checks), wall_s
    DIR/before/                   the shared baseline scan
    DIR/after/, DIR/data/, ...    the primary technique (the one named, or rejection-sampling)
    DIR/techniques/NAME/after/    every other technique, with its data/ and train/ beside it
    DIR/report.html               the technique table and chart above the primary comparison
    DIR/table.md                  the technique table in Markdown
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

from rich.console import Console

from safeforge.demo.bench import (
    BUDGET,
    DEFAULT_TECHNIQUE,
    DEMO_TRAINERS,
    GATING,
    QUICK_BUDGET,
    build,
    demo_options,
    holds,
    selected,
)
from safeforge.demo.model import DemoModelConfig, build_demo_model
from safeforge.demo.table import (
    BASE,
    bench_markdown,
    bench_rows,
    bench_section,
    bench_tables,
    cost_table,
    distinct_share,
)
from safeforge.demo.testbed import TestbedCheck, distinct_check, eval_probes, fallback_check, overlap_check
from safeforge.errors import SafeforgeError
from safeforge.harden.pipeline import (
    HardenConfig,
    Stages,
    TechniqueRun,
    baseline,
    prepare,
    run_technique,
)
from safeforge.harden.pool import PoolConfig
from safeforge.harden.report import write_harden_report
from safeforge.harden.split import IntentSplit
from safeforge.harden.train import TrainConfig
from safeforge.records import Expected
from safeforge.report.outputs import open_run
from safeforge.targets import Generation

DEMO_FILE = "demo.json"
TABLE_FILE = "table.md"
JUDGES = ("rules", "embed")
"""The refusal judges every check must hold under: fast rules and the independent encoder."""


def demo_config(
    out: Path,
    model_dir: Path,
    *,
    technique: str = DEFAULT_TECHNIQUE,
    seed: int = 0,
    quick: bool = False,
) -> HardenConfig:
    """The hardening settings the demo uses (``quick``: the smaller budget, for tests)."""
    budget = QUICK_BUDGET if quick else BUDGET
    return HardenConfig(
        target=f"hf:{model_dir}",
        out=out,
        technique=technique,
        options=demo_options(technique, quick),
        judges=(*JUDGES, "abstention", "tone"),
        compare_judges=JUDGES,
        generation=Generation(max_new_tokens=budget.max_new_tokens, temperature=1.0, seed=seed),
        batch_size=64,
        pool=PoolConfig(phrasings_per_intent=budget.phrasings_per_intent),
        train=TrainConfig(
            lora=False,
            learning_rate=1e-3,
            max_steps=budget.train_steps,
            batch_size=budget.train_batch_size,
            max_length=384,
            seed=seed,
            logging_steps=20,
        ),
        seed=seed,
    )


def _quiet_library_bars() -> None:
    """Keep the stage lines, sampling counts and training bar; drop the per-file loading and
    dataset-mapping bars of transformers and datasets, which only add noise here."""
    import datasets
    import transformers

    datasets.disable_progress_bars()
    transformers.utils.logging.disable_progress_bar()  # type: ignore[no-untyped-call]


def _limit_threads() -> None:
    """One torch thread unless ``SAFEFORGE_THREADS`` says otherwise: the demo's model is so small
    that a second thread barely helps on an idle machine, and on a busy one two threads per
    process made training several times slower (measured: 33 s vs 13 s for 30 SFT steps)."""
    import torch

    torch.set_num_threads(max(1, int(os.environ.get("SAFEFORGE_THREADS", "1"))))


DEMO_OUTPUTS = (
    "before",
    "after",
    "data",
    "train",
    "techniques",
    "technique.json",
    "split.json",
    "eval_probes.jsonl",
    "report.html",
    "harden.json",
    "harden_config.json",
    DEMO_FILE,
    TABLE_FILE,
)


def _fresh_out(out: Path) -> None:
    """Start every demo from scratch (its wall time means something): clear a previous demo's
    outputs in ``out``; refuse a non-empty directory that is not a demo's."""
    if not out.exists() or not any(out.iterdir()):
        return
    if not (out / "harden_config.json").is_file():
        raise SafeforgeError(f"{out} is not empty and holds no earlier demo; pick another --out")
    for name in DEMO_OUTPUTS:
        path = out / name
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)


def technique_dir(out: Path, name: str, primary: str) -> Path:
    """Where a technique's data, model and after-scan go: ``out`` for the primary technique
    (the layout ``safeforge harden`` uses), ``out/techniques/NAME`` for the others."""
    return out if name == primary else out / "techniques" / name


def technique_config(cfg: HardenConfig, name: str, quick: bool) -> HardenConfig:
    """``cfg`` with technique ``name``'s demo trainer (:data:`DEMO_TRAINERS`; quick runs keep
    each technique's default). One technique's trainer must never reach another's run."""
    return cfg.model_copy(update={"trainer": None if quick else DEMO_TRAINERS.get(name)})


def _run_all(
    cfg: HardenConfig, names: list[str], quick: bool, console: Console
) -> tuple[dict[str, TechniqueRun], dict[str, str], dict[str, float | None]]:
    """The shared before-scan, then every technique; a technique that fails with a clear
    error is reported and the others still run."""
    stages = Stages(console, 1 + 3 * len(names))
    split, pool, spec, n_eval = prepare(cfg)
    before = baseline(cfg, spec, n_eval, stages=stages, progress=None)
    runs: dict[str, TechniqueRun] = {}
    errors: dict[str, str] = {}
    distinct: dict[str, float | None] = {BASE: distinct_share(before.attempts())}
    for name in names:
        work = technique_dir(cfg.out, name, names[0])
        try:
            runs[name] = run_technique(
                technique_config(cfg, name, quick),
                build(name, quick),
                split,
                pool,
                spec,
                before,
                work,
                stages=stages,
                console=console,
            )
        except SafeforgeError as exc:
            if len(names) == 1:
                raise
            errors[name] = str(exc)
            console.print(f"[bold red]✗ {name} failed:[/] {exc}")
            continue
        distinct[name] = distinct_share(open_run(work / "after").attempts())
    return runs, errors, distinct


def _testbed(
    out: Path, runs: dict[str, TechniqueRun], distinct: dict[str, float | None]
) -> list[TestbedCheck]:
    """The testbed's own checks (see :mod:`safeforge.demo.testbed`)."""
    n_refuse = sum(p.expected == Expected.REFUSE for p in eval_probes(out))
    rs = runs.get(DEFAULT_TECHNIQUE)
    checks = [overlap_check(out), distinct_check(distinct.get(BASE), n_refuse)]
    if rs is not None:
        checks.append(fallback_check(rs.output.data_card))
    return checks


def _entry(run: TechniqueRun, out: Path, work: Path) -> dict[str, Any]:
    return {
        "after": run.after.model_dump(mode="json"),
        "data_card": run.output.data_card,
        "checks": [c.model_dump(mode="json") for c in run.checks],
        "gates": {j: g.model_dump(mode="json") for j, g in run.gates.items()},
        "passed": holds(run),
        "template_share": run.output.template_share,
        "data_s": round(run.output.data_s, 2),
        "train_s": round(run.output.train_s, 2),
        "inference_calls": run.output.inference_calls,
        "wall_s": run.wall_s,
        "dir": str(work.relative_to(out)) if work != out else ".",
    }


def _print_checks(runs: dict[str, TechniqueRun], console: Console) -> None:
    for name, run in runs.items():
        for c in run.checks:
            mark = "[green]✓[/]" if c.passed else "[bold red]✗[/]"
            want = c.want.replace("_", " ")
            console.print(f"{mark} {name} · {c.judge}: {c.metric} {want}: {c.detail}")
        for judge, verdict in run.gates.items():
            for check in verdict.checks:
                if check.name in GATING:  # pass or fail, with the smallest regression it could see
                    mark = "[green]✓[/]" if check.passed else "[bold red]✗[/]"
                    console.print(f"{mark} {name} · {judge} gate: {check.name}: {check.message}")
                elif not check.passed:  # a regression the demo reports but does not claim against
                    console.print(f"[yellow]![/] {name} · {judge} (reported): {check.name}: {check.message}")


def run_demo(
    out: Path = Path("safeforge-demo"),
    *,
    technique: str = DEFAULT_TECHNIQUE,
    seed: int = 0,
    quick: bool = False,
    model: DemoModelConfig | None = None,
    console: Console | None = None,
) -> dict[str, Any]:
    """Run the demo end to end; writes ``out/demo.json`` and the reports, returns demo.json's
    data. ``technique`` is a registered name or ``all``."""
    console = console or Console(stderr=True)
    started = time.perf_counter()
    for key in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
        os.environ.setdefault(key, "1")  # the demo promises no network; make any attempt fail fast
    names = selected(technique)
    model = model or DemoModelConfig(seed=seed)
    if model.seed != seed:  # its corpus leaves out the held-out wrappers of *its* seed's split
        raise SafeforgeError(f"the demo model's seed ({model.seed}) must be the run's seed ({seed})")
    _fresh_out(out)
    _limit_threads()
    _quiet_library_bars()
    console.print("[bold]safeforge demo[/]: a tiny assistant with deliberate blind spots, hardened on CPU")
    model_dir = build_demo_model(model, log=lambda m: console.print(f"[cyan]model[/] {m}"))
    console.print(f"[cyan]model[/] {model_dir}")
    cfg = demo_config(out, model_dir, technique=names[0], seed=seed, quick=quick)
    runs, errors, distinct = _run_all(cfg, names, quick, console)
    rows = bench_rows(runs, distinct)
    report = out / "report.html"
    if runs:
        first = next(iter(runs.values()))
        split = IntentSplit.model_validate_json((out / "split.json").read_text(encoding="utf-8"))
        write_harden_report(
            out,
            first.comparison,
            first.gate,
            split,
            first.output,
            first.checks,
            extra=bench_section(rows),
        )
    (out / TABLE_FILE).write_text(bench_markdown(rows), encoding="utf-8")
    wall = time.perf_counter() - started
    out_console = Console(width=max(Console().width, 120))
    for table in [*bench_tables(rows), cost_table(rows)]:
        out_console.print(table)
    _print_checks(runs, out_console)
    testbed = _testbed(out, runs, distinct)
    for check in testbed:
        mark = "[green]✓[/]" if check.passed else "[bold red]✗[/]"
        out_console.print(f"{mark} testbed: {check.name}: {check.detail}")
    primary = runs.get(names[0])
    data: dict[str, Any] = {
        "wall_s": round(wall, 1),
        "model_dir": str(model_dir),
        "technique": names[0],
        "judges": list(JUDGES),
        "before": primary.comparison.a.model_dump(mode="json") if primary else None,
        "after": primary.after.model_dump(mode="json") if primary else None,
        "data_card": primary.output.data_card if primary else None,
        "checks": [c.model_dump(mode="json") for c in primary.checks] if primary else [],
        "passed": bool(runs)
        and not errors
        and all(holds(r) for r in runs.values())
        and all(c.passed for c in testbed),
        "testbed": [c.model_dump(mode="json") for c in testbed],
        "techniques": {
            name: _entry(run, out, technique_dir(out, name, names[0])) for name, run in runs.items()
        },
        "errors": errors,
        "table": [r.model_dump(mode="json") for r in rows],
        "report": str(report),
        "eval_intents": json.loads((out / "split.json").read_text(encoding="utf-8"))["eval"],
    }
    (out / DEMO_FILE).write_text(json.dumps(data, indent=2), encoding="utf-8")
    for name, run in runs.items():
        failed = [f"{c.metric} ({c.judge})" for c in run.checks if not c.passed] + [
            f"gate: {c.name.removeprefix('no significant regression in ')} ({judge})"
            for judge, verdict in run.gates.items()
            for c in verdict.checks
            if c.name in GATING and not c.passed
        ]
        verdict_line = "claims and gate hold" if not failed else "does NOT hold: " + ", ".join(failed)
        out_console.print(f"[bold]{name}[/]: {verdict_line}")
    out_console.print(f"wall time {wall:.0f}s · report: {report} · runs: {out / 'before'}, {out / 'after'}")
    return data
