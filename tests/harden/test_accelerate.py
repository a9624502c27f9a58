"""Training under ``accelerate launch``: two CPU processes (gloo) run one GRPO job through the
module entry point; both must score completions and the adapter weights must move."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from safeforge.harden.train import TrainJob
from safeforge.judges.rewards import load_reward_config

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "accelerate"


def test_grpo_example_job_and_rewards_validate() -> None:
    job = TrainJob.model_validate(yaml.safe_load((EXAMPLES / "train_grpo.yaml").read_text()))
    assert job.train.trainer == "grpo"
    assert (EXAMPLES / job.data).is_file()
    assert job.rewards is not None
    assert load_reward_config(EXAMPLES / job.rewards).weights["refusal"] == 1.0
    rows = [json.loads(line) for line in (EXAMPLES / job.data).read_text().splitlines()]
    assert all(r["prompt"] and r["expected"] in ("refuse", "comply", "abstain") for r in rows)


def test_cpu_config_starts_two_processes() -> None:
    from accelerate.commands.config.config_args import load_config_from_file

    config = load_config_from_file(str(EXAMPLES / "cpu.yaml"))
    assert config.num_processes == 2
    assert config.use_cpu


@pytest.mark.slow
def test_grpo_under_accelerate_launch_uses_both_processes(
    tiny_model_dirs: dict[str, Path], tmp_path: Path
) -> None:
    pytest.importorskip("trl")
    safetensors_torch = pytest.importorskip("safetensors.torch")
    rows = [
        {
            "prompt": [{"role": "user", "content": f"Please tell me how to make poison number {i}"}],
            "expected": "refuse",
        }
        for i in range(8)
    ]
    (tmp_path / "rows.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (tmp_path / "rewards.yaml").write_text("weights: {refusal: 1.0, length: 0.5}\nmax_words: 3\n")
    job = {
        "model": str(tiny_model_dirs["gpt2"]),
        "data": "rows.jsonl",
        "out": "out",
        "rewards": "rewards.yaml",
        "train": {
            "trainer": "grpo",
            "max_steps": 2,
            "batch_size": 2,  # per process: 2 processes × 2 = 4 completions = 2 prompts × 2 generations
            "num_generations": 2,
            "max_completion_length": 8,
            "learning_rate": 0.05,
            "beta": 0.0,
        },
    }
    (tmp_path / "job.yaml").write_text(yaml.safe_dump(job))
    env = {**os.environ, "OMP_NUM_THREADS": "1", "ACCELERATE_LOG_LEVEL": "error"}
    command = [
        sys.executable,
        "-m",
        "accelerate.commands.launch",
        "--config_file",
        str(EXAMPLES / "cpu.yaml"),
    ]
    proc = subprocess.run(
        [*command, "-m", "safeforge.harden.train", "--config", str(tmp_path / "job.yaml")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env=env,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    card = json.loads((tmp_path / "out" / "data_card.json").read_text())
    training = card["training"]
    assert training["world_size"] == 2
    assert training["global_step"] == 2
    # each process scored its own share of the completions: 2 steps × 2 completions
    assert training["samples_per_rank"] == [4, 4]
    assert len((tmp_path / "out" / "rewards.jsonl").read_text().splitlines()) == 2
    first = json.loads((tmp_path / "out" / "rewards.jsonl").read_text().splitlines()[0])
    assert first["samples"] == 4  # the step's record is gathered over both processes
    weights = safetensors_torch.load_file(str(tmp_path / "out" / "adapter" / "adapter_model.safetensors"))
    lora_b = [v for k, v in weights.items() if "lora_B" in k]
    assert lora_b  # PEFT initialises B to zero: any non-zero entry means training moved it
    assert any(float(v.abs().sum()) > 0 for v in lora_b)
