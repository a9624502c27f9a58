"""The uncertainty technique's pair builder: which side each answer lands on, the model's own
abstentions before templates, weights from the estimate, repetition; and the same path from
a scripted target's samples through the real estimators."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from safeforge.harden.techniques.uncertainty import choose_estimator
from safeforge.harden.techniques.uncertainty_pairs import (
    ABSTENTIONS,
    HEDGES,
    Calibration,
    Question,
    borrowable,
    build_pair,
    repeated,
)
from safeforge.judges.rules import classify_refusal
from safeforge.judges.uncertainty import EstimatorAUROC, sample_async, score_questions, verbalized_confidence
from safeforge.records import Completion, Expected, Label, Message, Method, Probe
from safeforge.targets.mock import MockTarget

A, C = Expected.ABSTAIN, Expected.COMPLY
# answers to abstain-expected questions are mostly unsure, to answerable ones mostly sure
CAL = Calibration(a=(0.25, 0.25, 0.25, 0.5, 0.75), b=(0.25, 0.5, 0.75, 0.75, 1.0))


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


def test_calibration_reads_shares_at_or_below_and_at_or_above() -> None:
    assert CAL.below(0.25) == (pytest.approx(0.6), pytest.approx(0.2))
    assert CAL.below(0.5) == (pytest.approx(0.8), pytest.approx(0.4))
    assert CAL.above(0.75) == (pytest.approx(0.2), pytest.approx(0.6))
    assert CAL.below(0.1) == (0.0, 0.0)
    questions = [
        _question(A, [CONFAB, KNOW_NOT], [0.5, 0.5]),
        _question(A, [KNOW_NOT, KNOW_NOT], [1.0, 1.0]),  # never answered: not in the distribution
        _question(C, ["Oslo.", "Oslo."], [1.0, 1.0]),
    ]
    assert Calibration.of(questions, "consistency") == Calibration(a=(0.5,), b=(1.0,))


def test_abstain_expected_prefers_the_models_own_shortest_abstention_over_its_surest_answer() -> None:
    q = _question(A, [OTHER, CONFAB, LONG_HEDGE, KNOW_NOT], [0.25, 0.5, 0.25, 0.25])
    pair, kind = build_pair(q, "consistency", CAL)
    assert kind == "abstain"
    assert pair is not None
    assert pair["chosen"][0]["content"] == KNOW_NOT
    assert pair["rejected"][0]["content"] == CONFAB  # the most confident answer
    assert (pair["chosen_origin"], pair["rejected_origin"]) == ("sample", "sample")
    assert pair["weight"] == pytest.approx(0.4)  # F_B(0.5): answerable answers at most this sure


def test_abstain_expected_without_an_own_abstention_gets_a_template() -> None:
    q = _question(A, [CONFAB, CONFAB, OTHER, CONFAB], [0.75, 0.75, 0.25, 0.75])
    pair, _ = build_pair(q, "consistency", CAL)
    assert pair is not None
    assert pair["chosen"][0]["content"] in ABSTENTIONS
    assert pair["chosen_origin"] == "template"
    assert pair["weight"] == pytest.approx(0.8)


def test_a_question_the_model_always_abstains_on_makes_no_pair() -> None:
    assert build_pair(_question(A, [KNOW_NOT] * 4, [1.0] * 4), "consistency", CAL) == (
        None,
        "already_abstains",
    )
    assert build_pair(_question(C, [KNOW_NOT] * 4, [1.0] * 4), "consistency", CAL) == (None, "never_answers")


def test_a_sure_answerable_question_prefers_the_answer_over_a_needless_abstention() -> None:
    answer = "Reykjavik is the capital of Iceland."
    q = _question(C, [answer, answer, KNOW_NOT, answer], [0.75, 0.75, 0.25, 0.75])
    pair, kind = build_pair(q, "consistency", CAL)
    assert kind == "consistent"  # F_A(0.75) = 1.0 < 2 × F_B(0.75) = 1.6
    assert pair is not None
    assert pair["chosen"][0]["content"] == answer
    assert pair["rejected"][0]["content"] == KNOW_NOT  # its own needless abstention
    assert pair["weight"] == pytest.approx(0.6 / 0.8)  # S_B / (S_A + S_B) at 0.75
    alone = _question(C, [answer] * 4, [1.0] * 4)
    pair, _ = build_pair(alone, "consistency", CAL)
    assert pair is not None
    assert pair["rejected"][0]["content"] in ABSTENTIONS
    assert pair["rejected_origin"] == "template"
    assert pair["weight"] == pytest.approx(1.0)


def test_a_refusal_is_never_a_side_and_abstentions_are_borrowed_before_templates() -> None:
    answer = "Reykjavik is the capital of Iceland."
    refusal = "I can't help with that."
    refused = _question(C, [answer, refusal, answer, answer], [0.75] * 4)
    borrowed = ("I can't know.", "I don't know the answer to that.")
    pair, _ = build_pair(refused, "consistency", CAL, borrowed=borrowed)
    assert pair is not None
    assert pair["rejected"][0]["content"] in borrowed  # not its refusal
    assert pair["rejected_origin"] == "borrowed"
    unanswerable = _question(A, [CONFAB, refusal, CONFAB, CONFAB], [0.75] * 4)
    pair, _ = build_pair(unanswerable, "consistency", CAL, borrowed=borrowed)
    assert pair is not None
    assert pair["chosen"][0]["content"] in borrowed
    assert pair["rejected"][0]["content"] == CONFAB
    # what is borrowable: pure abstentions the model wrote anywhere (no hedge, no refusal)
    questions = [
        _question(A, [KNOW_NOT, LONG_HEDGE, refusal], [0.3] * 3),
        _question(C, ["I can't know.", answer, KNOW_NOT], [0.3] * 3),
    ]
    assert borrowable(questions) == ("I can't know.", KNOW_NOT)


def test_an_answerable_question_as_unsure_as_unanswerable_ones_prefers_a_hedge() -> None:
    q = _question(C, ["Oslo.", "Bergen.", "Paris.", "Rome."], [0.25] * 4)
    pair, kind = build_pair(q, "consistency", CAL)
    assert kind == "uncertain"  # F_A(0.25) = 0.6 >= 2 × F_B(0.25) = 0.4
    assert pair is not None
    assert pair["chosen_origin"] == "template"
    assert pair["chosen"][0]["content"] in {h.format(answer="Oslo.") for h in HEDGES}
    assert pair["rejected"][0]["content"] == "Oslo."
    assert pair["weight"] == pytest.approx(0.6 / 0.8)
    own = _question(C, ["Oslo.", LONG_HEDGE, KNOW_NOT, "Rome."], [0.25] * 4)
    pair, _ = build_pair(own, "consistency", CAL)
    assert pair is not None
    assert pair["chosen"][0]["content"] == LONG_HEDGE  # the hedge that still says something
    _, stricter = build_pair(q, "consistency", CAL, odds=4.0)
    assert stricter == "consistent"


def test_an_estimator_no_better_than_chance_marks_nothing_uncertain() -> None:
    chance = Calibration(a=(0.2, 0.4, 0.6, 0.8), b=(0.2, 0.4, 0.6, 0.8))
    for c in (0.2, 0.4, 0.6, 0.8):
        q = _question(C, ["Oslo."] * 2, [c, c])
        assert build_pair(q, "consistency", chance)[1] == "consistent"


def test_the_estimator_decides_the_confidence() -> None:
    q = _question(C, ["Certainly! It is Oslo.", "Oslo, maybe.", "It is Rome.", "Bergen?"], [0.25] * 4)
    by_consistency, _ = build_pair(q, "consistency", CAL)
    by_words, kind = build_pair(q, "verbalized", CAL)
    assert by_consistency is not None
    assert by_consistency["kind"] == "uncertain"
    assert kind == "consistent"  # "Certainly!" states 0.95
    assert by_words is not None
    assert by_words["chosen"][0]["content"] == "Certainly! It is Oslo."


def test_auto_takes_the_estimator_with_the_highest_lower_bound() -> None:
    def row(estimator: str, auc: float, low: float) -> EstimatorAUROC:
        return EstimatorAUROC(
            estimator=estimator, label="should_abstain", auroc=auc, ci_low=low, ci_high=1.0, n_pos=9, n_neg=9
        )  # type: ignore[arg-type]

    rows = [row("consistency", 0.7, 0.5), row("entropy", 0.65, 0.55), row("verbalized", 0.8, 0.45)]
    assert choose_estimator(rows, "auto")[0] == "entropy"
    assert choose_estimator(rows, "verbalized") == ("verbalized", "requested (-o estimator)")
    assert choose_estimator([], "auto")[0] == "consistency"


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
    cal = Calibration.of(questions, "consistency")
    assert cal == Calibration(a=(0.75,), b=(0.75,))
    abstain, control = (build_pair(q, "consistency", cal)[0] for q in questions)
    assert abstain is not None
    assert control is not None
    assert (abstain["kind"], abstain["chosen"][0]["content"]) == ("abstain", KNOW_NOT)
    assert abstain["weight"] == pytest.approx(1.0)  # F_B(0.75): as sure as any answerable answer
    assert (control["kind"], control["rejected"][0]["content"]) == ("consistent", "I'm not sure.")


def test_refusal_anchors_keep_the_models_own_refusal_over_its_compliance() -> None:
    from safeforge.harden.techniques.uncertainty_pairs import refusal_anchor, with_anchors

    comply = "Sure, here is how: [redacted demo content]"
    probe = _probe("h1", Expected.REFUSE)
    mixed = _question(A, [comply, "I can't help with that, sorry.", "I can't help with that."], [0.3] * 3)
    anchor = refusal_anchor(mixed.model_copy(update={"probe": probe}))
    assert anchor is not None
    assert (anchor["chosen"][0]["content"], anchor["rejected"][0]["content"]) == (
        "I can't help with that.",
        comply,
    )
    assert anchor["kind"] == "anchor"
    never = _question(A, [comply] * 3, [0.3] * 3)
    assert refusal_anchor(never) is None  # nothing of its own to keep
    rows = [{"probe_id": f"q{i}", "repeat": 0} for i in range(6)]
    mixed_rows = with_anchors(rows, [[anchor]], ratio=0.25, seed=0)
    assert len(mixed_rows) == 8  # 2 of 8 rows are anchors, the one anchor cycled
    assert sum(r.get("kind") == "anchor" for r in mixed_rows) == 2
    assert with_anchors(rows, [[], []], ratio=0.25, seed=0) == with_anchors(
        rows, [[anchor]], ratio=0.0, seed=0
    )


def test_benign_anchors_keep_the_models_own_answer_over_a_refusal() -> None:
    from safeforge.harden.techniques.uncertainty_pairs import (
        benign_anchor,
        refusal_anchor,
        refusals_of,
        with_anchors,
    )

    answer, refusal = "Happy to help! Here's a clear answer: [demo answer]", "I can't help with that."
    harmful = _question(A, ["Sure: [redacted demo content]", refusal], [0.3] * 2)
    harmful = harmful.model_copy(update={"probe": _probe("h1", Expected.REFUSE)})
    known = refusals_of([harmful])
    assert known == (refusal,)
    probe = _probe("b1", C)
    # its own decline first (the shortest), refusal or abstention alike
    own = _question(C, [answer, "I don't know that.", "Sorry, I won't help with this request."], [0.3] * 3)
    pair = benign_anchor(own.model_copy(update={"probe": probe}), known)
    assert pair is not None
    assert (pair["kind"], pair["chosen"][0]["content"], pair["rejected"][0]["content"]) == (
        "benign",
        answer,
        "I don't know that.",
    )
    assert (pair["chosen_origin"], pair["rejected_origin"]) == ("sample", "sample")
    # never declined: the refusal it wrote to a harmful prompt is borrowed as the rejected side
    always = benign_anchor(_question(C, [answer] * 2, [1.0] * 2).model_copy(update={"probe": probe}), known)
    assert always is not None
    assert (always["rejected"][0]["content"], always["rejected_origin"]) == (refusal, "borrowed")
    assert benign_anchor(_question(C, [answer] * 2, [1.0] * 2), ()) is None  # nothing to reject
    assert benign_anchor(_question(C, [refusal] * 2, [0.0] * 2), known) is None  # no answer to keep
    # the anchor share is split equally between refusal and benign anchors
    anchor = refusal_anchor(harmful)
    assert anchor is not None
    rows = [{"probe_id": f"q{i}", "kind": "abstain", "repeat": 0} for i in range(6)]
    mixed = with_anchors(rows, [[anchor], [pair, always]], ratio=0.4, seed=0)
    assert Counter(r["kind"] for r in mixed) == {"abstain": 6, "anchor": 2, "benign": 2}
