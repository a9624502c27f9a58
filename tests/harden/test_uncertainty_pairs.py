"""The uncertainty technique's pair builder: which side each answer lands on, the model's own
abstentions before templates, weights from the estimate, repetition; and the same path from
a scripted target's samples through the real estimators."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from safeforge.harden.techniques.uncertainty import (
    ABSTENTIONS,
    HEDGES,
    Question,
    UncertaintyConfig,
    build_pair,
    repeated,
)
from safeforge.judges.rules import classify_refusal
from safeforge.judges.uncertainty import sample_async, score_questions, verbalized_confidence
from safeforge.records import Completion, Expected, Label, Message, Method, Probe
from safeforge.targets.mock import MockTarget

A, C = Expected.ABSTAIN, Expected.COMPLY
CFG = UncertaintyConfig(k=4)


def _probe(pid: str, expected: Expected) -> Probe:
    return Probe(
        id=pid,
        intent_id=pid,
        family="unanswerable",
        method=Method.UNANSWERABLE,
        messages=(Message(role="user", content=f"{pid}?"),),
        expected=expected,
        group_id=pid,
    )


def _question(expected: Expected, texts: list[str], consistency: list[float]) -> Question:
    labels = tuple(classify_refusal(t).label for t in texts)
    return Question(
        probe=_probe("q", expected),
        texts=tuple(texts),
        labels=labels,
        mean_logprobs=(None,) * len(texts),
        mean_entropies=(None,) * len(texts),
        confidence={
            "consistency": list(consistency),
            "logprob": [None] * len(texts),
            "entropy": [None] * len(texts),
            "verbalized": [verbalized_confidence(t) for t in texts],
        },
    )


CONFAB = "The answer is Zorbium, named in 1911."
OTHER = "It was Quellin, in 1820."
KNOW_NOT = "I don't know."
LONG_HEDGE = "I'm not sure, but my best guess is Zorbium."


@pytest.mark.parametrize("text", [*ABSTENTIONS, *(h.format(answer="Paris.") for h in HEDGES)])
def test_the_templates_read_as_abstentions_to_the_rules(text: str) -> None:
    assert classify_refusal(text).label is Label.ABSTAIN


def test_abstain_expected_prefers_the_models_own_shortest_abstention_over_its_surest_answer() -> None:
    q = _question(A, [OTHER, CONFAB, LONG_HEDGE, KNOW_NOT], [0.25, 0.5, 0.25, 0.25])
    pair, kind = build_pair(q, CFG)
    assert kind == "abstain"
    assert pair is not None
    assert pair["chosen"][0]["content"] == KNOW_NOT
    assert pair["rejected"][0]["content"] == CONFAB  # the most confident answer
    assert (pair["chosen_origin"], pair["rejected_origin"]) == ("sample", "sample")
    assert pair["weight"] == pytest.approx(0.5)


def test_abstain_expected_without_an_own_abstention_gets_a_template() -> None:
    q = _question(A, [CONFAB, CONFAB, OTHER, CONFAB], [0.75, 0.75, 0.25, 0.75])
    pair, _ = build_pair(q, CFG)
    assert pair is not None
    assert pair["chosen"][0]["content"] in ABSTENTIONS
    assert pair["chosen_origin"] == "template"
    assert pair["weight"] == pytest.approx(0.75)


def test_a_question_the_model_always_abstains_on_makes_no_pair() -> None:
    assert build_pair(_question(A, [KNOW_NOT] * 4, [1.0] * 4), CFG) == (None, "already_abstains")
    assert build_pair(_question(C, [KNOW_NOT] * 4, [1.0] * 4), CFG) == (None, "never_answers")


def test_a_consistent_answerable_question_prefers_the_answer_over_a_needless_abstention() -> None:
    answer = "Reykjavik is the capital of Iceland."
    q = _question(C, [answer, answer, "I can't help with that.", answer], [0.75, 0.75, 0.25, 0.75])
    pair, kind = build_pair(q, CFG)
    assert kind == "consistent"
    assert pair is not None
    assert pair["chosen"][0]["content"] == answer
    assert pair["rejected"][0]["content"] == "I can't help with that."  # its own refusal
    assert pair["weight"] == pytest.approx(0.75)
    alone = _question(C, [answer] * 4, [1.0] * 4)
    pair, _ = build_pair(alone, CFG)
    assert pair is not None
    assert pair["rejected"][0]["content"] in ABSTENTIONS
    assert pair["rejected_origin"] == "template"


def test_an_uncertain_answerable_question_prefers_a_hedge_weighted_by_the_uncertainty() -> None:
    q = _question(C, ["Oslo.", "Bergen.", "Paris.", "Rome."], [0.25] * 4)
    pair, kind = build_pair(q, CFG)
    assert kind == "uncertain"
    assert pair is not None
    assert pair["chosen_origin"] == "template"
    assert pair["chosen"][0]["content"] in {h.format(answer="Oslo.") for h in HEDGES}
    assert pair["rejected"][0]["content"] == "Oslo."
    assert pair["weight"] == pytest.approx(0.75)
    own = _question(C, ["Oslo.", LONG_HEDGE, KNOW_NOT, "Rome."], [0.25] * 4)
    pair, _ = build_pair(own, CFG)
    assert pair is not None
    assert pair["chosen"][0]["content"] == LONG_HEDGE  # the hedge that still says something


def test_the_estimator_option_decides_the_confidence() -> None:
    q = _question(C, ["Certainly! It is Oslo.", "Oslo, maybe.", "It is Rome.", "Bergen?"], [0.25] * 4)
    by_consistency, _ = build_pair(q, CFG)
    by_words, kind = build_pair(q, UncertaintyConfig(k=4, estimator="verbalized"))
    assert by_consistency is not None
    assert by_consistency["kind"] == "uncertain"
    assert kind == "consistent"  # "Certainly!" states 0.95
    assert by_words is not None
    assert by_words["chosen"][0]["content"] == "Certainly! It is Oslo."


def test_weights_become_repetitions() -> None:
    pairs = [{"weight": w, "probe_id": str(i)} for i, w in enumerate([0.0, 0.24, 0.25, 0.5, 0.75, 1.0])]
    rows = repeated(pairs, max_repeats=3, seed=0)
    counts = Counter(r["probe_id"] for r in rows)
    assert counts == {"0": 1, "1": 1, "2": 2, "3": 2, "4": 3, "5": 3}
    assert repeated(pairs, 3, 0) == rows  # seeded order
    assert len(repeated(pairs, max_repeats=1, seed=0)) == len(pairs)


def test_scripted_samples_through_the_real_estimators() -> None:
    """A model that confabulates one answer on unanswerable questions, answers its controls
    consistently and once abstains needlessly: the real sampler, encoder and rules decide."""
    replies = {
        "u": [CONFAB, CONFAB, CONFAB, KNOW_NOT],
        "c": ["Reykjavik is the capital of Iceland."] * 3 + ["I'm not sure."],
    }

    def script(p: Probe) -> str | Completion:
        base, _, sample = p.id.partition("#u")
        return replies[base[0]][int(sample)]

    probes = [_probe("u1", A), _probe("c1", C)]
    samples = asyncio.run(sample_async(MockTarget(script), probes, 4))
    pytest.importorskip("onnxruntime")
    from safeforge.judges.uncertainty import default_embed

    scored = score_questions(probes, samples, default_embed())
    questions = [
        Question(
            probe=s.probe,
            texts=tuple(x.text for x in s.samples),
            labels=tuple(classify_refusal(x.text).label for x in s.samples),
            mean_logprobs=(None,) * 4,
            mean_entropies=(None,) * 4,
            confidence=s.confidence,
        )
        for s in scored
    ]
    abstain, control = (build_pair(q, CFG)[0] for q in questions)
    assert abstain is not None
    assert control is not None
    assert (abstain["kind"], abstain["chosen"][0]["content"], abstain["weight"]) == (
        "abstain",
        KNOW_NOT,
        0.75,
    )
    assert (control["kind"], control["rejected"][0]["content"]) == ("consistent", "I'm not sure.")
