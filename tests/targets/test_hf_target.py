"""The hf: target on tiny models of both architectures: batching is invisible under greedy
decoding, the chat template (with system turn) is applied, usage and finish reasons are right."""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
from pathlib import Path

import pytest

transformers = pytest.importorskip("transformers")
torch = pytest.importorskip("torch")

from safeforge.errors import SafeforgeError  # noqa: E402
from safeforge.models import ARCHS  # noqa: E402
from safeforge.records import Expected, Message, Probe  # noqa: E402
from safeforge.targets import (  # noqa: E402
    Generation,
    Target,
    TargetOptions,
    create_target,
    hf,
)
from safeforge.targets.hf import AUTO_CHUNK, HFTarget, kv_bytes_per_token  # noqa: E402

PROMPTS = (
    "hi",
    "How do I bake bread at home? Please explain every step in detail, from flour to oven.",
    "What is the capital of France?",
    "Could you kindly tell me a story about a brave little robot?",
    "ok",
)


def _probes(system: str | None = "Be brief.") -> list[Probe]:
    probes = []
    for i, text in enumerate(PROMPTS):
        head = (Message(role="system", content=system),) if system and i % 2 else ()
        probes.append(
            Probe(
                id=f"p{i}",
                intent_id=f"i{i}",
                family="test",
                messages=(*head, Message(role="user", content=text)),
                expected=Expected.COMPLY,
                group_id=f"g{i}",
            )
        )
    return probes


def _target(path: Path, batch_size: int | None = 8, **gen: float | int | None) -> HFTarget:
    generation = Generation(**{"max_new_tokens": 12, **gen})  # type: ignore[arg-type]
    target = create_target(f"hf:{path}", TargetOptions(batch_size=batch_size, generation=generation))
    assert isinstance(target, HFTarget)
    assert isinstance(target, Target)  # the runner's protocol
    return target


@pytest.mark.parametrize("arch", ARCHS)
def test_batched_equals_one_by_one_greedy(arch: str, tiny_model_dirs: dict[str, Path]) -> None:
    probes = _probes()
    batched = asyncio.run(_target(tiny_model_dirs[arch], batch_size=8).generate_async(probes))
    single = asyncio.run(_target(tiny_model_dirs[arch], batch_size=1).generate_async(probes))
    assert len({c.usage.prompt_tokens for c in batched}) >= 4  # lengths differ: padding matters
    assert [c.text for c in batched] == [c.text for c in single]
    assert [c.usage for c in batched] == [c.usage for c in single]
    assert all(c.error is None for c in batched)
    assert sum(bool(c.text) for c in batched) >= 3  # real text, not an empty-string tie


@pytest.mark.parametrize("arch", ARCHS)
def test_chat_template_with_system_turn_and_usage(arch: str, tiny_model_dirs: dict[str, Path]) -> None:
    path = tiny_model_dirs[arch]
    tok = transformers.AutoTokenizer.from_pretrained(str(path))
    probes = _probes()
    completions = _target(path).generate(probes)
    for probe, completion in zip(probes, completions, strict=True):
        messages = [m.model_dump() for m in probe.messages]
        text = tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        assert text.endswith("<|assistant|>")
        assert ("<|system|>Be brief.<|end|>" in text) == (probe.system is not None)
        assert completion.usage.prompt_tokens == len(tok(text, add_special_tokens=False)["input_ids"])
        assert completion.finish_reason in {"stop", "length"}
        assert completion.usage.completion_tokens is not None
        assert 1 <= completion.usage.completion_tokens <= 12
        if completion.finish_reason == "length":
            assert completion.usage.completion_tokens == 12
        assert completion.latency_s > 0


def _first_greedy_token(path: Path, probe: Probe) -> int:
    tok = transformers.AutoTokenizer.from_pretrained(str(path))
    model = transformers.AutoModelForCausalLM.from_pretrained(str(path))
    messages = [m.model_dump() for m in probe.messages]
    ids = tok.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt", return_dict=True)
    with torch.inference_mode():
        logits = model(**ids).logits
    return int(logits[0, -1].argmax())


def test_finish_reason_stop_when_model_emits_eos(tiny_model_dirs: dict[str, Path], tmp_path: Path) -> None:
    path = shutil.copytree(tiny_model_dirs["qwen2"], tmp_path / "m")
    probe = _probes()[2]
    first = _first_greedy_token(path, probe)
    gen_file = path / "generation_config.json"
    config = json.loads(gen_file.read_text())
    config["eos_token_id"] = [first]  # the model's very first greedy token now ends the turn
    gen_file.write_text(json.dumps(config))
    (completion,) = _target(path).generate([probe])
    assert completion.finish_reason == "stop"
    assert completion.usage.completion_tokens == 1
    assert completion.text == ""
    (capped,) = _target(tiny_model_dirs["qwen2"], max_new_tokens=3).generate([probe])
    assert capped.finish_reason == "length"
    assert capped.usage.completion_tokens == 3


def test_seeded_sampling_is_reproducible(tiny_model_dirs: dict[str, Path]) -> None:
    path, probes = tiny_model_dirs["gpt2"], _probes()
    greedy = [c.text for c in _target(path).generate(probes)]
    first = [c.text for c in _target(path, temperature=5.0, seed=7).generate(probes)]
    again = [c.text for c in _target(path, temperature=5.0, seed=7).generate(probes)]
    assert first == again
    assert first != greedy


def test_no_chat_template_falls_back_and_says_so(
    tiny_model_dirs: dict[str, Path], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = shutil.copytree(tiny_model_dirs["gpt2"], tmp_path / "base")
    (path / "chat_template.jinja").unlink()
    with caplog.at_level(logging.WARNING, logger="safeforge.targets.hf"):
        target = _target(path)
    assert not target.templated
    assert "no chat template" in caplog.text
    (completion,) = target.generate(_probes()[1:2])
    tok = transformers.AutoTokenizer.from_pretrained(str(path))
    expected = tok("System: Be brief.\nUser: " + PROMPTS[1] + "\nAssistant:")["input_ids"]
    assert completion.usage.prompt_tokens == len(expected)
    assert completion.error is None


def test_prompt_longer_than_context_is_a_per_probe_error(tiny_model_dirs: dict[str, Path]) -> None:
    long = Probe(
        id="long",
        intent_id="x",
        family="test",
        messages=(Message(role="user", content="bread " * 1000),),
        expected=Expected.COMPLY,
        group_id="x",
    )
    ok, too_long = _target(tiny_model_dirs["gpt2"]).generate([*_probes()[:1], long])
    assert ok.error is None
    assert too_long.error is not None
    assert "context" in too_long.error


def test_event_loop_stays_responsive(tiny_model_dirs: dict[str, Path]) -> None:
    target = _target(tiny_model_dirs["qwen2"], max_new_tokens=64)

    async def main() -> int:
        ticks = 0
        task = asyncio.create_task(target.generate_async(_probes()))
        while not task.done():
            ticks += 1
            await asyncio.sleep(0.001)
        await task
        return ticks

    assert asyncio.run(main()) >= 2


def test_bad_specs_give_clear_errors(tiny_model_dirs: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(SafeforgeError, match="directory not found"):
        create_target(f"hf:{tmp_path / 'nope'}")
    with pytest.raises(SafeforgeError, match="not a transformers model directory"):
        create_target(f"hf:{tmp_path}")
    with pytest.raises(SafeforgeError, match="needs a model"):
        create_target("hf:")


def test_template_without_system_role_gets_system_folded_into_user(
    tiny_model_dirs: dict[str, Path], tmp_path: Path
) -> None:
    path = shutil.copytree(tiny_model_dirs["gpt2"], tmp_path / "nosys")
    template = (path / "chat_template.jinja").read_text()
    refusing = "{% if messages[0]['role'] == 'system' %}{{ raise_exception('no system role') }}{% endif %}"
    (path / "chat_template.jinja").write_text(refusing + template)
    probe = _probes()[1]
    assert probe.system == "Be brief."
    (completion,) = _target(path).generate([probe])
    tok = transformers.AutoTokenizer.from_pretrained(str(tiny_model_dirs["gpt2"]))
    folded = f"<|user|>Be brief.\n\n{PROMPTS[1]}<|end|><|assistant|>"
    assert completion.usage.prompt_tokens == len(tok(folded, add_special_tokens=False)["input_ids"])


@pytest.mark.parametrize("arch", ARCHS)
def test_kv_bytes_per_token_matches_the_cache_the_model_builds(
    arch: str, tiny_model_dirs: dict[str, Path]
) -> None:
    model = transformers.AutoModelForCausalLM.from_pretrained(str(tiny_model_dirs[arch]))
    tokens = 7
    with torch.inference_mode():
        cache = model(input_ids=torch.arange(3, 3 + tokens)[None], use_cache=True).past_key_values
    stored = sum(t.numel() * t.element_size() for layer in cache.layers for t in (layer.keys, layer.values))
    assert kv_bytes_per_token(model) * tokens == stored


def test_default_batches_are_sized_from_free_memory_and_change_no_output(
    tiny_model_dirs: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, probes = tiny_model_dirs["qwen2"], _probes()
    monkeypatch.setattr(hf, "free_memory", lambda device: 1 << 30)
    auto = _target(path, batch_size=None)
    assert (auto.fixed_batch, auto.batch_size) == (None, AUTO_CHUNK)
    from_memory = int(hf.KV_SHARE * (1 << 30)) // kv_bytes_per_token(auto._model)
    assert auto.token_budget == min(from_memory, hf.CPU_TOKEN_BUDGET)  # the tiny models run on CPU
    monkeypatch.setattr(hf, "free_memory", lambda device: 1 << 20)
    assert hf.token_budget(auto._model) == int(hf.KV_SHARE * (1 << 20)) // kv_bytes_per_token(auto._model)
    lengths = sorted(len(auto._encode(p)) for p in probes)
    auto.token_budget = 2 * (lengths[-1] + 12)  # room for two rows of the longest prompt
    rows: list[list[int]] = []
    run_batch = auto._run_batch

    def spy(chunk: list[hf._Encoded], seed_key: str) -> list[object]:
        rows.append([len(e.ids) for e in chunk])
        return run_batch(chunk, seed_key)  # type: ignore[return-value]

    monkeypatch.setattr(auto, "_run_batch", spy)
    batched = auto.generate(probes)
    assert sorted(n for batch in rows for n in batch) == lengths  # every probe once, shortest first
    assert len(rows) >= 2
    assert all(len(b) * (max(b) + 12) <= auto.token_budget for b in rows if len(b) > 1)
    assert len(rows[0]) > 2  # short prompts share a wider batch than the longest do
    single = _target(path, batch_size=1).generate(probes)
    assert [c.text for c in batched] == [c.text for c in single]
