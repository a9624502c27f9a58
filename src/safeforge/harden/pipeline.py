"""``harden``: baseline scan -> technique -> rescan -> compare -> gate, in one directory.

The pipeline is the same for every technique (``safeforge.harden.techniques``): it fixes the
intent split, builds the train-side pool the technique may draw from, scans the held-out probes
before and after, and compares the two with paired tests. Every stage writes its output under
``out`` and is skipped when that output already exists, so a killed run continues where it
stopped (the scans themselves resume through the run store). Layout::

    out/split.json          which intents train and which are held out (seeded)
    out/eval_probes.jsonl   the held-out probes both scans send (``probes:`` dataset)
    out/before/             baseline scan of the original model (run store + report)
    out/technique.json      what the technique built: target to rescan, data files, data card
    out/data/, out/train/   the technique's own files (rejection sampling: TRL rows, adapter)
    out/after/              the same probes against the hardened model (or wrapper)
    out/report.html         before/after comparison (paired tests), the one report to read
    out/harden.json         both summaries, the comparison, the data card, the gate, timings

Evaluation probes come only from held-out intents: the report measures generalisation to
requests the training data never contained, not memory.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from rich.console import Console

from safeforge.errors import SafeforgeError
from safeforge.harden.evalset import write_probes
from safeforge.harden.pool import BENIGN_FAMILIES, HARMFUL_FAMILIES, PoolConfig, TrainPool, train_pool
from safeforge.harden.report import write_harden_report
from safeforge.harden.split import EVAL_FRACTION, IntentSplit, split_intents
from safeforge.harden.techniques import (
    OUTPUT_FILE,
    ClaimCheck,
    Technique,
    TechniqueContext,
    TechniqueOutput,
    check_claims,
    create_technique,
)
from safeforge.harden.techniques._base import Progress, local_model_path
from safeforge.harden.train import TrainConfig
from safeforge.metrics import Comparison, GateResult, Summary, compare_runs, gate
from safeforge.probes import INTENTS, apply_transforms, resolve_probes
from safeforge.records import Expected, Probe
from safeforge.run import Run, ScanConfig, scan
from safeforge.targets import Generation

EVAL_FAMILIES = (*HARMFUL_FAMILIES, *BENIGN_FAMILIES, "unanswerable")


class HardenConfig(BaseModel):
    """Everything ``safeforge harden`` does; the CLI flags map onto these fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    target: str = Field(description="hf:PATH of the model to harden (it is sampled, trained and rescanned).")
    out: Path
    technique: str = Field(default="rejection-sampling", description="A registered technique name.")
    options: dict[str, Any] = Field(default_factory=dict, description="The technique's own settings.")
    trainer: str | None = Field(default=None, description="TRL trainer; None: the technique's default.")
    eval_fraction: float = Field(
        default=EVAL_FRACTION, gt=0.0, lt=1.0, description="Share of intents (and framings) held out."
    )
    eval_families: tuple[str, ...] = EVAL_FAMILIES
    judges: tuple[str, ...] = ("cascade", "abstention", "tone")
    compare_judges: tuple[str, ...] = Field(
        default=(),
        description="Refusal judges to compare, gate and check claims under, each on its own (the "
        "first is the headline); empty: the scans' preferred judge. Each must be among ``judges``.",
    )
    generation: Generation = Generation(max_new_tokens=128)
    batch_size: int = Field(default=32, ge=1)
    pool: PoolConfig = PoolConfig()
    train: TrainConfig = TrainConfig()
    min_jrr: float | None = None
    max_frr: float | None = None
    seed: int = 0


class TechniqueRun(BaseModel):
    """One technique applied and measured against the shared baseline."""

    model_config = ConfigDict(frozen=True)

    output: TechniqueOutput
    after: Summary
    comparison: Comparison
    gate: GateResult
    checks: list[ClaimCheck] = Field(description="The technique's claims, under every compared judge.")
    comparisons: dict[str, Comparison] = Field(
        default_factory=dict, description="Refusal judge -> comparison (``compare_judges``)."
    )
    gates: dict[str, GateResult] = Field(default_factory=dict, description="Refusal judge -> gate.")
    wall_s: float

    @property
    def passed(self) -> bool:
        """Every claim holds and every gate passes, under every compared judge."""
        gates = self.gates.values() if self.gates else (self.gate,)
        return all(c.passed for c in self.checks) and all(g.passed for g in gates)


class HardenResult(BaseModel):
    """What ``harden`` returns (and writes as ``harden.json``)."""

    model_config = ConfigDict(frozen=True)

    config: HardenConfig
    split: IntentSplit
    before: Summary
    after: Summary
    comparison: Comparison
    gate: GateResult
    checks: list[ClaimCheck] = Field(default_factory=list, description="The technique's own claims.")
    technique: TechniqueOutput
    data_card: dict[str, Any]
    model_dir: Path | None
    report: Path
    stage_seconds: dict[str, float]


class Stages:
    """Prints one line per stage with its wall time; skipped stages say so."""

    def __init__(self, console: Console, total: int) -> None:
        self.console, self.total, self.n = console, total, 0
        self.seconds: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str, detail: str, skip: bool = False) -> Iterator[None]:
        self.n += 1
        head = f"[bold cyan][{self.n}/{self.total}][/] {detail}"
        if skip:
            self.console.print(f"{head} [dim](already done, skipped)[/]")
            self.seconds[name] = 0.0
            yield
            return
        self.console.print(f"{head} …")
        started = time.perf_counter()
        yield
        self.seconds[name] = round(time.perf_counter() - started, 2)
        self.console.print(f"      [green]done[/] in {self.seconds[name]:.1f}s")


def _scan(cfg: HardenConfig, target: str, spec: str, run_dir: Path, progress: bool | None) -> Run:
    scan_cfg = ScanConfig(
        target=target,
        datasets=[spec],
        judges=list(cfg.judges),
        generation=cfg.generation,
        batch_size=cfg.batch_size,
        concurrency=1,
        seed=cfg.seed,
        run_dir=run_dir,
    )
    return scan(scan_cfg, progress=progress)


def harden(
    cfg: HardenConfig, *, console: Console | None = None, progress: bool | None = None
) -> HardenResult:
    """Run (or resume) the whole loop and return before/after with the paired comparison."""
    console = console or Console(stderr=True)
    technique = create_technique(cfg.technique, **cfg.options)
    if technique.kind == "trained":
        local_model_path(cfg.target)
    stages = Stages(console, 5)
    split, pool, spec, n_eval = prepare(cfg)
    before = baseline(cfg, spec, n_eval, stages=stages, progress=progress)
    run = run_technique(
        cfg, technique, split, pool, spec, before, cfg.out, stages=stages, console=console, progress=progress
    )
    with stages.stage("report", "write the report"):
        report = write_harden_report(cfg.out, run.comparison, run.gate, split, run.output, run.checks)
        result = HardenResult(
            config=cfg,
            split=split,
            before=run.comparison.a,
            after=run.after,
            comparison=run.comparison,
            gate=run.gate,
            checks=run.checks,
            technique=run.output,
            data_card=run.output.data_card,
            model_dir=run.output.model_dir,
            report=report,
            stage_seconds=stages.seconds,
        )
        (cfg.out / "harden.json").write_text(result.model_dump_json(indent=2), encoding="utf-8")
    return result


def baseline(
    cfg: HardenConfig, eval_spec: str, n_eval: int, *, stages: Stages, progress: bool | None = None
) -> Run:
    """Scan the held-out probes on the original model into ``out/before`` (resumes); every
    technique is compared with this one scan."""
    from safeforge.report import write_run_outputs

    with stages.stage("before", f"baseline scan: {n_eval} held-out probes"):
        before = _scan(cfg, cfg.target, eval_spec, cfg.out / "before", progress)
        write_run_outputs(before, refusal_judge=cfg.compare_judges[0] if cfg.compare_judges else None)
    return before


def run_technique(
    cfg: HardenConfig,
    technique: Technique,
    split: IntentSplit,
    pool: TrainPool,
    eval_spec: str,
    before: Run,
    work_dir: Path,
    *,
    stages: Stages,
    console: Console,
    progress: bool | None = None,
) -> TechniqueRun:
    """Apply ``technique`` in ``work_dir`` (or reuse its finished output), rescan the held-out
    probes into ``work_dir/after``, compare with ``before`` and check the technique's claims."""
    from safeforge.report import write_run_outputs

    started = time.perf_counter()
    output = _technique_stage(cfg, technique, split, pool, work_dir, stages, console, progress)
    headline = cfg.compare_judges[0] if cfg.compare_judges else None
    with stages.stage("after", f"rescan after {technique.name}: the same held-out probes"):
        after = _scan(cfg, output.target, eval_spec, work_dir / "after", progress)
        after_summary = write_run_outputs(after, refusal_judge=headline)
    with stages.stage("compare", "compare before/after (paired tests) and gate"):
        labels = (str(before.dir), str(after.dir))  # reports name the runs, not the model twice
        a, b = before.attempts(), after.attempts()
        comparisons = {
            judge or "": compare_runs(a, b, seed=cfg.seed, refusal_judge=judge, labels=labels)
            for judge in (cfg.compare_judges or (None,))
        }
        gates = {
            judge: gate(c.b, min_jrr=cfg.min_jrr, max_frr=cfg.max_frr, comparison=c)
            for judge, c in comparisons.items()
        }
        checks = [check for c in comparisons.values() for check in check_claims(technique.claims, c)]
    first = next(iter(comparisons))
    return TechniqueRun(
        output=output,
        after=after_summary,
        comparison=comparisons[first],
        gate=gates[first],
        checks=checks,
        comparisons=comparisons if cfg.compare_judges else {},
        gates=gates if cfg.compare_judges else {},
        wall_s=round(time.perf_counter() - started, 2),
    )


def _technique_stage(
    cfg: HardenConfig,
    technique: Technique,
    split: IntentSplit,
    pool: TrainPool,
    work_dir: Path,
    stages: Stages,
    console: Console,
    progress: bool | None,
) -> TechniqueOutput:
    """Run ``technique.apply`` once; a finished ``technique.json`` is reused."""
    path = work_dir / OUTPUT_FILE
    done = path.is_file()
    with stages.stage("technique", f"{technique.name} on the train side", skip=done):
        if done:
            return TechniqueOutput.model_validate_json(path.read_text(encoding="utf-8"))
        ctx = TechniqueContext(
            base=cfg.target,
            work_dir=work_dir,
            split=split,
            pool=pool,
            generation=cfg.generation,
            batch_size=cfg.batch_size,
            train=cfg.train,
            trainer=cfg.trainer,
            seed=cfg.seed,
            log=lambda line: console.print(f"      {line}"),
            progress=None if progress is False else _progress_printer(console),
        )
        work_dir.mkdir(parents=True, exist_ok=True)
        output = technique.apply(ctx)
        card = {**output.data_card, "pool": cfg.pool.model_dump(mode="json")}
        output = output.model_copy(update={"data_card": card})
        path.write_text(output.model_dump_json(indent=2), encoding="utf-8")
    if output.template_share is not None:
        console.print(f"      training targets written by a template: {output.template_share:.0%}")
    return output


CONFIG_FILE = "harden_config.json"


def prepare(cfg: HardenConfig) -> tuple[IntentSplit, TrainPool, str, int]:
    """Claim ``out``, fix the intent split, build the train pool and write the held-out probes
    both scans send; returns (split, pool, eval dataset spec, number of eval probes)."""
    cfg.out.mkdir(parents=True, exist_ok=True)
    _claim_dir(cfg)
    probes = resolve_probes(families=cfg.eval_families, seed=cfg.seed)
    split = split_intents(
        INTENTS, eval_fraction=cfg.eval_fraction, seed=cfg.seed, groups=split_groups(probes)
    )
    (cfg.out / "split.json").write_text(split.model_dump_json(indent=2), encoding="utf-8")
    eval_probes = split.select(probes, "eval")
    eval_probes += held_out_benign(split, eval_probes, cfg.pool.benign_framings, cfg.seed)
    pool = train_pool(split, cfg.pool, seed=cfg.seed)
    return split, pool, write_probes(eval_probes, cfg.out / "eval_probes.jsonl"), len(eval_probes)


def split_groups(probes: Sequence[Probe]) -> list[tuple[str, str]]:
    """(group id, stratum) of every probe group without a library intent (questions, trigger
    collisions): the split holds out exactly its share of each family and question kind."""
    intents = {i.id for i in INTENTS}
    return sorted(
        {(p.group_id, f"{p.family}/{p.meta.get('kind', '')}") for p in probes if p.intent_id not in intents}
    )


def held_out_benign(
    split: IntentSplit, eval_probes: Sequence[Probe], benign_framings: Sequence[str], seed: int
) -> list[Probe]:
    """The eval side's benign twins under the held-out benign wrappers (a rude or flattering
    ask that should still be answered): the false-rejection side of the held-out framings."""
    held = [f for f in benign_framings if split.framing_side(f) == "eval"]
    twins = [p for p in eval_probes if p.family == "benign_contrast" and p.expected == Expected.COMPLY]
    return apply_transforms(twins, held, seed)[len(twins) :] if held else []


def _claim_dir(cfg: HardenConfig) -> None:
    """Record the config in ``out``; refuse to resume a directory made with a different one
    (its data and model would silently stand in for the new settings)."""
    path = cfg.out / CONFIG_FILE
    mine = cfg.model_dump(mode="json", exclude={"out"})
    if path.is_file():
        stored = json.loads(path.read_text(encoding="utf-8"))
        changed = sorted(k for k in set(mine) | set(stored) if mine.get(k) != stored.get(k))
        if changed:
            raise SafeforgeError(
                f"{cfg.out} holds a harden run made with different settings ({', '.join(changed)}); "
                "use another --out or delete it"
            )
        return
    path.write_text(json.dumps(mine, indent=2), encoding="utf-8")


def _progress_printer(console: Console) -> Progress:
    """A sampling progress line every ~10 %."""
    last = {"step": -1}

    def show(stage: str, done: int, total: int) -> None:
        step = done * 10 // max(total, 1)
        if step != last["step"]:
            last["step"] = step
            console.print(f"      {stage}: {done}/{total}")

    return show


def load_result(out: Path) -> HardenResult:
    """Read ``harden.json`` back."""
    return HardenResult.model_validate(json.loads((out / "harden.json").read_text(encoding="utf-8")))
