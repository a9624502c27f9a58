"""Safety fine-tuning through TRL: SFT, DPO and reward models (GRPO in ``safeforge.harden.rl``),
with LoRA by default.

safeforge builds the data; TRL trains. ``train_sft`` / ``train_dpo`` / ``train_reward`` turn a
:class:`TrainConfig` into TRL's own ``SFTConfig`` / ``DPOConfig`` / ``RewardConfig`` and run TRL's
trainer unchanged, then save what a later rescan and an auditor need in ``out_dir``::

    adapter/          LoRA adapter + tokenizer (``hf:out_dir/adapter`` loads base + adapter)
    model/            the merged (or fully fine-tuned) model, when ``merge`` is set or LoRA is off
                      (always for a reward model: the ``reward_model`` judge loads it from here)
    data.jsonl        the exact training rows, extra columns (intent ids, sources) included
    data_card.json    source, counts, intents, the config and the versions that trained it
    data_card.md      the same, for people

Defaults depend on the device: on CPU fp32, no activation checkpointing and ``use_cpu`` (TRL's
own defaults assume a bf16 GPU and fail or crawl on CPU); with CUDA, bf16 and activation
checkpointing.

**Multi-GPU / multi-node.** The same entry point runs under ``accelerate launch``; each process
trains its shard and only the main process writes files::

    accelerate launch --config_file examples/accelerate/ddp.yaml \\
        -m safeforge.harden.train --config examples/accelerate/train_sft.yaml

A job with ``train.trainer: grpo`` (and ``rewards: FILE``) runs ``safeforge.harden.rl``'s GRPO
the same way. ``examples/accelerate/`` also holds a 2-process CPU config (gloo, for a dry run
without GPUs), FSDP and DeepSpeed ZeRO-2 configs (set ``num_machines``,
``machine_rank`` and ``main_process_ip`` for several nodes). Under FSDP, leave ``merge`` off and
merge the saved adapter afterwards: the sharded model is not whole on any one process.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from safeforge.errors import SafeforgeError, require
from safeforge.logs import quiet_trainer

log = logging.getLogger(__name__)

TrainerKind = Literal["sft", "dpo", "reward", "grpo"]
Device = Literal["auto", "cpu", "cuda"]

LORA_TARGETS: dict[str, tuple[list[str], bool]] = {
    "gpt2": (["c_attn", "c_proj"], True),  # Conv1D layers store weights transposed
    "llama": (["q_proj", "k_proj", "v_proj", "o_proj"], False),
    "qwen2": (["q_proj", "k_proj", "v_proj", "o_proj"], False),
    "qwen3": (["q_proj", "k_proj", "v_proj", "o_proj"], False),
    "mistral": (["q_proj", "k_proj", "v_proj", "o_proj"], False),
    "gemma": (["q_proj", "k_proj", "v_proj", "o_proj"], False),
}
"""Attention projections per architecture; other architectures get PEFT's ``all-linear``."""

COLUMNS: dict[str, tuple[tuple[str, ...], ...]] = {
    "sft": (("messages",), ("prompt", "completion")),
    "dpo": (("prompt", "chosen", "rejected"),),
    "reward": (("prompt", "chosen", "rejected"), ("chosen", "rejected")),
    "grpo": (("prompt",),),
}
"""The TRL dataset formats each trainer accepts; other columns are kept in data.jsonl only."""

_GENERATION_MARKER = re.compile(r"{%-?\s*generation\s*-?%}")


class TrainConfig(BaseModel):
    """Everything that shapes a fine-tuning run; every field is also a YAML key of ``--config``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    trainer: TrainerKind = "sft"
    lora: bool = Field(default=True, description="Train a LoRA adapter instead of all weights.")
    lora_r: int = Field(default=8, ge=1)
    lora_alpha: int = Field(default=16, ge=1)
    lora_dropout: float = Field(default=0.0, ge=0.0, lt=1.0)
    lora_target_modules: list[str] | None = Field(
        default=None, description="None: chosen from the model's architecture."
    )
    learning_rate: float = Field(default=5e-4, gt=0)
    epochs: float = Field(default=1.0, gt=0)
    max_steps: int = Field(default=-1, description="> 0 overrides epochs.")
    batch_size: int = Field(default=8, ge=1, description="Per device.")
    gradient_accumulation_steps: int = Field(default=1, ge=1)
    max_length: int = Field(default=256, ge=8, description="Tokens per example (prompt + answer).")
    beta: float = Field(
        default=0.1, ge=0, description="DPO / GRPO: strength of the pull to the reference (GRPO: KL weight)."
    )
    sft_weight: float = Field(
        default=0.0,
        ge=0,
        description="DPO: weight of an NLL term on the chosen answers (RPO), which keeps them likely "
        "instead of letting both sides fall; 0: plain DPO.",
    )
    num_generations: int = Field(default=4, ge=2, description="GRPO: completions sampled per prompt.")
    max_completion_length: int = Field(default=64, ge=1, description="GRPO: tokens per completion.")
    temperature: float = Field(default=1.0, gt=0, description="GRPO: sampling temperature.")
    use_vllm: bool = Field(default=False, description="GRPO: generate with vLLM (CUDA; pip install vllm).")
    vllm_mode: Literal["colocate", "server"] = Field(
        default="colocate",
        description="GRPO + vLLM: in the training processes, or a `trl vllm-serve` server.",
    )
    vllm_server_base_url: str | None = Field(default=None, description="GRPO + vLLM server mode.")
    scale_rewards: Literal["group", "batch", "none"] = Field(
        default="batch",
        description="GRPO: divide advantages by the std of the batch (default), of each prompt's "
        "group (TRL's default), or not at all. Per-group scaling blows a dense term's noise up to "
        "full-size advantages in groups where the other terms agree (Dr. GRPO, Liu et al. 2025).",
    )
    merge: bool = Field(default=False, description="Also save the adapter merged into the base model.")
    seed: int = 0
    device: Device = "auto"
    bf16: bool | None = Field(default=None, description="None: on when training on a CUDA GPU.")
    gradient_checkpointing: bool | None = Field(default=None, description="None: on with CUDA.")
    logging_steps: int = Field(default=10, ge=1)

    @model_validator(mode="after")
    def _dpo_needs_beta(self) -> TrainConfig:
        if self.trainer == "dpo" and self.beta == 0:
            raise ValueError("DPO needs beta > 0 (it scales the preference margin)")
        return self


def _cuda(cfg: TrainConfig) -> bool:
    torch = require("torch", "train")
    if cfg.device == "cuda" and not torch.cuda.is_available():
        raise SafeforgeError("device 'cuda' requested but torch sees no CUDA GPU")
    return cfg.device != "cpu" and bool(torch.cuda.is_available())


def _bf16(cfg: TrainConfig) -> bool:
    if cfg.bf16 is not None:
        return cfg.bf16
    return _cuda(cfg) and bool(require("torch", "train").cuda.is_bf16_supported())


def _trl_args(cfg: TrainConfig, out_dir: Path) -> dict[str, Any]:
    """The arguments SFTConfig and DPOConfig share, with device-aware precision defaults."""
    cuda = _cuda(cfg)
    bf16 = _bf16(cfg)
    checkpointing = cfg.gradient_checkpointing if cfg.gradient_checkpointing is not None else cuda
    return {
        "output_dir": str(out_dir / "checkpoints"),
        "num_train_epochs": cfg.epochs,
        "max_steps": cfg.max_steps,
        "per_device_train_batch_size": cfg.batch_size,
        "gradient_accumulation_steps": cfg.gradient_accumulation_steps,
        "learning_rate": cfg.learning_rate,
        "max_length": cfg.max_length,
        "logging_steps": cfg.logging_steps,
        "save_strategy": "no",
        "report_to": "none",
        "seed": cfg.seed,
        "bf16": bf16,
        "activation_checkpointing": checkpointing,
        "use_cpu": not cuda,
    }


def lora_config(cfg: TrainConfig, model_type: str) -> Any:
    """PEFT LoRA settings for ``model_type`` (GPT-2's Conv1D needs ``fan_in_fan_out``)."""
    peft = require("peft", "train")
    modules, fan_in_fan_out = LORA_TARGETS.get(model_type, (None, False))
    targets: list[str] | str = cfg.lora_target_modules or modules or "all-linear"
    return peft.LoraConfig(
        r=cfg.lora_r,
        lora_alpha=cfg.lora_alpha,
        lora_dropout=cfg.lora_dropout,
        target_modules=targets,
        fan_in_fan_out=fan_in_fan_out,
        task_type="SEQ_CLS" if cfg.trainer == "reward" else "CAUSAL_LM",  # SEQ_CLS also trains the head
    )


def _check_rows(rows: Sequence[Mapping[str, Any]], kind: TrainerKind) -> tuple[str, ...]:
    """The TRL columns ``rows`` use; a SafeforgeError naming the formats when they fit none."""
    if not rows:
        raise SafeforgeError(f"no training rows for {kind}")
    for columns in COLUMNS[kind]:
        if all(all(row.get(c) for c in columns) for row in rows):
            return columns
    formats = " or ".join("/".join(c) for c in COLUMNS[kind])
    raise SafeforgeError(f"{kind} rows need non-empty {formats} in every row")


def _load(model_path: str | Path, cfg: TrainConfig) -> tuple[Any, Any]:
    """(model, tokenizer); a local dir is resolved so the adapter records an absolute base path."""
    transformers = require("transformers", "train")
    torch = require("torch", "train")
    source = str(Path(model_path).resolve()) if Path(model_path).exists() else str(model_path)
    half = cfg.lora and _cuda(cfg) and _bf16(cfg)  # frozen base weights may stay bf16
    reward = cfg.trainer == "reward"  # one scalar head on the causal LM's body
    auto = transformers.AutoModelForSequenceClassification if reward else transformers.AutoModelForCausalLM
    try:
        model = auto.from_pretrained(
            source,
            use_safetensors=True,
            dtype=torch.bfloat16 if half else torch.float32,
            **({"num_labels": 1} if reward else {}),
        )
        tok = transformers.AutoTokenizer.from_pretrained(source)
    except (OSError, ValueError) as exc:
        raise SafeforgeError(f"could not load model {source!r} for training: {exc}") from exc
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    if reward:  # the classifier finds each row's last token by the pad id
        model.config.pad_token_id = tok.pad_token_id
    return model, tok


def _records(rows: Sequence[Mapping[str, Any]], columns: tuple[str, ...], tok: Any) -> list[dict[str, Any]]:
    """The TRL columns of ``rows``. Chats whose template lacks ``{% generation %}`` markers (most
    hub templates) become conversational prompt/completion rows, so TRL's completion-only loss
    still trains on the final assistant turn alone."""
    records = [{c: row[c] for c in columns} for row in rows]
    if columns != ("messages",) or _has_generation_markers(tok):
        return records
    if any(r["messages"][-1].get("role") != "assistant" for r in records):
        raise SafeforgeError("conversational SFT rows must end with an assistant turn")
    log.info("chat template has no generation markers: training on the last assistant turn of each chat")
    return [{"prompt": r["messages"][:-1], "completion": r["messages"][-1:]} for r in records]


def _has_generation_markers(tok: Any) -> bool:
    """Whether TRL's ``assistant_only_loss`` can work with this tokenizer's chat template."""
    return bool(tok.chat_template and _GENERATION_MARKER.search(tok.chat_template))


def build_trainer(
    model_path: str | Path, rows: Sequence[Mapping[str, Any]], out_dir: Path, cfg: TrainConfig
) -> Any:
    """TRL's SFTTrainer, DPOTrainer or RewardTrainer for ``cfg.trainer``, configured but not yet trained."""
    if cfg.trainer == "grpo":
        raise SafeforgeError("GRPO needs reward functions: use safeforge.harden.rl.train_grpo")
    trl = require("trl", "train")
    transformers = require("transformers", "train")
    columns = _check_rows(rows, cfg.trainer)
    transformers.set_seed(cfg.seed)
    model, tok = _load(model_path, cfg)
    peft_config = lora_config(cfg, model.config.model_type) if cfg.lora else None
    args = _trl_args(cfg, out_dir)
    records = _records(rows, columns, tok)
    dataset = require("datasets", "train").Dataset.from_list(records)
    if cfg.trainer == "sft":
        sft_args = trl.SFTConfig(**args, assistant_only_loss="messages" in records[0])
        return trl.SFTTrainer(
            model=model, args=sft_args, train_dataset=dataset, processing_class=tok, peft_config=peft_config
        )
    if cfg.trainer == "reward":
        return trl.RewardTrainer(
            model=model,
            args=trl.RewardConfig(**args),
            train_dataset=dataset,
            processing_class=tok,
            peft_config=peft_config,
        )
    mixed = {"loss_type": ["sigmoid", "sft"], "loss_weights": [1.0, cfg.sft_weight]} if cfg.sft_weight else {}
    dpo_args = trl.DPOConfig(**args, beta=cfg.beta, **mixed)
    return trl.DPOTrainer(
        model=model, args=dpo_args, train_dataset=dataset, processing_class=tok, peft_config=peft_config
    )


def train(
    model_path: str | Path,
    rows: Sequence[Mapping[str, Any]],
    out_dir: Path,
    cfg: TrainConfig,
    *,
    source: str = "",
) -> Path:
    """Fine-tune with ``cfg.trainer``; returns the dir the ``hf:`` target should load.

    That is ``out_dir/model`` when a merged or full model was saved (always for a reward
    model), else ``out_dir/adapter``.
    """
    out_dir = Path(out_dir)
    started = time.perf_counter()
    trainer = quiet_trainer(build_trainer(model_path, rows, out_dir, cfg), out_dir / "train.log")
    result = trainer.train()
    return save_trained(
        trainer, result, out_dir, rows, cfg, model_path=model_path, source=source, started=started
    )


def save_trained(
    trainer: Any,
    result: Any,
    out_dir: Path,
    rows: Sequence[Mapping[str, Any]],
    cfg: TrainConfig,
    *,
    model_path: str | Path,
    source: str,
    started: float,
    stats: Mapping[str, Any] | None = None,
) -> Path:
    """Save what a finished TRL trainer trained (adapter, merged model, data card; files from the
    main process only) and return the dir the ``hf:`` target should load. ``stats`` adds
    trainer-specific figures to the card's ``training`` section."""
    main = trainer.is_world_process_zero()
    adapter_dir, model_dir = out_dir / "adapter", out_dir / "model"
    trainer.save_model(str(adapter_dir if cfg.lora else model_dir))
    if main:  # a pickle of the arguments; data_card.json records the config without one
        (adapter_dir if cfg.lora else model_dir).joinpath("training_args.bin").unlink(missing_ok=True)
    merge = cfg.merge or cfg.trainer == "reward"
    if main and cfg.lora and merge:
        merged = trainer.model.merge_and_unload()
        merged.save_pretrained(str(model_dir), safe_serialization=True)
        trainer.processing_class.save_pretrained(str(model_dir))
    if main:
        figures = {
            "global_step": result.global_step,
            "train_loss": result.training_loss,
            "world_size": trainer.args.world_size,
            "wall_s": round(time.perf_counter() - started, 3),
            **(stats or {}),
        }
        write_data_card(out_dir, rows, cfg, model_path=str(model_path), source=source, stats=figures)
    return model_dir if (merge or not cfg.lora) else adapter_dir


def train_sft(
    model_path: str | Path,
    rows: Sequence[Mapping[str, Any]],
    out_dir: Path,
    cfg: TrainConfig | None = None,
    *,
    source: str = "",
) -> Path:
    """Supervised fine-tuning on TRL ``messages`` rows (assistant-only loss) or prompt/completion."""
    cfg = (cfg or TrainConfig()).model_copy(update={"trainer": "sft"})
    return train(model_path, rows, out_dir, cfg, source=source)


def train_dpo(
    model_path: str | Path,
    rows: Sequence[Mapping[str, Any]],
    out_dir: Path,
    cfg: TrainConfig | None = None,
    *,
    source: str = "",
) -> Path:
    """DPO on prompt/chosen/rejected rows (strings or conversational message lists).

    With LoRA the reference model is the base with the adapter switched off, so no second copy
    of the weights is held.
    """
    cfg = (cfg or TrainConfig()).model_copy(update={"trainer": "dpo"})
    return train(model_path, rows, out_dir, cfg, source=source)


def train_reward(
    model_path: str | Path,
    rows: Sequence[Mapping[str, Any]],
    out_dir: Path,
    cfg: TrainConfig | None = None,
    *,
    source: str = "",
) -> Path:
    """A preference (reward) model from chosen/rejected rows (with or without a prompt) through
    TRL's RewardTrainer: the causal LM's body with one scalar head, trained so chosen outscores
    rejected. Saved merged in ``out_dir/model``, where ``create_judge("reward_model", model=...)``
    loads it -- a judge, and through ``as_reward`` a TRL reward, for the other techniques."""
    cfg = (cfg or TrainConfig()).model_copy(update={"trainer": "reward"})
    return train(model_path, rows, out_dir, cfg, source=source)


def _versions() -> dict[str, str]:
    from importlib.metadata import version

    return {name: version(name) for name in ("trl", "transformers", "peft", "torch")}


def write_data_card(
    out_dir: Path,
    rows: Sequence[Mapping[str, Any]],
    cfg: TrainConfig,
    *,
    model_path: str,
    source: str,
    stats: Mapping[str, Any],
) -> dict[str, Any]:
    """Write data.jsonl, data_card.json and data_card.md; returns the card."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with (out_dir / "data.jsonl").open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    card = {
        "source": source or "unspecified",
        "base_model": model_path,
        "trainer": cfg.trainer,
        "format": "/".join(_check_rows(rows, cfg.trainer)),
        "rows": len(rows),
        "intents": _counts(rows, "intent_id"),
        "categories": _counts(rows, "category"),
        "kinds": _counts(rows, "kind"),
        "config": cfg.model_dump(),
        "training": dict(stats),
        "versions": _versions(),
    }
    (out_dir / "data_card.json").write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    (out_dir / "data_card.md").write_text(_card_markdown(card), encoding="utf-8")
    return card


def _counts(rows: Sequence[Mapping[str, Any]], column: str) -> dict[str, int]:
    """Rows per value of an optional metadata column (empty when the rows do not carry it)."""
    return dict(sorted(Counter(str(r[column]) for r in rows if r.get(column)).items()))


def _card_markdown(card: Mapping[str, Any]) -> str:
    intents = ", ".join(f"`{k}` ({v})" for k, v in card["intents"].items()) or "not recorded"
    return (
        f"# Data card: safeforge {card['trainer'].upper()} run\n\n"
        f"- **Source:** {card['source']}\n- **Base model:** `{card['base_model']}`\n"
        f"- **Format:** TRL `{card['format']}`, {card['rows']} rows (in `data.jsonl`)\n"
        f"- **Intents used ({len(card['intents'])}):** {intents}\n"
        f"- **Rows by kind:** {card['kinds'] or 'not recorded'}\n"
        f"- **Rows by category:** {card['categories'] or 'not recorded'}\n"
        f"- **Training:** {card['training']}\n- **Versions:** {card['versions']}\n\n"
        f"## Config\n\n```json\n{json.dumps(card['config'], indent=2)}\n```\n"
    )


class TrainJob(BaseModel):
    """A ``--config`` YAML for ``python -m safeforge.harden.train`` (and ``accelerate launch``)."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(description="Model dir or hub id to fine-tune.")
    data: Path = Field(description="JSONL rows in a TRL format for the chosen trainer.")
    out: Path
    source: str = ""
    train: TrainConfig = TrainConfig()
    rewards: Path | None = Field(default=None, description="GRPO: reward config YAML (default weights).")


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point: ``python -m safeforge.harden.train --config job.yaml``."""
    import yaml

    parser = argparse.ArgumentParser(prog="python -m safeforge.harden.train", description=__doc__)
    parser.add_argument("--config", type=Path, required=True, help="YAML with model, data, out, train")
    args = parser.parse_args(argv)
    job = TrainJob.model_validate(yaml.safe_load(args.config.read_text(encoding="utf-8")))
    base = args.config.parent
    data = job.data if job.data.is_absolute() else base / job.data
    rows = [json.loads(line) for line in data.read_text(encoding="utf-8").splitlines() if line.strip()]
    model = (
        job.model if Path(job.model).is_absolute() or not (base / job.model).exists() else base / job.model
    )
    out = job.out if job.out.is_absolute() else base / job.out
    source = job.source or str(data)
    try:
        if job.train.trainer == "grpo":
            from safeforge.harden.rl import train_grpo_job

            rewards = job.rewards if job.rewards is None or job.rewards.is_absolute() else base / job.rewards
            print(train_grpo_job(model, rows, out, job.train, rewards=rewards, source=source))
        else:
            print(train(model, rows, out, job.train, source=source))
    finally:
        _end_process_group()
    return 0


def _end_process_group() -> None:
    """Destroy the ``accelerate launch`` process group before the interpreter exits. Left to
    teardown, a gloo worker thread was once destroyed while still joinable and a rank aborted
    after training had finished ("terminate called without an active exception", exit -6; one
    fresh-clone CI run of tests/harden/test_accelerate.py)."""
    import sys

    dist = sys.modules.get("torch.distributed")
    if dist is not None and dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


if __name__ == "__main__":
    raise SystemExit(main())
