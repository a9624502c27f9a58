"""``harden``: baseline scan -> data -> train -> rescan -> compare -> gate, in one directory.

Every stage writes its output under ``out`` and is skipped when that output already exists,
so a killed run continues where it stopped (the scans themselves resume through the run
store). Layout::

    out/split.json          which intents train and which are held out (seeded)
    out/eval_probes.jsonl   the held-out probes both scans send (``probes:`` dataset)
    out/before/             baseline scan of the original model (run store + report)
    out/data/               rejection-sampling data: sft.jsonl, dpo.jsonl, data_card.json
    out/train/              TRL output: adapter/ (or model/), data card
    out/after/              the same probes against the hardened model
    out/report.html         before/after comparison (paired tests), the one report to read
    out/harden.json         both summaries, the comparison, the data card, the gate, timings

Evaluation probes come only from held-out intents: the report measures generalisation to
requests the training data never contained, not memory.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from rich.console import Console

from safeforge.errors import SafeforgeError
from safeforge.harden.evalset import write_probes
from safeforge.harden.rejection_sampling import (
    BENIGN_FAMILIES,
    HARMFUL_FAMILIES,
    DataCard,
    HardenData,
    Progress,
    RSConfig,
    build_rejection_sampling_data_async,
)
from safeforge.harden.report import write_harden_report
from safeforge.harden.split import IntentSplit, split_intents
from safeforge.harden.train import TrainConfig, train_dpo, train_sft
from safeforge.metrics import Comparison, GateResult, Summary, compare_runs, gate
from safeforge.probes import INTENTS, resolve_probes
from safeforge.run import Run, ScanConfig, scan
from safeforge.targets import Generation, TargetOptions, create_target

Technique = Literal["rejection-sampling"]
TrainerName = Literal["sft", "dpo"]

EVAL_FAMILIES = (*HARMFUL_FAMILIES, *BENIGN_FAMILIES, "unanswerable")


class HardenConfig(BaseModel):
    """Everything ``safeforge harden`` does; the CLI flags map onto these fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    target: str = Field(description="hf:PATH of the model to harden (it is sampled, trained and rescanned).")
    out: Path
    technique: Technique = "rejection-sampling"
    trainer: TrainerName = "sft"
    eval_fraction: float = Field(default=0.3, gt=0.0, lt=1.0, description="Share of intents held out.")
    eval_families: tuple[str, ...] = EVAL_FAMILIES
    judges: tuple[str, ...] = ("cascade", "abstention", "tone")
    generation: Generation = Generation(max_new_tokens=128)
    batch_size: int = Field(default=32, ge=1)
    rs: RSConfig = RSConfig()
    train: TrainConfig = TrainConfig()
    min_jrr: float | None = None
    max_frr: float | None = None
    seed: int = 0


class HardenResult(BaseModel):
    """What ``harden`` returns (and writes as ``harden.json``)."""

    model_config = ConfigDict(frozen=True)

    config: HardenConfig
    split: IntentSplit
    before: Summary
    after: Summary
    comparison: Comparison
    gate: GateResult
    data_card: dict[str, Any]
    model_dir: Path
    report: Path
    stage_seconds: dict[str, float]


class _Stages:
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


def _trained_dir(train_dir: Path) -> Path | None:
    """The dir a finished training stage left for the ``hf:`` target, if any."""
    for sub, marker in (("model", "config.json"), ("adapter", "adapter_config.json")):
        if (train_dir / sub / marker).is_file() and (train_dir / "data_card.json").is_file():
            return train_dir / sub
    return None


def _model_path(target: str) -> str:
    kind, _, rest = target.partition(":")
    if kind != "hf" or not rest:
        raise SafeforgeError(f"harden trains local models: give --target hf:PATH (got {target!r})")
    return rest


def _build_data(cfg: HardenConfig, split: IntentSplit, progress: Progress | None) -> HardenData:
    generation = Generation(
        max_new_tokens=cfg.rs.max_new_tokens,
        temperature=cfg.rs.temperature,
        top_p=cfg.rs.top_p,
        seed=cfg.seed,
    )
    options = TargetOptions(batch_size=cfg.batch_size, generation=generation)

    async def run_async() -> HardenData:
        target = create_target(cfg.target, options)
        try:
            return await build_rejection_sampling_data_async(target, split, cfg.rs, progress)
        finally:
            await target.aclose()

    return asyncio.run(run_async())


def harden(
    cfg: HardenConfig, *, console: Console | None = None, progress: bool | None = None
) -> HardenResult:
    """Run (or resume) the whole loop and return before/after with the paired comparison."""
    from safeforge.report import write_run_outputs

    model_path = _model_path(cfg.target)
    console = console or Console(stderr=True)
    stages = _Stages(console, 6)
    out = cfg.out
    split, spec, n_eval = _prepare(cfg)

    with stages.stage("before", f"baseline scan: {n_eval} probes from {len(split.eval)} held-out intents"):
        before = _scan(cfg, cfg.target, spec, out / "before", progress)
        write_run_outputs(before)
    card, rows = _data_stage(cfg, split, stages, None if progress is False else _progress_printer(console))
    console.print(
        f"      {card.harmful_prompts} harmful + {card.benign_prompts} benign phrasings"
        f" × {cfg.rs.k} samples; "
        f"templated refusal fallback for {card.fallback_refusals} ({card.fallback_rate:.0%}); "
        f"{card.sft_rows} SFT rows, {card.dpo_pairs} DPO pairs"
    )
    trained = _train_stage(cfg, model_path, rows, stages)

    with stages.stage("after", f"rescan of the hardened model: same {n_eval} probes"):
        after = _scan(cfg, f"hf:{trained}", spec, out / "after", progress)
        write_run_outputs(after)

    with stages.stage("compare", "compare before/after (paired tests) and gate"):
        comparison = compare_runs(before.attempts(), after.attempts(), seed=cfg.seed)
        verdict = gate(comparison.b, min_jrr=cfg.min_jrr, max_frr=cfg.max_frr, comparison=comparison)

    with stages.stage("report", "write the report"):
        report = write_harden_report(out, comparison, verdict, split, card)
        result = HardenResult(
            config=cfg,
            split=split,
            before=comparison.a,
            after=comparison.b,
            comparison=comparison,
            gate=verdict,
            data_card=card.model_dump(mode="json"),
            model_dir=trained,
            report=report,
            stage_seconds=stages.seconds,
        )
        (out / "harden.json").write_text(result.model_dump_json(indent=2), encoding="utf-8")
    return result


CONFIG_FILE = "harden_config.json"


def _prepare(cfg: HardenConfig) -> tuple[IntentSplit, str, int]:
    """Claim ``out``, fix the intent split and write the held-out probes both scans send."""
    cfg.out.mkdir(parents=True, exist_ok=True)
    _claim_dir(cfg)
    split = split_intents(INTENTS, eval_fraction=cfg.eval_fraction, seed=cfg.seed)
    (cfg.out / "split.json").write_text(split.model_dump_json(indent=2), encoding="utf-8")
    eval_probes = split.select(resolve_probes(families=cfg.eval_families, seed=cfg.seed), "eval")
    return split, write_probes(eval_probes, cfg.out / "eval_probes.jsonl"), len(eval_probes)


def _data_stage(
    cfg: HardenConfig, split: IntentSplit, stages: _Stages, progress: Progress | None
) -> tuple[DataCard, list[dict[str, Any]]]:
    """Build (or reload) the rejection-sampling data; the rows the chosen trainer needs."""
    data_dir = cfg.out / "data"
    done = (data_dir / "data_card.json").is_file()
    with stages.stage("data", "rejection sampling on the train intents", skip=done):
        if done:
            data = HardenData.load(data_dir)
        else:
            data = _build_data(cfg, split, progress)
            data.save(data_dir)
    return data.card, data.sft if cfg.trainer == "sft" else data.dpo


def _train_stage(cfg: HardenConfig, model_path: str, rows: list[dict[str, Any]], stages: _Stages) -> Path:
    """Fine-tune with TRL (or find the finished output); the dir the rescan loads."""
    train_dir = cfg.out / "train"
    trained = _trained_dir(train_dir)
    detail = f"{cfg.trainer.upper()} with TRL ({'LoRA' if cfg.train.lora else 'full'})"
    with stages.stage("train", detail, skip=trained is not None):
        if trained is None:
            fn = train_sft if cfg.trainer == "sft" else train_dpo
            trained = fn(
                model_path, rows, train_dir, cfg.train, source="safeforge harden: rejection-sampling"
            )
    return trained


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
