"""The tiny offline models: tokenizer round-trips, chat template is training-compatible, both
architectures load back from safetensors and generate."""

from __future__ import annotations

from pathlib import Path

import pytest

transformers = pytest.importorskip("transformers")
torch = pytest.importorskip("torch")

from safeforge.models import ARCHS, END_OF_TURN, build_tiny_model, build_tiny_tokenizer  # noqa: E402


def test_tokenizer_roundtrips_any_text(tmp_path: Path) -> None:
    build_tiny_tokenizer(["plain words only", "more plain words"], tmp_path)
    tok = transformers.AutoTokenizer.from_pretrained(str(tmp_path))
    text = "Ünïcode 🙂 zero\u200bwidth aGVsbG8="  # never seen in the corpus: byte-level covers it
    assert tok.decode(tok(text)["input_ids"]) == text
    assert tok.pad_token == "<|pad|>"
    assert tok.pad_token_id != tok.eos_token_id


def test_chat_template_has_system_turn_and_assistant_mask(tiny_model_dirs: dict[str, Path]) -> None:
    tok = transformers.AutoTokenizer.from_pretrained(str(tiny_model_dirs["gpt2"]))
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hello"},
        {"role": "assistant", "content": "Hi there"},
    ]
    text = tok.apply_chat_template(messages, tokenize=False)
    assert (
        text
        == f"<|system|>Be brief.{END_OF_TURN}<|user|>Hello{END_OF_TURN}<|assistant|>Hi there{END_OF_TURN}"
    )
    out = tok.apply_chat_template(messages, return_assistant_tokens_mask=True, return_dict=True)
    ids, mask = out["input_ids"], out["assistant_masks"]
    assistant_ids = [i for i, m in zip(ids, mask, strict=True) if m]
    assert tok.decode(assistant_ids) == f"Hi there{END_OF_TURN}"


@pytest.mark.parametrize("arch", ARCHS)
def test_model_loads_from_safetensors_and_generates(arch: str, tiny_model_dirs: dict[str, Path]) -> None:
    path = tiny_model_dirs[arch]
    assert (path / "model.safetensors").is_file()
    assert not list(path.glob("*.bin"))
    tok = transformers.AutoTokenizer.from_pretrained(str(path))
    model = transformers.AutoModelForCausalLM.from_pretrained(str(path), use_safetensors=True)
    assert model.config.model_type == arch
    end_id = tok.convert_tokens_to_ids(END_OF_TURN)
    assert end_id in model.generation_config.eos_token_id
    enc = tok("Hello there", return_tensors="pt")
    with torch.inference_mode():
        out = model.generate(**enc, max_new_tokens=4, min_new_tokens=4, do_sample=False)
    assert out.shape[1] == enc["input_ids"].shape[1] + 4


def test_unknown_arch_is_rejected(tmp_path: Path) -> None:
    tok = build_tiny_tokenizer(["a b c"], tmp_path / "tok")
    with pytest.raises(ValueError, match="unknown tiny architecture"):
        build_tiny_model("bert", tok, tmp_path / "m")  # type: ignore[arg-type]
