"""The harden pipeline end to end on a tiny random model: every stage runs, outputs land where
documented, the held-out probes are disjoint from the training data, and a rerun resumes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from safeforge.errors import SafeforgeError
from safeforge.harden import HardenConfig, PoolConfig, TrainConfig, harden, load_result
from safeforge.probes import load_dataset
from safeforge.targets import Generation

pytest.importorskip("trl")


def _config(model: Path, out: Path, trainer: str) -> HardenConfig:
    return HardenConfig.model_validate(
        {
            "target": f"hf:{model}",
            "out": out,
            "trainer": trainer,
            "eval_families": ("politeness", "benign_contrast"),
            "judges": ("rules", "tone"),
            "generation": Generation(max_new_tokens=8),
            "batch_size": 64,
            "options": {"k": 2, "max_new_tokens": 8} | ({"sft_weight": 0.5} if trainer == "dpo" else {}),
            "pool": PoolConfig(families=("politeness",), benign_framings=(), phrasings_per_intent=2),
            "train": TrainConfig(max_steps=2, batch_size=4, max_length=128, logging_steps=1),
        }
    )


@pytest.mark.slow
@pytest.mark.parametrize(("arch", "trainer"), [("gpt2", "dpo"), ("gpt2", "sft"), ("qwen2", "sft")])
def test_harden_runs_every_stage_and_resumes(
    arch: str, trainer: str, tiny_model_dirs: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "h"
    cfg = _config(tiny_model_dirs[arch], out, trainer)
    result = harden(cfg, progress=False)

    for name in ("split.json", "eval_probes.jsonl", "report.html", "harden.json", "technique.json"):
        assert (out / name).is_file(), name
    for run in ("before", "after"):
        assert (out / run / "run.sqlite").is_file()
        assert (out / run / "summary.json").is_file()
    assert (result.model_dir / "adapter_config.json").is_file()  # LoRA by default
    assert result.model_dir.parent == out / "train"

    # the scans only saw held-out intents, the training data only train intents
    eval_probes = load_dataset(f"probes:{out / 'eval_probes.jsonl'}")
    assert {p.intent_id for p in eval_probes} <= set(result.split.eval)
    rows = [json.loads(line) for line in (out / "train" / "data.jsonl").read_text().splitlines()]
    assert rows
    assert not {r["intent_id"] for r in rows} & set(result.split.eval)
    assert result.before.n_attempts == result.after.n_attempts == len(eval_probes)
    assert result.comparison.shared_probes == len(eval_probes)
    report = (out / "report.html").read_text()
    assert "Evaluation intents are disjoint from training intents" in report
    if trainer == "dpo":  # rejection sampling's sft_weight option reaches TRL (the RPO term)
        card = json.loads((out / "train" / "data_card.json").read_text())
        assert card["config"]["sft_weight"] == 0.5

    # a second call skips data building and training and gives the same numbers
    again = harden(cfg, progress=False)
    assert again.stage_seconds["technique"] == 0.0
    assert again.after == result.after
    assert load_result(out).after == result.after

    # the same directory with other settings is refused, not silently reused
    with pytest.raises(SafeforgeError, match="different settings"):
        harden(cfg.model_copy(update={"seed": 1}), progress=False)


def test_harden_needs_a_local_model(tmp_path: Path) -> None:
    with pytest.raises(SafeforgeError, match="hf:PATH"):
        harden(HardenConfig(target="openai:gpt-x", out=tmp_path / "h"))
