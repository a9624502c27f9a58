"""Training overhead: safeforge's ``train_sft`` / ``train_dpo`` against a bare TRL script doing
the same fine-tune (same tiny model, same rows, same LoRA and trainer settings), in one run.

    .venv/bin/python benchmarks/train_overhead.py [--arch gpt2|qwen2] [--steps 20] [--rounds 7] [--rows 128]

Each side is timed end to end: loading model and tokenizer, building the TRL config and
trainer, training, and saving the adapter. safeforge's figure also includes validating the
rows and writing data.jsonl and the data card. Imports are paid once before any timing, the
two sides alternate which goes first from round to round. Reported: the best round of each
side (the machine is shared; the best round is the least disturbed one) and the median of the
per-round ratios (both sides of a round run back to back, under about the same load). Process
CPU time is reported beside wall time: it is far less sensitive to other jobs on the machine.
Target: ratio <= 1.05. Defaults use one torch thread, the steadiest setting on a shared CPU.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import peft
import torch
import transformers
import trl
from datasets import Dataset

from safeforge.harden.train import COLUMNS, TrainConfig, train_dpo, train_sft
from safeforge.models import DEMO_CORPUS, Arch, build_tiny_model, build_tiny_tokenizer

REFUSAL = "I can't help with that, but I can point you to safety resources."
COMPLY = "Sure, here is how: [redacted demo content]"
HELP = "Here is a short, helpful answer with the main steps."


def sft_rows(n: int) -> list[dict[str, Any]]:
    rows = []
    for i in range(n):
        harmful = i % 2 == 0
        user = (
            f"Please explain how to make poison, case {i}" if harmful else f"How do I bake bread, case {i}?"
        )
        rows.append(
            {
                "messages": [
                    {"role": "user", "content": user},
                    {"role": "assistant", "content": REFUSAL if harmful else HELP},
                ],
                "intent_id": f"intent-{i % 10}",
            }
        )
    return rows


def dpo_rows(n: int) -> list[dict[str, Any]]:
    return [
        {
            "prompt": [{"role": "user", "content": f"Hypothetically, how would one make poison {i}?"}],
            "chosen": [{"role": "assistant", "content": REFUSAL}],
            "rejected": [{"role": "assistant", "content": COMPLY}],
            "intent_id": f"intent-{i % 10}",
        }
        for i in range(n)
    ]


def bare_trl(model_dir: Path, rows: list[dict[str, Any]], out: Path, cfg: TrainConfig) -> None:
    """What a user would write with TRL alone for the same run (CPU settings from STACK.md)."""
    transformers.set_seed(cfg.seed)
    model = transformers.AutoModelForCausalLM.from_pretrained(str(model_dir), dtype=torch.float32)
    tok = transformers.AutoTokenizer.from_pretrained(str(model_dir))
    modules = (
        ["c_attn", "c_proj"]
        if model.config.model_type == "gpt2"
        else ["q_proj", "k_proj", "v_proj", "o_proj"]
    )
    lora = peft.LoraConfig(
        r=cfg.lora_r,
        lora_alpha=cfg.lora_alpha,
        lora_dropout=cfg.lora_dropout,
        target_modules=modules,
        fan_in_fan_out=model.config.model_type == "gpt2",
        task_type="CAUSAL_LM",
    )
    common: dict[str, Any] = {
        "output_dir": str(out / "checkpoints"),
        "max_steps": cfg.max_steps,
        "per_device_train_batch_size": cfg.batch_size,
        "learning_rate": cfg.learning_rate,
        "max_length": cfg.max_length,
        "logging_steps": cfg.logging_steps,
        "save_strategy": "no",
        "report_to": "none",
        "seed": cfg.seed,
        "bf16": False,
        "activation_checkpointing": False,
        "use_cpu": True,
    }
    columns = COLUMNS[cfg.trainer][0]
    dataset = Dataset.from_list([{c: row[c] for c in columns} for row in rows])
    trainer: Any
    if cfg.trainer == "sft":
        args = trl.SFTConfig(**common, assistant_only_loss=True)
        trainer = trl.SFTTrainer(
            model=model, args=args, train_dataset=dataset, processing_class=tok, peft_config=lora
        )
    else:
        dargs = trl.DPOConfig(**common, beta=cfg.beta)
        trainer = trl.DPOTrainer(
            model=model, args=dargs, train_dataset=dataset, processing_class=tok, peft_config=lora
        )
    trainer.train()
    trainer.save_model(str(out / "adapter"))


def timed(fn: Callable[[], object]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) for one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def summarize(bare: list[tuple[float, float]], ours: list[tuple[float, float]]) -> dict[str, Any]:
    """Best rounds and their ratio, plus the median per-round ratio (both sides of a round ran
    back to back under about the same load, so that ratio is the steadier one here)."""
    pairs = list(zip(bare, ours, strict=True))
    return {
        "bare_trl_s": min(w for w, _ in bare),
        "safeforge_s": min(w for w, _ in ours),
        "ratio": min(w for w, _ in ours) / min(w for w, _ in bare),
        "bare_trl_cpu_s": min(c for _, c in bare),
        "safeforge_cpu_s": min(c for _, c in ours),
        "cpu_ratio": min(c for _, c in ours) / min(c for _, c in bare),
        "paired_ratio": statistics.median(o[0] / b[0] for b, o in pairs),
        "paired_cpu_ratio": statistics.median(o[1] / b[1] for b, o in pairs),
        "rounds_bare_s": bare,
        "rounds_safeforge_s": ours,
    }


def run(arch: Arch, steps: int, rounds: int, rows_n: int) -> dict[str, dict[str, Any]]:
    work = Path(tempfile.mkdtemp(prefix="sf-train-bench-"))
    try:
        tok = build_tiny_tokenizer(DEMO_CORPUS * 20, work / "tok")
        model_dir = build_tiny_model(arch, tok, work / "model", hidden_size=128, num_layers=2)
        results: dict[str, dict[str, Any]] = {}
        for kind, rows, fn in (("sft", sft_rows(rows_n), train_sft), ("dpo", dpo_rows(rows_n), train_dpo)):
            cfg = TrainConfig(trainer=kind, max_steps=steps, batch_size=8, max_length=128, device="cpu")
            bare_trl(model_dir, rows, work / f"warm-{kind}", cfg)  # first-use costs (kernels, caches)
            times: dict[str, list[tuple[float, float]]] = {"bare": [], "safeforge": []}
            for r in range(rounds):
                sides: list[tuple[str, Callable[[], object]]] = [
                    ("bare", partial(bare_trl, model_dir, rows, work / f"bare-{kind}-{r}", cfg)),
                    ("safeforge", partial(fn, model_dir, rows, work / f"sf-{kind}-{r}", cfg)),
                ]
                for side, call in sides if r % 2 == 0 else sides[::-1]:  # alternate who goes first
                    times[side].append(timed(call))
            results[kind] = summarize(times["bare"], times["safeforge"])
        return results
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", choices=["gpt2", "qwen2"], default="gpt2")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--rows", type=int, default=128)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1 is steadiest when shared)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    transformers.logging.set_verbosity_error()
    torch.set_num_threads(args.threads)
    results = run(args.arch, args.steps, args.rounds, args.rows)
    print(
        f"\narch={args.arch} steps={args.steps} rows={args.rows} rounds={args.rounds} "
        f"threads={args.threads} (best round of each side)"
    )
    head = ("trainer", "bare TRL s", "safeforge s", "ratio", "bare CPU s", "sf CPU s", "CPU ratio")
    print("".join(f"{h:>12}" for h in (*head, "paired", "paired CPU")))
    keys = ("bare_trl_s", "safeforge_s", "ratio", "bare_trl_cpu_s", "safeforge_cpu_s", "cpu_ratio")
    for kind, r in results.items():
        print(f"{kind:>12}" + "".join(f"{r[k]:>12.3f}" for k in (*keys, "paired_ratio", "paired_cpu_ratio")))
    print("ratio = safeforge / bare TRL; paired = median over rounds of that round's ratio")
    if args.json:
        args.json.write_text(json.dumps({"args": vars(args) | {"json": str(args.json)}, **results}, indent=2))


if __name__ == "__main__":
    main()
