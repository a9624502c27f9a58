"""The reward-shaping technique: registered under its CLI name, its prompts only from the
train-side pool (validation slice set aside, failing families chosen by sampling), and the
whole harden loop with GRPO on tiny GPT-2 and Qwen2 models."""

from __future__ import annotations

import json
import sys
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
    train_pool,
)
from safeforge.harden.split import split_intents
from safeforge.harden.techniques.reward_shaping import (
    FamilyScreen,
    RewardShaping,
    ShapingConfig,
    failed,
    select_rows,
    validation_split,
)
from safeforge.probes import INTENTS
from safeforge.records import Expected, Label
from safeforge.targets import Generation


def test_registered_with_its_claims_and_options(tmp_path: Path) -> None:
    technique = create_technique("reward-shaping", lagrangian=True, alarm_every=5)
    assert technique.name == "reward-shaping"
    assert technique.kind == "trained"
    assert {c.metric for c in technique.claims} == {"jailbreak_rejection_rate", "false_rejection_rate"}
    with pytest.raises(SafeforgeError, match=r"technique 'reward-shaping': bad option \(screen_kk"):
        create_technique("reward-shaping", screen_kk=3)
    bad = tmp_path / "r.yaml"
    bad.write_text("weights: {tonne: 1}")
    with pytest.raises(SafeforgeError, match="unknown term"):
        create_technique("reward-shaping", reward_config=str(bad))


def test_lagrangian_option_constrains_the_harm_cost(tmp_path: Path) -> None:
    assert ShapingConfig().rewards().constraint is None
    fixed = ShapingConfig(lagrangian=True, cost_threshold=0.2)
    constraint = fixed.rewards().constraint
    assert constraint is not None
    assert (constraint.cost, constraint.threshold) == ("harm", 0.2)
    assert not fixed.threshold_from_base
    # no threshold given: half the base model's mean cost on the screening answers
    relative = RewardShaping(ShapingConfig(lagrangian=True))
    assert relative.cfg.threshold_from_base
    halved = relative._constraint(0.3)
    assert halved is not None
    assert halved.threshold == pytest.approx(0.15)
    with pytest.raises(SafeforgeError, match="no screening answer"):
        relative._constraint(None)
    path = tmp_path / "r.yaml"
    path.write_text("weights: {refusal: 1}\nconstraint: {cost: tone, threshold: 0.3}\n")
    yaml_cfg = ShapingConfig(reward_config=path, lagrangian=True)
    from_yaml = yaml_cfg.rewards().constraint
    assert from_yaml is not None
    assert (from_yaml.cost, from_yaml.threshold) == ("tone", 0.3)  # the YAML's own constraint wins
    assert not yaml_cfg.threshold_from_base


def test_validation_slice_is_whole_train_groups_and_seeded() -> None:
    split = split_intents(INTENTS, seed=0)
    pool = train_pool(split, PoolConfig(phrasings_per_intent=3), seed=0)
    val, rest = validation_split(pool, 0.2, 1000, seed=0)
    assert val
    assert rest
    group = lambda p: p.intent_id or p.group_id  # noqa: E731
    assert not {group(p) for p in val} & {group(p) for p in rest}  # whole groups on one side
    assert {p.intent_id for p in val} <= set(split.train) | {p.intent_id for p in pool.all()}
    assert not {p.intent_id for p in val} & set(split.eval)  # never an evaluation intent
    again, _ = validation_split(pool, 0.2, 1000, seed=0)
    assert [p.id for p in again] == [p.id for p in val]
    other, _ = validation_split(pool, 0.2, 1000, seed=1)
    assert [p.id for p in other] != [p.id for p in val]
    capped, _ = validation_split(pool, 0.2, 3, seed=0)
    assert len(capped) <= 9  # at most 3 per kind (harmful, benign, abstain)


def test_wrong_answer_definitions() -> None:
    split = split_intents(INTENTS, seed=0)
    pool = train_pool(split, PoolConfig(phrasings_per_intent=1), seed=0)
    harmful, benign, abstain = pool.harmful[0], pool.benign[0], pool.abstain[0]
    assert failed(harmful, Label.FULL_COMPLIANCE)
    assert not failed(harmful, Label.PARTIAL_REFUSAL)  # JRR counts partial refusals as rejected
    assert failed(benign, Label.FULL_REFUSAL)
    assert not failed(benign, Label.PARTIAL_REFUSAL)  # FRR counts full refusals only
    assert failed(abstain, Label.FULL_COMPLIANCE)
    assert not failed(abstain, Label.ABSTAIN)


def test_rows_come_from_failing_families_with_the_benign_share() -> None:
    split = split_intents(INTENTS, seed=0)
    pool = train_pool(split, PoolConfig(phrasings_per_intent=3), seed=0)
    probes = pool.all()
    screen = {
        "politeness/harmful": FamilyScreen(kind="harmful", prompts=4, answers=8, failed=6, fail_rate=0.75),
        "edge_tone/harmful": FamilyScreen(kind="harmful", prompts=4, answers=8, failed=0, fail_rate=0.0),
        "benign_contrast/benign": FamilyScreen(
            kind="benign", prompts=4, answers=8, failed=1, fail_rate=0.125
        ),
    }
    rows, failing = select_rows(probes, screen, ShapingConfig(benign_ratio=0.25), 40)
    assert failing == ["politeness/harmful"]
    assert len(rows) == 40
    assert sum(r["kind"] == "benign" for r in rows) == 10
    assert {r["family"] for r in rows if r["kind"] != "benign"} == {"politeness"}
    assert all(r["expected"] in {e.value for e in Expected} for r in rows)
    assert all(r["prompt"][-1]["role"] == "user" for r in rows)


def _config(model: Path, out: Path, lagrangian: bool = False) -> HardenConfig:
    return HardenConfig.model_validate(
        {
            "target": f"hf:{model}",
            "out": out,
            "technique": "reward-shaping",
            "trainer": "grpo",
            "eval_families": ("politeness", "benign_contrast"),
            "judges": ("rules", "tone"),
            "generation": Generation(max_new_tokens=8),
            "batch_size": 64,
            "options": {
                "screen_k": 1,
                "screen_per_family": 4,
                "screen_max_new_tokens": 8,
                "alarm_every": 1,
                "validation_max": 4,
                "reward_config": str(out.parent / "rewards.yaml"),
                "lagrangian": lagrangian,
            },
            "pool": PoolConfig(families=("politeness",), benign_framings=(), phrasings_per_intent=2),
            "train": TrainConfig(
                max_steps=2, batch_size=4, num_generations=2, max_completion_length=8, logging_steps=1
            ),
        }
    )


@pytest.mark.slow
@pytest.mark.parametrize(("arch", "lagrangian"), [("gpt2", False), ("qwen2", True)])
def test_harden_with_grpo_end_to_end(
    arch: str, lagrangian: bool, tiny_model_dirs: dict[str, Path], tmp_path: Path
) -> None:
    pytest.importorskip("trl")
    if lagrangian:
        pytest.importorskip("onnxruntime")  # the harm judge behind the cost
    (tmp_path / "rewards.yaml").write_text("weights: {refusal: 1.0, tone: 0.25, length: 0.1}\n")
    out = tmp_path / "h"
    result = harden(_config(tiny_model_dirs[arch], out, lagrangian), progress=False)
    assert (result.model_dir / "adapter_config.json").is_file()
    card = result.data_card
    assert card["technique"] == "reward-shaping"
    assert card["failing_families"]
    assert card["validation_prompts"] > 0
    assert "not the evaluation set" in card["validation_note"]
    if lagrangian:  # the harm cost joins the terms, its threshold half the base model's cost
        assert card["training"]["reward_terms"] == ["refusal", "harm", "tone", "length"]
        assert card["constraint"]["threshold"] == pytest.approx(card["base_cost"] / 2, abs=1e-4)
        assert len(card["training"]["rewards"]["lagrangian"]["lambda_path"]) == 2
    else:
        assert card["training"]["reward_terms"] == ["refusal", "tone", "length"]
        assert card["constraint"] is None
    alarm = card["training"]["rewards"]["alarm"]
    assert [c["step"] for c in alarm["checks"]] == [1, 2]
    # model generations spent: screening answers + rollouts (2 steps × 4) + alarm (3 × slice)
    spent = card["generations"]
    assert spent["rollouts"] == 8
    assert spent["alarm"] == 3 * card["validation_prompts"]
    assert card["samples"] == spent["screening"] + spent["rollouts"] + spent["alarm"]
    # every GRPO prompt is a train-side pool prompt, none an eval or validation prompt
    rows = [json.loads(line) for line in (out / "data" / "grpo.jsonl").read_text().splitlines()]
    assert len(rows) == 2 * 2  # steps × prompts per step (batch 4 / 2 generations)
    assert not {r["intent_id"] for r in rows} & set(result.split.eval)
    assert result.technique.data_files == (out / "data" / "grpo.jsonl",)
    steps = [json.loads(line) for line in (out / "train" / "rewards.jsonl").read_text().splitlines()]
    assert [s["step"] for s in steps] == [1, 2]
    assert set(steps[0]["terms"]) == set(card["training"]["reward_terms"])
    assert result.technique.template_share is None  # GRPO learns from its own samples only


def _cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", ["safeforge", *args])
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out + err


def test_cli_reward_config_errors_are_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = tmp_path / "rewards.yaml"
    bad.write_text("weights: {refusal: 1.0, harmm: 0.5}\n")
    args = ("harden", "--target", "hf:x", "--out", str(tmp_path / "h"), "--technique", "reward-shaping")
    code, text = _cli(monkeypatch, capsys, *args, "--trainer", "grpo", "--reward-config", str(bad))
    assert code == 2
    assert "weights.harmm: unknown term" in text
    assert "Traceback" not in text
    assert not (tmp_path / "h").exists()  # nothing started


def test_cli_trainer_must_fit_the_technique(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    split = split_intents(INTENTS, seed=0)
    ctx = TechniqueContext(
        base="hf:x",
        work_dir=tmp_path,
        split=split,
        pool=train_pool(split, PoolConfig(phrasings_per_intent=1), seed=0),
        generation=Generation(),
        batch_size=8,
        train=TrainConfig(),
        trainer="sft",
        seed=0,
        log=print,
    )
    with pytest.raises(SafeforgeError, match="reward-shaping trains with grpo"):
        create_technique("reward-shaping").apply(ctx)
    code, text = _cli(monkeypatch, capsys, "harden", "--help")
    assert code == 0
    assert "--reward-config" in text
    assert "grpo" in text
