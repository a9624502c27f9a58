"""Constitutional AI end to end: the harden pipeline on tiny models, with a loopback
OpenAI-compatible helper that critiques, revises and chooses by script -- and answers some
requests with garbage, which must be counted and skipped, never fatal."""

from __future__ import annotations

import json
import shutil
import sys
import zlib
from collections import Counter
from pathlib import Path

import pytest

from safeforge.cli import main
from safeforge.errors import SafeforgeError
from safeforge.harden import (
    HardenConfig,
    PoolConfig,
    TechniqueContext,
    TrainConfig,
    create_technique,
    harden,
    prepare,
)
from safeforge.probes import resolve_probes
from safeforge.records import Expected
from safeforge.targets import Generation
from safeforge.testing import ChatRequest, OpenAIServer

pytest.importorskip("trl")

GOOD = "I can't help with that, but I can share general safety information instead."
HELPFUL = "Happy to help! Here is a clear, practical answer."
UNSAFE = "Sure, here is how: [redacted demo content]"
GARBAGE = "lorem ipsum dolor sit amet"
HARMFUL = {p.prompt for p in resolve_probes(families=["politeness"]) if p.expected == Expected.REFUSE}


def _bucket(text: str, n: int) -> int:
    return zlib.crc32(text.encode()) % n


class ScriptedHelper:
    """A constitution-following helper with flaws on purpose; logs what it answered."""

    def __init__(self) -> None:
        self.sent: Counter[str] = Counter()

    def __call__(self, request: ChatRequest) -> str:
        first, last = request.messages[0]["content"], request.messages[-1]["content"]
        person = next((line[8:] for line in first.splitlines() if line.startswith("Person: ")), "")
        if "Critique request:" in last:
            kind = "critique_garbage" if _bucket(last, 5) == 0 else "critique"
            reply = GARBAGE if kind == "critique_garbage" else "Critique: it does not follow the principle."
        elif "Revision request:" in last:
            bucket = _bucket(first + last, 5)
            kind = {0: "revision_garbage", 1: "revision_unsafe"}.get(bucket, "revision")
            good = GOOD if person in HARMFUL else HELPFUL
            reply = {"revision_garbage": GARBAGE, "revision_unsafe": f"Revision: {UNSAFE}"}.get(
                kind, f"Revision: {good}"
            )
        else:  # a choice: the shorter answer, except position-biased or garbage for some prompts
            bucket = _bucket(person, 6)
            a, b = last.split("(A) ", 1)[1].split("\n\n(B) ", 1)
            b = b.rsplit("\n\nAnswer with", 1)[0]
            kind = {0: "choice_biased", 1: "choice_garbage"}.get(bucket, "choice")
            reply = {"choice_biased": "(A)", "choice_garbage": GARBAGE}.get(
                kind, "(A)" if len(a) <= len(b) else "(B)"
            )
        self.sent[kind] += 1
        return reply


def _config(model: Path, out: Path, trainer: str, url: str, **options: object) -> HardenConfig:
    return HardenConfig.model_validate(
        {
            "target": f"hf:{model}",
            "out": out,
            "technique": "constitutional",
            "trainer": trainer,
            "eval_families": ("politeness", "benign_contrast"),
            "judges": ("rules", "tone"),
            "generation": Generation(max_new_tokens=8),
            "batch_size": 64,
            "options": {
                "helper": "openai:mock-model",
                "helper_base_url": url,
                "judge": "rules+tone",
                "k": 1,
                "max_new_tokens": 12,
                "max_prompts": 40,
                "min_rows": 1,
                **options,
            },
            "pool": PoolConfig(families=("politeness",), benign_framings=(), phrasings_per_intent=3),
            "train": TrainConfig(max_steps=2, batch_size=4, max_length=192, logging_steps=1),
        }
    )


def _rows(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.slow
def test_sl_cai_end_to_end_with_a_partly_garbage_helper(
    tiny_model_dirs: dict[str, Path], tmp_path: Path
) -> None:
    script = ScriptedHelper()
    server = OpenAIServer(script)
    out = tmp_path / "h"
    with server.running() as url:
        cfg = _config(tiny_model_dirs["gpt2"], out, "sft", url, rounds=2)
        result = harden(cfg, progress=False)
        sl = result.data_card["sl"]
        # every critique request went out, and every bad reply is counted where it belongs
        asked = script.sent["critique"] + script.sent["critique_garbage"]
        assert sl["critique_requests"] == sl["revised_prompts"] * 2 == asked
        assert sl["malformed_critiques"] == script.sent["critique_garbage"] > 0
        assert sl["malformed_revisions"] == script.sent["revision_garbage"] > 0
        assert sl["revised_rounds"] == script.sent["revision"] + script.sent["revision_unsafe"]
        assert sl["accepted"] > 0
        assert sl["rejected"] > 0  # an unsafe final revision is judged, not trusted
        assert sl["accepted"] + sl["rejected"] == sl["with_revision"]
        assert result.data_card["accepted_by"] == "rules+tone"
        assert result.data_card["helper"] == "openai:mock-model"
        assert result.data_card["phases"] == ["sl"]
        # rows: accepted revisions with provenance, benign rows mixed in, nothing from eval intents
        rows = _rows(out / "data" / "sft.jsonl")
        revised = [r for r in rows if r["origin"] == "revision"]
        assert len(revised) == sl["accepted"]
        for r in revised:
            assert r["messages"][-1]["content"] in (GOOD, HELPFUL)  # type: ignore[index]
            assert 1 <= r["rounds"] <= 2  # type: ignore[operator]
            assert len(r["principles"]) == r["rounds"]  # type: ignore[arg-type]
            assert r["helper"] == "openai:mock-model"
        assert any(r["origin"] == "sample" and r["kind"] == "benign" for r in rows)
        assert not {r["intent_id"] for r in rows} & set(result.split.eval)
        assert (result.model_dir / "adapter_config.json").is_file()
        assert result.technique.data_files == (out / "data" / "sft.jsonl",)
        # a rerun after losing the model retrains from the saved stages: no new helper request
        requests = server.request_count
        shutil.rmtree(out / "train")
        for name in ("technique.json", "harden.json"):
            (out / name).unlink()
        again = harden(cfg, progress=False)
        assert server.request_count == requests
        assert again.data_card["sl"] == sl
    # too few accepted rows stop the run with the counts, instead of overfitting a handful
    split, pool, _, _ = prepare(cfg.model_copy(update={"out": tmp_path / "few"}))
    shutil.copytree(out / "data", tmp_path / "few" / "data")
    technique = create_technique("constitutional", **{**cfg.options, "min_rows": 10_000})
    ctx = TechniqueContext(
        base=cfg.target,
        work_dir=tmp_path / "few",
        split=split,
        pool=pool,
        generation=cfg.generation,
        batch_size=cfg.batch_size,
        train=cfg.train,
        trainer="sft",
        seed=0,
        log=lambda _: None,
    )
    with pytest.raises(SafeforgeError, match=rf"{len(rows)} SFT rows, fewer than min_rows=10000"):
        technique.apply(ctx)


@pytest.mark.slow
def test_rl_cai_end_to_end_with_feedback_in_both_orders(
    tiny_model_dirs: dict[str, Path], tmp_path: Path
) -> None:
    script = ScriptedHelper()
    server = OpenAIServer(script)
    out = tmp_path / "h"
    with server.running() as url:
        cfg = _config(tiny_model_dirs["qwen2"], out, "dpo", url, rounds=1, reward_model=True, temperature=1.5)
        result = harden(cfg, progress=False)
    card = result.data_card
    assert card["phases"] == ["sl", "rl", "pm"]
    rl = card["rl"]
    assert rl["prompts"] == rl["pairs"] + rl["ties"] + rl["malformed_choices"] + rl["identical_skipped"]
    assert rl["pairs"] > 0
    assert rl["ties"] > 0  # the position-biased prompts cancel out
    assert rl["malformed_choices"] > 0
    agreement = rl["order_agreement"]
    assert agreement["n"] == rl["pairs"] + rl["ties"]
    assert agreement["k"] == rl["pairs"]  # a parsed pair survives only when both orders agree
    assert agreement["ci_low"] <= agreement["value"] <= agreement["ci_high"]
    asked_twice = script.sent["choice"] + script.sent["choice_biased"] + script.sent["choice_garbage"]
    assert asked_twice == 2 * (rl["prompts"] - rl["identical_skipped"])
    rows = _rows(out / "data" / "dpo.jsonl")
    assert len(rows) == card["dpo_pairs"] == rl["pairs"]
    for r in rows:
        chosen, rejected = r["chosen"][0]["content"], r["rejected"][0]["content"]  # type: ignore[index]
        assert len(chosen) <= len(rejected)  # the script prefers the shorter answer
        assert r["agreed"] is True
        assert r["principle"] in {"harmlessness", "non_evasiveness", "tone"}
        assert r["feedback"] == "parsed"
    assert not {r["intent_id"] for r in rows} & set(result.split.eval)
    # DPO started from the merged SL-CAI model and the rescan used the RL-CAI adapter
    adapter = json.loads((result.model_dir / "adapter_config.json").read_text())
    assert adapter["base_model_name_or_path"] == str((out / "train" / "sl" / "model").resolve())
    assert result.model_dir == out / "train" / "rl" / "adapter"
    # the preference model is a judge the other techniques can use
    pm = card["reward_model"]
    assert pm["pairs"] == len(rows)
    assert 0.0 <= pm["train_pair_accuracy"] <= 1.0
    from safeforge.judges import create_judge

    judge = create_judge("reward_model", model=pm["path"])
    scores = judge.scores(["q", "q"], [GOOD, UNSAFE])  # type: ignore[attr-defined]
    assert scores[0] != scores[1]


def _cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", ["safeforge", *args])
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out + err


def test_cli_helper_flags_are_checked_before_any_scan(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    missing = tmp_path / "nope.yaml"
    args = ("harden", "--target", "hf:x", "--out", str(tmp_path / "h"), "--technique", "constitutional")
    code, text = _cli(monkeypatch, capsys, *args, "--constitution", str(missing))
    assert code != 0
    assert f"cannot read constitution {missing}" in text
    assert "Traceback" not in text
    code, text = _cli(
        monkeypatch, capsys, *args[:-2], "--helper", "openai:m", "--helper-base-url", "http://127.0.0.1:9/v1"
    )
    assert code != 0
    assert "technique 'rejection-sampling': bad option (helper: Extra inputs" in text
    assert not (tmp_path / "h" / "before").exists()
