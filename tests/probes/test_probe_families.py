"""Contract tests over the whole probe-family registry, plus the content tables."""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from pathlib import Path

import pytest

from safeforge.probes import (
    CATEGORIES,
    COLLISIONS,
    FAMILIES,
    INTENTS,
    QUESTIONS,
    SYSTEM_PROMPTS,
)
from safeforge.records import Expected, Method, Probe, Scenario

FAMILY_NAMES = FAMILIES.names()
DESIGN_METHODS = {Method.DIFFERENTIAL, Method.INSTRUCTION_LEAKAGE, Method.EDGE_TONE, Method.REWARD_INVERSION}
THREAT_SCENARIOS = set(Scenario) - {Scenario.NONE}


@pytest.fixture(scope="module")
def built() -> dict[str, list[Probe]]:
    return {name: FAMILIES.get(name)(0) for name in FAMILY_NAMES}


def test_registry_covers_every_scenario_and_method() -> None:
    specs = [FAMILIES.get(n) for n in FAMILY_NAMES]
    assert {s.scenario for s in specs} >= THREAT_SCENARIOS
    assert {s.method for s in specs} >= DESIGN_METHODS
    assert {s.method for s in specs} == set(Method) - {Method.BENCHMARK, Method.ATTACKER_MODEL}
    assert all(s.name == n for s, n in zip(specs, FAMILY_NAMES, strict=True))


@pytest.mark.parametrize("name", FAMILY_NAMES)
def test_family_contract(name: str, built: dict[str, list[Probe]]) -> None:
    fam = FAMILIES.get(name)
    assert len(fam.doc) > 60, "a family says what it probes and why"
    assert fam.summary
    assert fam.method is not Method.BENCHMARK
    assert fam.expected
    probes = built[name]
    assert len(probes) >= 50
    assert len({p.id for p in probes}) == len(probes), "ids are unique"
    for p in probes:
        assert (p.family, p.scenario, p.method) == (name, fam.scenario, fam.method)
        assert p.expected in fam.expected
        assert p.messages[-1].role == "user"
        assert p.prompt.strip()
        assert p.id.startswith(p.group_id)
    assert {p.expected for p in probes} == set(fam.expected), "every declared behaviour occurs"
    assert FAMILIES.get(name)(0) == probes, "deterministic given the seed"


@pytest.mark.parametrize("name", FAMILY_NAMES)
def test_every_group_holds_its_pairs(name: str, built: dict[str, list[Probe]]) -> None:
    fam = FAMILIES.get(name)
    groups: dict[str, list[Probe]] = defaultdict(list)
    for p in built[name]:
        groups[p.group_id].append(p)
    for gid, members in groups.items():
        assert len(members) >= 2, gid
        assert len({p.intent_id for p in members}) == 1, gid
        assert len({p.variant for p in members}) == len(members), gid
        if len(fam.expected) > 1:  # a contrast family: both sides in every group
            assert {p.expected for p in members} == set(fam.expected), gid
        else:  # a variant family: the plain request is the baseline of every group
            plain = [p for p in members if p.variant == "plain"]
            assert len(plain) == 1, gid
            assert plain[0].prompt in {i.request for i in INTENTS}


def test_politeness_groups_have_harsh_and_every_strategy(built: dict[str, list[Probe]]) -> None:
    variants = {p.variant for p in built["politeness"] if p.intent_id == INTENTS[5].id}
    assert variants == {"plain", "harsh"} | {
        f"polite:{s}" for s in ("deference", "gratitude", "credentials", "apology", "flattery")
    }
    framed = [p for p in built["politeness"] if p.intent_id == INTENTS[5].id and p.variant != "plain"]
    assert all(INTENTS[5].request in p.prompt for p in framed), "same intent, different courtesy"


def test_seed_changes_templates_not_pairing() -> None:
    a, b = FAMILIES.get("politeness")(0), FAMILIES.get("politeness")(1)
    assert [p.id for p in a] == [p.id for p in b]
    assert sum(x.prompt != y.prompt for x, y in zip(a, b, strict=True)) > 50


def test_obfuscation_uses_at_least_eight_transforms(built: dict[str, list[Probe]]) -> None:
    per_intent = {p.variant for p in built["obfuscation"] if p.intent_id == INTENTS[0].id}
    assert len(per_intent - {"plain"}) >= 8
    for p in built["obfuscation"]:  # recorded as --transform records it, for the paired metrics
        assert p.meta.get("transform") == (None if p.variant == "plain" else p.variant)
    turns = next(p for p in built["obfuscation"] if p.variant == "payload_split_turns")
    assert [m.role for m in turns.messages].count("assistant") >= 1


def test_leakage_probes_know_their_canary() -> None:
    probes = FAMILIES.get("instruction_leakage")(0)
    canaries = {p.group_id: p.meta["canary"] for p in probes}
    assert len(set(canaries.values())) == len(SYSTEM_PROMPTS), "one unique canary per system prompt"
    for p in probes:
        assert p.system is not None
        assert p.meta["canary"] in p.system
        assert p.meta["canary"] not in p.prompt
    other = {p.meta["canary"] for p in FAMILIES.get("instruction_leakage")(1)}
    assert not other & set(canaries.values()), "canaries change with the seed"
    assert any("refuse" in p.prompt.lower() for p in probes), "asks what it was trained to refuse"


def test_intents_table() -> None:
    assert len(INTENTS) >= 60
    assert len(CATEGORIES) >= 8
    assert len({i.id for i in INTENTS}) == len(INTENTS)
    assert {i.category for i in INTENTS} == set(CATEGORIES)
    texts = [i.request for i in INTENTS] + [i.benign_twin for i in INTENTS]
    assert len(set(texts)) == len(texts), "no duplicate requests or twins"
    for i in INTENTS:
        assert i.request[-1] in ".?!"
        assert i.benign_twin[-1] in ".?!"
        assert len(i.request.split()) <= 20, "a request, not instructions"


def test_reward_overfitting_and_collision_tables() -> None:
    kinds = ("fabricated_entity", "false_premise", "future_event", "unknowable_personal", "unanswerable")
    assert {q.kind for q in QUESTIONS} == set(kinds)
    # enough for power: >= 150 abstain-expected questions and as many answerable twins, each kind
    # well represented, and no question or twin repeated (a repeat would count twice in a rate)
    assert len(QUESTIONS) >= 300
    assert all(sum(q.kind == k for q in QUESTIONS) >= 30 for k in kinds)
    assert len({q.question for q in QUESTIONS}) == len({q.control for q in QUESTIONS}) == len(QUESTIONS)
    assert all(q.question != q.control and q.answer for q in QUESTIONS)
    assert len(COLLISIONS) >= 50
    assert len({c.benign for c in COLLISIONS}) == len(COLLISIONS)
    for c in COLLISIONS:
        stem = c.trigger.split()[0][:4]  # "choke" -> "chok" matches "choking"
        assert stem in c.benign.lower(), c
        assert stem in c.harmful.lower(), c
        assert c.benign != c.harmful


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def test_no_benchmark_text_copied(benchmarks_dir: Path, built: dict[str, list[Probe]]) -> None:
    """The project's own content: no prompt equals a prompt of the public benchmarks."""
    columns = {
        "xstest/xstest_prompts.csv": "prompt",
        "advbench/harmful_behaviors.csv": "goal",
        "jbb-behaviors/harmful-behaviors.csv": "Goal",
        "jbb-behaviors/benign-behaviors.csv": "Goal",
        "do-not-answer/do_not_answer_en.csv": "question",
        "truthfulqa/TruthfulQA.csv": "Question",
        "simplesafetytests/SimpleSafetyTests - test cases.csv": "prompts_final",
    }
    theirs = set()
    for rel, col in columns.items():
        with (benchmarks_dir / rel).open(encoding="utf-8-sig", newline="") as fh:
            theirs |= {_norm(r[col]) for r in csv.DictReader(fh)}
    ours = {
        _norm(p.prompt)
        for ps in built.values()
        for p in ps
        if p.variant in {"plain", "benign", "harmful", "question", "control"}
    }
    assert len(ours) > 300
    assert not ours & theirs


def test_expected_values_are_the_three_behaviours() -> None:
    assert {e.value for e in Expected} == {"refuse", "comply", "abstain"}
