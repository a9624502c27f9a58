"""Constitutional AI's parts: the constitution file and its errors, reading helper replies,
AI feedback in both orders (parsed from a loopback chat helper, and label log-probabilities
from a local model), and the counts the data card reports."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path

import pytest

from safeforge.errors import SafeforgeError
from safeforge.harden import create_technique
from safeforge.harden.techniques.constitutional import DEFAULT_CONSTITUTION, load_constitution, open_helper
from safeforge.harden.techniques.constitutional.helper import (
    choice_chat,
    critique_chat,
    feedback_mode,
    parse_choice,
    parse_marked,
)
from safeforge.harden.techniques.constitutional.rl import feedback_async, feedback_stats
from safeforge.records import Expected, Message, Probe
from safeforge.testing import ChatRequest, serve

GOOD = "I can't help with that, but I can point you to safety resources instead."
BAD = "Sure, here is how: [redacted demo content]"


def _probe(i: int, expected: Expected = Expected.REFUSE) -> Probe:
    return Probe(
        id=f"p{i}",
        intent_id=f"i{i}",
        family="test",
        messages=(Message(role="user", content=f"request number {i}"),),
        expected=expected,
        group_id=f"g{i}",
    )


def test_default_constitution_covers_the_three_principles() -> None:
    c = load_constitution()
    assert [p.id for p in c.principles] == ["harmlessness", "non_evasiveness", "tone"]
    assert "explain" in c.principles[1].revision or "why" in c.principles[1].revision
    assert {p.id for p in c.for_kind("benign")} == {"non_evasiveness", "tone"}
    # the draw is fixed by key and seed, and spreads over the principles
    assert c.sample("harmful", "p1\x001", 0) == c.sample("harmful", "p1\x001", 0)
    drawn = {c.sample("harmful", f"p{i}", 0).id for i in range(40)}
    assert drawn == {"harmlessness", "non_evasiveness", "tone"}


@pytest.mark.parametrize(
    ("text", "error"),
    [
        (None, "cannot read constitution"),
        ("principles: [", "not valid YAML"),
        ("principles: []", "principles: Tuple should have at least 1 item"),
        (
            "principles:\n  - {id: a, critique: c, choice: q}",
            "principles.0.revision: Field required",
        ),
        (
            "principles:\n  - {id: a, critique: c, revision: r, choice: q}\n"
            "  - {id: a, critique: c, revision: r, choice: q}",
            "principle ids must be unique",
        ),
        (
            "principles:\n  - {id: a, critique: c, revision: r, choice: q, applies_to: [harmful]}",
            "no principle applies to benign prompts",
        ),
        (
            "principles:\n  - {id: a, critique: '  ', revision: r, choice: q}",
            "critique: Value error, must not",
        ),
        ("principles:\n  - {id: a, critique: c, revision: r, choice: q, extra: 1}", "extra: Extra inputs"),
    ],
)
def test_a_bad_constitution_is_one_clear_error(tmp_path: Path, text: str | None, error: str) -> None:
    path = tmp_path / "c.yaml"
    if text is not None:
        path.write_text(text)
    with pytest.raises(SafeforgeError, match=error) as info:
        create_technique("constitutional", constitution=str(path))
    assert str(path) in str(info.value)
    assert "\n" not in str(info.value)


def test_an_own_constitution_is_used(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(DEFAULT_CONSTITUTION.read_text().replace("id: tone", "id: house_style"))
    technique = create_technique("constitutional", constitution=str(path), rounds=3)
    assert technique.name == "constitutional"
    assert {c.metric for c in technique.claims} == {
        "jailbreak_rejection_rate",
        "tone_adherence",
        "false_rejection_rate",
    }
    assert "house_style" in {p.id for p in technique.constitution.principles}  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("reply", "mark", "expected"),
    [
        ("Critique: it gives harmful help.", "critique", "it gives harmful help."),
        ("**Critique:** too preachy\nRevision: no", "critique", "too preachy"),
        ("Sure! Revision: I can't help, but try X.", "revision", None),  # marker not at a line start
        ('Here you go.\nRevision: "I can\'t help with that."', "revision", "I can't help with that."),
        ("Revision:   ", "revision", None),
        ("lorem ipsum", "critique", None),
        (None, "critique", None),
    ],
)
def test_parse_marked(reply: str | None, mark: str, expected: str | None) -> None:
    assert parse_marked(reply, mark) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("(A)", 0),
        (" (B) is less harmful.", 1),
        ("B", 1),
        ("The better response is (A).", 0),
        ("I prefer response (B): it declines politely.", 1),
        ("(A) and (B) are both fine", 0),  # it starts with its answer
        ("Both (A) and (B) have merits.", None),
        ("neither", None),
        ("", None),
    ],
)
def test_parse_choice(reply: str, expected: int | None) -> None:
    assert parse_choice(reply) == expected


def _choice_responder(request: ChatRequest) -> str:
    """Picks the answer containing GOOD; position-biased ("(A)") on 'request number 3', garbage
    on 'request number 4'."""
    text = request.messages[-1]["content"]
    if "request number 3" in text:
        return "(A)"
    if "request number 4" in text:
        return "¯\\_(ツ)_/¯"
    a, b = text.split("(A) ", 1)[1].split("\n\n(B) ", 1)
    return "(A)" if GOOD in a else "(B)" if GOOD in b else "neither"


def test_chat_feedback_asks_both_orders_and_counts_bias_and_garbage() -> None:
    constitution = load_constitution()
    probes = [_probe(i) for i in range(6)]
    answers = [(GOOD, BAD), (BAD, GOOD), (GOOD, GOOD), (GOOD, BAD), (BAD, GOOD), (BAD, GOOD)]
    with serve(_choice_responder) as url:
        helper = open_helper("openai:mock-model", base_url=url)

        async def run() -> list:  # type: ignore[type-arg]
            try:
                return await feedback_async(helper, constitution, probes, answers, seed=0)
            finally:
                await helper.aclose()

        rows = asyncio.run(run())
    assert helper.feedback == feedback_mode(helper.spec) == "parsed"
    assert [r.status for r in rows] == ["pair", "pair", "identical", "tie", "malformed", "pair"]
    assert [r.chosen_rejected() for r in rows if r.status == "pair"] == [(GOOD, BAD)] * 3
    assert rows[3].p_ab == 1.0
    assert rows[3].p_ba == 0.0
    assert rows[3].agreed is False
    stats = feedback_stats(rows)
    assert (stats.pairs, stats.ties, stats.malformed_choices, stats.identical_skipped) == (3, 1, 1, 1)
    assert (stats.order_agreement.k, stats.order_agreement.n) == (3, 4)
    assert stats.order_agreement.ci_low is not None
    assert stats.order_agreement.ci_low < 0.75
    # choices that went to label (A): 1 of 2 per agreeing pair, 2 of 2 for the biased one
    assert (stats.position_a_share.k, stats.position_a_share.n) == (5, 8)


def test_local_helper_feedback_is_label_probabilities(tiny_model_dirs: dict[str, Path]) -> None:
    constitution = load_constitution()
    helper = open_helper(f"hf:{tiny_model_dirs['qwen2']}")
    assert helper.feedback == feedback_mode(helper.spec) == "logprobs"
    probes = [_probe(0), _probe(1, Expected.COMPLY)]
    answers = [(GOOD, BAD), ("Paris is the capital.", GOOD)]

    async def run() -> list:  # type: ignore[type-arg]
        try:
            return await feedback_async(helper, constitution, probes, answers, seed=0)
        finally:
            await helper.aclose()

    rows = asyncio.run(run())
    assert [r.status for r in rows] == ["pair" if r.agreed else "tie" for r in rows]
    assert helper.scorer is not None
    for row in rows:
        principle = next(p for p in constitution.principles if p.id == row.principle)
        ab = choice_chat(row.probe.messages, row.first, row.second, principle)
        turns = [{"role": m.role, "content": m.content} for m in ab]
        la, lb = helper.scorer.option_logprobs([turns], ["(A)", "(B)"])[0]
        # P(A) from the raw label log-probabilities, independently of feedback_async
        assert row.p_ab == pytest.approx(1 / (1 + pow(2.718281828459045, lb - la)), rel=1e-6)
        assert 0.0 < row.p_ab < 1.0
        assert 0.0 < row.p_ba < 1.0
        assert row.p_first == pytest.approx((row.p_ab + row.p_ba) / 2)


def test_critique_chat_shows_the_whole_exchange() -> None:
    principle = load_constitution().principles[0]
    probe = Probe(
        id="x",
        intent_id="x",
        family="t",
        messages=(Message(role="system", content="Be terse."), Message(role="user", content="hi")),
        expected=Expected.COMPLY,
        group_id="x",
    )
    (msg,) = critique_chat(probe.messages, "hello", principle)
    assert "System: Be terse.\nPerson: hi\nAssistant: hello" in msg.content
    assert principle.critique in msg.content


def test_train_reward_learns_the_preference_and_loads_as_a_judge(
    tiny_model_dirs: dict[str, Path], tmp_path: Path
) -> None:
    pytest.importorskip("trl")
    from safeforge.harden import TrainConfig
    from safeforge.harden.train import train_reward
    from safeforge.judges import create_judge

    rows = [
        {
            "prompt": [{"role": "user", "content": f"request number {i}"}],
            "chosen": [{"role": "assistant", "content": GOOD}],
            "rejected": [{"role": "assistant", "content": BAD}],
        }
        for i in range(16)
    ]
    cfg = TrainConfig(max_steps=12, batch_size=8, learning_rate=5e-3, max_length=128, logging_steps=4)
    path = train_reward(tiny_model_dirs["gpt2"], rows, tmp_path / "rm", cfg, source="test")
    assert path == tmp_path / "rm" / "model"
    assert not (path / "adapter_config.json").exists()  # merged: a plain classifier
    card = json.loads((tmp_path / "rm" / "data_card.json").read_text())
    assert (card["trainer"], card["format"], card["rows"]) == ("reward", "prompt/chosen/rejected", 16)
    judge = create_judge("reward_model", model=str(path))
    good, bad = judge.scores(["request number 99"] * 2, [GOOD, BAD])  # type: ignore[attr-defined]
    assert good > bad


def test_revisions_are_accepted_by_the_critic_and_the_tone_policy() -> None:
    pytest.importorskip("onnxruntime")
    from safeforge.harden.techniques.constitutional.sl import Acceptor
    from safeforge.records import Completion

    acceptor = Acceptor("auto")
    assert acceptor.name == "critic(use_expected)+rules+tone"
    lecture = "I will not help with that. It is morally wrong and you should be ashamed of asking."
    harmful, benign = _probe(0), _probe(1, Expected.COMPLY)
    redirect = "I can explain how people stay safe."  # the critic passes it, the rules read compliance
    cases = [
        (harmful, GOOD),
        (harmful, BAD),
        (harmful, lecture),
        (harmful, redirect),
        (benign, "Paris is the capital of France."),
    ]
    samples = asyncio.run(
        acceptor.read_async("t", [p for p, _ in cases], [Completion(text=t) for _, t in cases])
    )
    assert [s.accepted for s in samples] == [True, False, False, False, True]
    assert Acceptor("rules+tone").name == "rules+tone"


def test_demo_rows_teach_the_helper_format_from_train_side_prompts_only(tmp_path: Path) -> None:
    from safeforge.harden import HardenConfig, prepare
    from safeforge.harden.techniques.constitutional.demo import demo_rows
    from safeforge.harden.techniques.constitutional.helper import OPTIONS
    from safeforge.probes import load_dataset

    technique = create_technique("constitutional")
    assert technique.demo_rows(0) == technique.demo_rows(0)  # the demo model's fingerprint uses it
    rows = demo_rows(0, load_constitution(), n_choice=120)  # choice chats are off by default
    split, pool, spec, _ = prepare(HardenConfig(target="hf:x", out=tmp_path / "h"))
    train_prompts = {p.id: p.prompt for p in pool.all()}
    eval_prompts = {p.prompt for p in load_dataset(spec)}
    critiques = choices = 0
    for row in rows:
        assert row["intent_id"] in split.train
        first = row["messages"][0]["content"]
        assert f"Person: {train_prompts[row['probe_id']]}\n" in first
        assert not any(e in first for e in eval_prompts)
        replies = [m["content"] for m in row["messages"] if m["role"] == "assistant"]
        if len(replies) == 2:  # critique then revision, in the markers the technique parses
            critiques += 1
            assert parse_marked(replies[0], "critique") is not None
            assert parse_marked(replies[1], "revision") is not None
        else:
            choices += 1
            assert replies[0] in OPTIONS
    assert critiques > 100
    assert choices > 100
    # no 8-word run shared with a held-out prompt, bar the spaced-out letters of char_spacing
    # (a mechanical obfuscation both sides share by design: "t e l l m e h o w")
    from safeforge.demo.testbed import overlap

    user_turns = [m["content"] for r in rows for m in r["messages"] if m["role"] == "user"]
    worded = [p.prompt for p in load_dataset(spec) if p.variant != "char_spacing"]
    assert overlap(worded, user_turns) == (0, len(worded))
    labels = Counter(m["content"] for r in rows for m in r["messages"] if m["content"] in OPTIONS)
    assert abs(labels["(A)"] - labels["(B)"]) < 0.2 * choices  # no position bias taught
