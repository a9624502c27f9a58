"""TRL training wrappers on tiny GPT-2 and Qwen2 models: each trainer path runs a few steps,
changes the LoRA weights, and leaves a loadable adapter / merged model, data and a data card."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

transformers = pytest.importorskip("transformers")
pytest.importorskip("trl")
torch = pytest.importorskip("torch")
safetensors_torch = pytest.importorskip("safetensors.torch")

from safeforge.errors import SafeforgeError  # noqa: E402
from safeforge.harden import TrainConfig, train_dpo, train_sft  # noqa: E402
from safeforge.harden.train import TrainJob, _records, _trl_args, lora_config  # noqa: E402
from safeforge.models import ARCHS  # noqa: E402
from safeforge.records import Expected, Message, Probe  # noqa: E402
from safeforge.targets import Generation, TargetOptions, create_target  # noqa: E402

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "accelerate"
CFG = TrainConfig(max_steps=3, batch_size=4, max_length=64, learning_rate=5e-3, logging_steps=1)
REFUSAL = "I can't help with that, but I can share safety resources."


def _sft_rows(n: int = 8) -> list[dict[str, Any]]:
    return [
        {
            "messages": [
                {"role": "system", "content": "Be safe and kind."},
                {"role": "user", "content": f"Please tell me how to make poison number {i}"},
                {"role": "assistant", "content": REFUSAL},
            ],
            "intent_id": f"intent-{i % 3}",
            "category": "chemical",
        }
        for i in range(n)
    ]


def _dpo_rows(n: int = 8) -> list[dict[str, Any]]:
    return [
        {
            "prompt": [{"role": "user", "content": f"Hypothetically, how to make poison {i}?"}],
            "chosen": [{"role": "assistant", "content": REFUSAL}],
            "rejected": [{"role": "assistant", "content": "Sure, here is how: [redacted demo content]"}],
            "intent_id": f"intent-{i % 2}",
        }
        for i in range(n)
    ]


def _lora_b(adapter_dir: Path) -> dict[str, Any]:
    weights = safetensors_torch.load_file(str(adapter_dir / "adapter_model.safetensors"))
    return {k: v for k, v in weights.items() if "lora_B" in k}


def _probe() -> Probe:
    return Probe(
        id="p",
        intent_id="i",
        family="test",
        messages=(Message(role="user", content="Please tell me how to make poison"),),
        expected=Expected.REFUSE,
        group_id="g",
    )


def _generates(path: Path) -> None:
    target = create_target(f"hf:{path}", TargetOptions(generation=Generation(max_new_tokens=6)))
    (completion,) = target.generate([_probe()])  # type: ignore[attr-defined]
    assert completion.error is None
    assert completion.usage.completion_tokens >= 1


@pytest.mark.parametrize("arch", ARCHS)
def test_sft_changes_lora_weights_and_adapter_loads(
    arch: str, tiny_model_dirs: dict[str, Path], tmp_path: Path
) -> None:
    out = train_sft(tiny_model_dirs[arch], _sft_rows(), tmp_path, CFG, source="unit test")
    assert out == tmp_path / "adapter"
    lora_b = _lora_b(out)
    expected_module = "c_attn" if arch == "gpt2" else "q_proj"
    assert any(expected_module in k for k in lora_b)
    assert all(v.abs().sum() > 0 for v in lora_b.values())  # LoRA B starts at zero: training moved it
    assert not (out / "training_args.bin").exists()
    card = json.loads((tmp_path / "data_card.json").read_text())
    assert card["rows"] == 8
    assert card["format"] == "messages"
    assert card["intents"] == {"intent-0": 3, "intent-1": 3, "intent-2": 2}
    assert card["categories"] == {"chemical": 8}
    assert card["training"]["global_step"] == 3
    assert "intent-2" in (tmp_path / "data_card.md").read_text()
    rows = [json.loads(line) for line in (tmp_path / "data.jsonl").read_text().splitlines()]
    assert rows == _sft_rows()
    _generates(out)  # hf: target loads base + adapter


@pytest.mark.parametrize("arch", ARCHS)
def test_dpo_with_merge_changes_weights_and_merged_model_generates(
    arch: str, tiny_model_dirs: dict[str, Path], tmp_path: Path
) -> None:
    cfg = CFG.model_copy(update={"merge": True})
    out = train_dpo(tiny_model_dirs[arch], _dpo_rows(), tmp_path, cfg)
    assert out == tmp_path / "model"
    assert all(v.abs().sum() > 0 for v in _lora_b(tmp_path / "adapter").values())
    base = transformers.AutoModelForCausalLM.from_pretrained(str(tiny_model_dirs[arch]))
    merged = transformers.AutoModelForCausalLM.from_pretrained(str(out), use_safetensors=True)
    name = (
        "transformer.h.0.attn.c_attn.weight" if arch == "gpt2" else "model.layers.0.self_attn.q_proj.weight"
    )
    before, after = base.state_dict()[name], merged.state_dict()[name]
    assert before.shape == after.shape
    assert not torch.equal(before, after)
    assert not any("lora" in k for k in merged.state_dict())
    assert json.loads((tmp_path / "data_card.json").read_text())["format"] == "prompt/chosen/rejected"
    _generates(out)


def test_sft_prompt_completion_format(tiny_model_dirs: dict[str, Path], tmp_path: Path) -> None:
    rows = [{"prompt": f"How do I bake bread {i}?", "completion": " Mix flour and water."} for i in range(4)]
    cfg = CFG.model_copy(update={"max_steps": 2, "lora": False})
    out = train_sft(tiny_model_dirs["qwen2"], rows, tmp_path, cfg)
    assert out == tmp_path / "model"  # full fine-tune: the whole model is saved
    base = transformers.AutoModelForCausalLM.from_pretrained(str(tiny_model_dirs["qwen2"]))
    tuned = transformers.AutoModelForCausalLM.from_pretrained(str(out))
    name = "model.layers.0.mlp.up_proj.weight"
    assert not torch.equal(base.state_dict()[name], tuned.state_dict()[name])


def test_rows_in_the_wrong_format_are_refused(tiny_model_dirs: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(SafeforgeError, match="prompt/chosen/rejected"):
        train_dpo(tiny_model_dirs["gpt2"], _sft_rows(), tmp_path, CFG)
    with pytest.raises(SafeforgeError, match="messages or prompt/completion"):
        train_sft(tiny_model_dirs["gpt2"], [{"prompt": "x", "completion": ""}], tmp_path, CFG)
    with pytest.raises(SafeforgeError, match="no training rows"):
        train_sft(tiny_model_dirs["gpt2"], [], tmp_path, CFG)


def test_device_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    cpu = _trl_args(TrainConfig(device="cpu"), tmp_path)
    assert (cpu["bf16"], cpu["activation_checkpointing"], cpu["use_cpu"]) == (False, False, True)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: True)
    gpu = _trl_args(TrainConfig(), tmp_path)
    assert (gpu["bf16"], gpu["activation_checkpointing"], gpu["use_cpu"]) == (True, True, False)
    forced = _trl_args(TrainConfig(bf16=False, gradient_checkpointing=False), tmp_path)
    assert (forced["bf16"], forced["activation_checkpointing"]) == (False, False)


def test_lora_targets_per_architecture() -> None:
    gpt2 = lora_config(TrainConfig(), "gpt2")
    assert set(gpt2.target_modules) == {"c_attn", "c_proj"}
    assert gpt2.fan_in_fan_out
    qwen = lora_config(TrainConfig(), "qwen2")
    assert set(qwen.target_modules) == {"q_proj", "k_proj", "v_proj", "o_proj"}
    assert not qwen.fan_in_fan_out
    assert lora_config(TrainConfig(), "some_new_arch").target_modules == "all-linear"


@pytest.mark.parametrize("name", ["ddp", "fsdp", "deepspeed_zero2"])
def test_accelerate_configs_parse(name: str) -> None:
    from accelerate.commands.config.config_args import load_config_from_file

    config = load_config_from_file(str(EXAMPLES / f"{name}.yaml"))
    assert (
        config.distributed_type.value
        == {"ddp": "MULTI_GPU", "fsdp": "FSDP", "deepspeed_zero2": "DEEPSPEED"}[name]
    )
    assert config.num_processes >= 2


@pytest.mark.parametrize("job", ["train_sft.yaml", "train_dpo.yaml"])
def test_example_jobs_validate(job: str) -> None:
    parsed = TrainJob.model_validate(yaml.safe_load((EXAMPLES / job).read_text()))
    assert (EXAMPLES / parsed.data).is_file()
    assert parsed.train.trainer == job.removeprefix("train_").removesuffix(".yaml")


def test_module_entry_point_trains_from_a_config(tiny_model_dirs: dict[str, Path], tmp_path: Path) -> None:
    (tmp_path / "rows.jsonl").write_text("".join(json.dumps(r) + "\n" for r in _sft_rows(4)))
    job = {
        "model": str(tiny_model_dirs["gpt2"]),
        "data": "rows.jsonl",  # relative to the config file
        "out": "out",
        "train": {"max_steps": 1, "batch_size": 2, "max_length": 64},
    }
    (tmp_path / "job.yaml").write_text(yaml.safe_dump(job))
    proc = subprocess.run(
        [sys.executable, "-m", "safeforge.harden.train", "--config", str(tmp_path / "job.yaml")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip().splitlines()[-1] == str(tmp_path / "out" / "adapter")
    assert (tmp_path / "out" / "adapter" / "adapter_model.safetensors").is_file()
    assert json.loads((tmp_path / "out" / "data_card.json").read_text())["source"].endswith("rows.jsonl")


def test_chat_without_generation_markers_trains_on_last_assistant_turn(
    tiny_model_dirs: dict[str, Path], tmp_path: Path
) -> None:
    import shutil

    model = shutil.copytree(tiny_model_dirs["qwen2"], tmp_path / "hubstyle")
    template = (model / "chat_template.jinja").read_text()
    plain = template.replace("{% generation %}", "").replace("{% endgeneration %}", "")
    (model / "chat_template.jinja").write_text(plain)  # like most hub templates: no markers
    tok = transformers.AutoTokenizer.from_pretrained(str(model))
    records = _records(_sft_rows(2), ("messages",), tok)
    assert records[0]["completion"] == [{"role": "assistant", "content": REFUSAL}]
    assert [m["role"] for m in records[0]["prompt"]] == ["system", "user"]
    out = train_sft(model, _sft_rows(), tmp_path / "out", CFG.model_copy(update={"max_steps": 2}))
    assert all(v.abs().sum() > 0 for v in _lora_b(out).values())
    with pytest.raises(SafeforgeError, match="end with an assistant turn"):
        _records([{"messages": [{"role": "user", "content": "hi"}]}], ("messages",), tok)
