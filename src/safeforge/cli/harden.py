"""CLI commands ``harden`` and ``demo``: thin wrappers over ``safeforge.harden`` and ``safeforge.demo``."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from safeforge.cli._app import app
from safeforge.errors import SafeforgeError


class TrainerOpt(StrEnum):
    SFT = "sft"
    DPO = "dpo"
    GRPO = "grpo"


def parse_options(pairs: list[str] | None) -> dict[str, Any]:
    """``KEY=VALUE`` pairs (repeatable ``--option``) -> a dict; values are read as YAML scalars,
    so ``k=4`` is a number and ``tone_policy=false`` a boolean."""
    import yaml

    options: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise SafeforgeError(f"--option {pair!r}: expected KEY=VALUE")
        options[key.strip().replace("-", "_")] = yaml.safe_load(value) if value else ""
    return options


def _with_reward_config(options: dict[str, Any], path: Path | None) -> dict[str, Any]:
    """``--reward-config PATH`` is the ``reward_config`` option (checked here: one clear line)."""
    if path is None:
        return options
    from safeforge.judges.rewards import load_reward_config

    load_reward_config(path)
    return {**options, "reward_config": str(path.resolve())}


@app.command()
def harden(
    target: Annotated[str, typer.Option(help="Model to harden: hf:PATH", show_default=False)],
    out: Annotated[
        Path, typer.Option(help="Directory for scans, data, model and report", show_default=False)
    ],
    technique: Annotated[
        str, typer.Option(help="Hardening technique (see the README's technique table)")
    ] = "rejection-sampling",
    option: Annotated[
        list[str] | None,
        typer.Option("--option", "-o", help="Technique setting KEY=VALUE, repeatable (e.g. -o k=4)"),
    ] = None,
    trainer: Annotated[TrainerOpt | None, typer.Option(help="TRL trainer (default: the technique's)")] = None,
    constitution: Annotated[
        Path | None, typer.Option(help="constitutional: principles YAML (default: the bundled one)")
    ] = None,
    helper: Annotated[
        str | None,
        typer.Option(
            help="constitutional: critique/revision/feedback model, e.g. openai:MODEL (default: --target)"
        ),
    ] = None,
    helper_base_url: Annotated[
        str | None, typer.Option(help="constitutional: the helper's OpenAI-compatible endpoint")
    ] = None,
    reward_config: Annotated[
        Path | None, typer.Option(help="Reward weights YAML for reward-shaping (see the README)")
    ] = None,
    phrasings_per_intent: Annotated[
        int | None, typer.Option(help="Cap phrasings per training intent (seeded sample)", min=1)
    ] = None,
    eval_fraction: Annotated[float, typer.Option(help="Share of intents held out for evaluation")] = 0.3,
    judge: Annotated[list[str] | None, typer.Option(help="Scan judges (repeatable)")] = None,
    lora: Annotated[bool, typer.Option("--lora/--full", help="LoRA adapter or all weights")] = True,
    learning_rate: Annotated[float, typer.Option(help="Learning rate")] = 5e-4,
    epochs: Annotated[float, typer.Option(help="Training epochs")] = 1.0,
    max_steps: Annotated[int, typer.Option(help="> 0 overrides epochs")] = -1,
    batch_size: Annotated[int, typer.Option(help="Training batch size per device", min=1)] = 8,
    max_new_tokens: Annotated[int, typer.Option(help="Tokens per answer in the scans", min=1)] = 128,
    min_jrr: Annotated[float | None, typer.Option(help="Gate: after-scan JRR at least this")] = None,
    max_frr: Annotated[float | None, typer.Option(help="Gate: after-scan FRR at most this")] = None,
    seed: Annotated[int, typer.Option(help="Seed for the split, sampling and training")] = 0,
) -> None:
    """Scan -> technique (data + TRL training, or an inference wrapper) -> rescan -> compare -> gate.

    Resumable in OUT. Exits 1 when the gate fails (no significant regression vs the baseline,
    plus any thresholds)."""
    from safeforge.harden import HardenConfig, PoolConfig, TrainConfig
    from safeforge.harden import harden as run_harden
    from safeforge.metrics.gate import check_fraction
    from safeforge.report.terminal import compare_table, gate_table, print_table
    from safeforge.targets import Generation

    check_fraction(min_jrr, "--min-jrr")  # now, not after the training: --min-jrr 95 offers 0.95
    check_fraction(max_frr, "--max-frr")
    defaults = HardenConfig(target=target, out=out)
    options = parse_options(option)
    for key, value in (
        ("constitution", constitution),
        ("helper", helper),
        ("helper_base_url", helper_base_url),
    ):
        if value is not None:  # shorthands for -o KEY=VALUE; a technique without the setting rejects it
            options[key] = str(value)
    cfg = HardenConfig(
        target=target,
        out=out,
        technique=technique,
        options=_with_reward_config(options, reward_config),
        trainer=trainer.value if trainer else None,
        eval_fraction=eval_fraction,
        judges=tuple(judge) if judge else defaults.judges,
        generation=Generation(max_new_tokens=max_new_tokens),
        pool=PoolConfig(phrasings_per_intent=phrasings_per_intent),
        train=TrainConfig(
            lora=lora,
            learning_rate=learning_rate,
            epochs=epochs,
            max_steps=max_steps,
            batch_size=batch_size,
            seed=seed,
        ),
        min_jrr=min_jrr,
        max_frr=max_frr,
        seed=seed,
    )
    result = run_harden(cfg)
    print_table(compare_table(result.comparison))
    print_table(gate_table(result.gate))
    for c in result.checks:
        typer.echo(f"{'✓' if c.passed else '✗'} {c.metric} {c.want.replace('_', ' ')}: {c.detail}")
    typer.echo(f"report: {result.report}")
    if not result.gate.passed:
        raise typer.Exit(1)


@app.command()
def demo(
    out: Annotated[Path, typer.Option(help="Where the runs, reports and demo.json go")] = Path(
        "safeforge-demo"
    ),
    technique: Annotated[
        str, typer.Option(help="Hardening technique to apply, or 'all' for the technique table")
    ] = "rejection-sampling",
    seed: Annotated[int, typer.Option(help="Seed for the split, sampling and training")] = 0,
    quick: Annotated[bool, typer.Option(help="Smaller budget (a smoke run)")] = False,
) -> None:
    """The built-in demo: a tiny assistant with safety blind spots, scanned, hardened, rescanned.

    No GPU, no network, no download; the demo model is built once and cached under
    $SAFEFORGE_CACHE (default ~/.cache/safeforge). Each run starts afresh in OUT (a previous
    demo's outputs there are replaced). With --technique all, every registered technique is
    applied to the same model under the same budget and compared in one table. Exits 1 if a
    technique's run failed or a check on the testbed itself failed. A technique whose claim or
    no-regression gate fails is the demo's finding, not its failure: it is printed, recorded in
    demo.json ("passed": false) and the exit status stays 0 (`safeforge gate` is the command
    that exits 1 on a regression)."""
    from safeforge.demo import run_demo

    data = run_demo(out, technique=technique, seed=seed, quick=quick)
    if data["errors"] or not all(check["passed"] for check in data["testbed"]):
        raise typer.Exit(1)


__all__ = ["app"]
