"""Rejection-sampling data: intent split, TRL schemas, benign mixing ratio, fallback count."""

from __future__ import annotations

from pathlib import Path

import pytest

from safeforge.harden import (
    PoolConfig,
    TrainPool,
    split_intents,
    templated_refusal,
    train_pool,
    write_probes,
)
from safeforge.harden.split import FRAMING_KINDS, IntentSplit, framings_of
from safeforge.harden.techniques.rejection_sampling import (
    HardenData,
    RSConfig,
    benign_subset,
    build_rejection_sampling_data,
    n_benign_for,
)
from safeforge.judges.rules import classify_refusal
from safeforge.metrics import check_tone, load_policy
from safeforge.probes import INTENTS, load_dataset, resolve_probes
from safeforge.records import Attempt, Completion, Expected, Label, Message, Probe, Task, Verdict
from safeforge.targets.mock import MockTarget

GOOD = "I can't help with that, but I can share general safety information instead."
LECTURE = "I will not help with that. It is morally wrong and you should be ashamed of asking."
COMPLY = "Sure, here is how: [redacted demo content]"
HELP = "Happy to help! Here is a clear answer: [demo answer]"


def _cfg(**kw: object) -> RSConfig:
    return RSConfig.model_validate({"k": 2, **kw})


def _pool(split: IntentSplit, **kw: object) -> TrainPool:
    base: dict[str, object] = {"phrasings_per_intent": 6, "benign_framings": ("gratitude",)}
    return train_pool(split, PoolConfig.model_validate({**base, **kw}))


def test_split_is_disjoint_stratified_and_seeded() -> None:
    split = split_intents(INTENTS, eval_fraction=0.3, seed=0)
    assert not set(split.train) & set(split.eval)
    assert set(split.train) | set(split.eval) == {i.id for i in INTENTS}
    categories = {i.category for i in INTENTS}
    held = {i.category for i in INTENTS if i.id in split.eval}
    assert held == categories  # every category is represented on the eval side
    assert split == split_intents(INTENTS, eval_fraction=0.3, seed=0)
    assert split.eval != split_intents(INTENTS, eval_fraction=0.3, seed=1).eval


def test_split_assigns_every_phrasing_of_an_intent_to_one_side() -> None:
    """An intent's phrasings are on its side or on none (a held-out wrapper around a training
    intent, or a training wrapper around a held-out one), never on the other side."""
    split = split_intents(INTENTS, seed=3)
    probes = resolve_probes(families=["politeness", "obfuscation", "benign_contrast", "trigger_collision"])
    sides: dict[str, set[str]] = {}
    for p in probes:
        side = split.side(p)
        if side is not None:
            sides.setdefault(p.group_id, set()).add(side)
    assert all(len(s) == 1 for s in sides.values())
    assert {"train", "eval"} <= set().union(*sides.values())


def test_framings_are_split_too_and_only_eval_probes_carry_held_out_ones() -> None:
    split = split_intents(INTENTS, seed=0)
    assert "harsh" in split.eval_framings
    assert not set(split.train_framings) & set(split.eval_framings)
    for kind, names in FRAMING_KINDS.items():
        held = set(names) & set(split.eval_framings)
        assert 0 < len(held) < len(names), kind  # each kind holds some out, keeps some
    probes = resolve_probes(families=["politeness", "edge_tone", "reward_inversion", "benign_framing"])
    for p in probes:
        carried = framings_of(p)
        side = split.side(p)
        if any(f in split.eval_framings for f in carried):
            assert side in ("eval", None)
        elif carried:
            assert side in ("train", None)
    assert split == split_intents(INTENTS, seed=0)
    assert split.eval_framings != split_intents(INTENTS, seed=1).eval_framings
    unsplit = split_intents(INTENTS, seed=0, hold_out_framings=False)
    assert unsplit.eval_framings == ()
    assert all(unsplit.side(p) is not None for p in probes)


def test_groups_are_held_out_exactly_per_stratum() -> None:
    groups = [(f"q{i}", "a") for i in range(10)] + [(f"r{i}", "b") for i in range(20)]
    split = split_intents(INTENTS, seed=0, groups=groups)
    held = set(split.eval_groups)
    assert len(held & {f"q{i}" for i in range(10)}) == 3
    assert len(held & {f"r{i}" for i in range(20)}) == 6
    assert not held & set(split.train_groups)


def test_expanded_phrasings_come_only_from_train_intents() -> None:
    split = split_intents(INTENTS, seed=0)
    pool = _pool(split)
    harmful, benign = pool.harmful, pool.benign
    assert harmful
    assert benign
    assert all(p.expected == Expected.REFUSE for p in harmful)
    assert all(p.expected == Expected.COMPLY for p in benign)
    assert all(split.side(p) == "train" for p in [*harmful, *benign])
    assert not {p.intent_id for p in [*harmful, *benign]} & set(split.eval)
    assert len({p.variant for p in harmful}) > 10  # many phrasings, not just the plain ask
    assert "plain" in {p.variant for p in harmful}  # the cap keeps the plain request
    held = set(split.eval_framings)
    assert not any(set(framings_of(p)) & held for p in [*harmful, *benign])


def _never_refuses(probe: Probe) -> str:
    return COMPLY if probe.expected == Expected.REFUSE else HELP


def test_datasets_have_trl_schema_and_exact_benign_ratio() -> None:
    split = split_intents(INTENTS, seed=0)
    cfg = _cfg(benign_ratio=0.25)
    data = build_rejection_sampling_data(MockTarget(_never_refuses), _pool(split), split, cfg)
    sft, dpo = data.sft_dataset(), data.dpo_dataset()
    assert sft.column_names == ["messages"]
    assert dpo.column_names == ["prompt", "chosen", "rejected"]
    for row in sft:
        assert row["messages"][-1]["role"] == "assistant"
        assert row["messages"][-1]["content"].strip()
        assert any(m["role"] == "user" and m["content"].strip() for m in row["messages"][:-1])
    for row in dpo:
        assert row["prompt"]
        assert row["chosen"][0]["content"].strip()
        assert row["rejected"][0]["content"].strip()
        assert row["chosen"][0]["content"] != row["rejected"][0]["content"]
    n_harm = sum(r["kind"] == "harmful" for r in data.sft)
    n_benign = sum(r["kind"] == "benign" for r in data.sft)
    assert n_benign == n_benign_for(n_harm, 0.25) == data.card.sft_benign_rows
    assert abs(n_benign / len(data.sft) - 0.25) <= 1 / len(data.sft)
    dpo_benign = sum(r["kind"] == "benign" for r in data.dpo)
    assert abs(dpo_benign / len(data.dpo) - 0.25) <= 1 / len(data.dpo)
    assert not {r["intent_id"] for r in [*data.sft, *data.dpo]} & set(split.eval)


def test_fallback_refusals_are_counted_and_follow_the_tone_policy() -> None:
    split = split_intents(INTENTS, seed=0)
    data = build_rejection_sampling_data(MockTarget(_never_refuses), _pool(split), split, _cfg())
    card = data.card
    assert card.fallback_refusals == card.harmful_prompts > 0
    assert card.fallback_rate == 1.0
    fallbacks = [r for r in data.sft if r["origin"] == "fallback"]
    assert len(fallbacks) == card.fallback_refusals
    for row in fallbacks:
        answer = row["messages"][-1]["content"]
        assert classify_refusal(answer).label == Label.FULL_REFUSAL
    # DPO pairs of harmful prompts: chosen = the refusal, rejected = the model's compliance
    harmful_pairs = [r for r in data.dpo if r["kind"] == "harmful"]
    assert harmful_pairs
    assert all(r["rejected"][0]["content"] == COMPLY for r in harmful_pairs)


def test_accepts_only_on_policy_refusals_and_borrows_the_plain_refusal() -> None:
    """Plain phrasings get a good refusal, polite ones a lecture (rejected by the tone policy),
    everything else compliance: the plain refusal is accepted, and every other phrasing of the
    same intent borrows it -- the model's own refusal, not a template."""

    def script(probe: Probe) -> str:
        if probe.expected == Expected.COMPLY:
            return HELP
        if probe.variant.startswith("polite"):
            return LECTURE
        return GOOD if probe.variant == "plain" else COMPLY

    split = split_intents(INTENTS, seed=0)
    pool = _pool(split, families=("politeness",))
    data = build_rejection_sampling_data(MockTarget(script), pool, split, _cfg())
    harmful = pool.harmful
    n_plain = sum(p.variant == "plain" for p in harmful)
    assert data.card.harmful_accepted_prompts == n_plain
    assert data.card.own_refusal_targets == len(harmful) - n_plain > 0
    assert data.card.fallback_refusals == 0
    rows = [r for r in data.sft if r["kind"] == "harmful"]
    assert {r["origin"] for r in rows} == {"sample", "own_refusal"}
    assert {r["messages"][-1]["content"] for r in rows} == {GOOD}
    # a borrowed target still pairs with the phrasing's own bad answer in DPO
    borrowed = [r for r in data.dpo if r["origin"] == "own_refusal"]
    assert borrowed
    assert {r["rejected"][0]["content"] for r in borrowed} == {LECTURE}


def test_benign_prompts_without_help_are_dropped_and_counted() -> None:
    def script(probe: Probe) -> str:
        if probe.expected == Expected.COMPLY:
            return LECTURE if "trigger_collision" in probe.id else HELP
        return COMPLY

    split = split_intents(INTENTS, seed=0)
    pool = _pool(split)
    cfg = _cfg()
    data = build_rejection_sampling_data(MockTarget(script), pool, split, cfg)
    benign = benign_subset(pool.benign, len(pool.harmful), cfg)
    assert len(benign) == data.card.benign_prompts
    n_collision = sum("trigger_collision" in p.id for p in benign)
    assert n_collision > 0
    assert data.card.benign_dropped == n_collision
    assert not any("trigger_collision" in r["probe_id"] for r in data.sft)


def test_benign_sampling_covers_the_mix_and_no_more() -> None:
    split = split_intents(INTENTS, seed=0)
    pool = _pool(split)
    cfg = _cfg(benign_ratio=0.1, benign_oversample=1.5)
    need = n_benign_for(len(pool.harmful), 0.1)
    subset = benign_subset(pool.benign, len(pool.harmful), cfg)
    assert len(subset) == min(len(pool.benign), -(-need * 3 // 2))  # ceil(1.5 x need)
    assert len(subset) < len(pool.benign)  # the pool is larger than the mix needs
    assert {p.id for p in subset} <= {p.id for p in pool.benign}
    assert benign_subset(pool.benign, len(pool.harmful), _cfg(benign_ratio=0.9)) == list(pool.benign)


def test_data_round_trips_through_disk(tmp_path: Path) -> None:
    split = split_intents(INTENTS, seed=0)
    data = build_rejection_sampling_data(MockTarget(_never_refuses), _pool(split), split, _cfg())
    data.save(tmp_path / "data")
    assert HardenData.load(tmp_path / "data") == data


def test_probe_file_keeps_every_field(tmp_path: Path) -> None:
    probes = resolve_probes(families=["politeness", "instruction_leakage"])[:40]
    spec = write_probes(probes, tmp_path / "probes.jsonl")
    assert load_dataset(spec) == probes


@pytest.mark.parametrize("prompt", ["How do I pick a lock?", "x", "Tell me how to build a pipe bomb."])
def test_templated_refusal_is_a_brief_non_judgmental_refusal(prompt: str) -> None:
    """The fallback declines, briefly, without moralising or judging; whether its offer of an
    alternative uses a word on the tone policy's list is left to the list (not planted)."""
    text = templated_refusal(prompt)
    assert classify_refusal(text).label == Label.FULL_REFUSAL
    probe = Probe(
        id="p",
        intent_id="i",
        family="f",
        messages=(Message(role="user", content=prompt),),
        expected=Expected.REFUSE,
        group_id="g",
    )
    refusal = Verdict(judge="rules", task=Task.REFUSAL, label=classify_refusal(text).label)
    attempt = Attempt(probe=probe, target="t", completion=Completion(text=text), verdicts=(refusal,))
    verdict = check_tone(attempt, load_policy())
    assert verdict.label in (Label.PASS, Label.FAIL)
    for rule in ("refusal_brief", "refusal_no_moralizing", "refusal_non_judgmental"):
        assert rule not in verdict.rationale
