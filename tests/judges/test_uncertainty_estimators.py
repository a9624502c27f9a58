"""Uncertainty estimators: clustering, verbalized confidence, reference matching, token scores
from a tiny HF model and from an OpenAI-compatible endpoint's logprobs, and the AUROC report
checked against pair counting."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

from safeforge.judges.uncertainty import (
    ESTIMATORS,
    Sample,
    Scored,
    agreement,
    clusters,
    matches_reference,
    sample_async,
    score_questions,
    validate,
    verbalized_confidence,
)
from safeforge.records import Expected, Message, Method, Probe
from safeforge.targets import Generation, TargetOptions, create_target
from safeforge.targets.openai import OpenAITarget
from safeforge.testing import ChatRequest, OpenAIServer


def _probe(i: int, expected: Expected = Expected.ABSTAIN, **meta: str) -> Probe:
    return Probe(
        id=f"q{i}",
        intent_id=f"q{i}",
        family="unanswerable",
        method=Method.UNANSWERABLE,
        messages=(Message(role="user", content=f"question {i}?"),),
        expected=expected,
        group_id=f"q{i}",
        meta=meta,
    )


def _axis_embed(texts: Sequence[str]) -> NDArray[np.float32]:
    """Each text's first word picks a unit vector: same first word = same answer."""
    words = sorted({t.split()[0] for t in texts})
    out = np.zeros((len(texts), len(words)), dtype=np.float32)
    for i, t in enumerate(texts):
        out[i, words.index(t.split()[0])] = 1.0
    return out


def test_clusters_are_greedy_and_identical_texts_always_agree() -> None:
    texts = ["paris a", "lyon b", "paris c", "nice d", "Lyon, b!"]
    # "Lyon, b!" has its own first word but the same normalised text as "lyon b"
    assert clusters(texts, _axis_embed) == [0, 1, 0, 2, 1]
    assert agreement(texts, _axis_embed) == pytest.approx([0.4, 0.4, 0.4, 0.2, 0.4])
    assert agreement(["x"], _axis_embed) == [1.0]


def test_the_real_encoder_groups_paraphrases_and_splits_different_answers() -> None:
    pytest.importorskip("onnxruntime")
    from safeforge.judges.uncertainty import default_embed

    texts = [
        "The capital of France is Paris.",
        "Paris is the capital of France.",
        "The capital of France is Lyon.",
        "I don't know.",
    ]
    ids = clusters(texts, default_embed())
    assert ids[0] == ids[1]
    assert len({ids[0], ids[2], ids[3]}) == 3


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I'm 80% sure it is Paris.", 0.8),
        ("Confidence: 0.3. It is Lyon.", 0.3),
        ("My confidence is 65 percent.", 0.65),
        ("I don't know.", 0.0),
        ("", 0.0),
        ("I'm not sure, but I think it may be Paris.", 0.35),  # the strongest hedge wins
        ("I think it is Paris.", 0.65),
        ("Certainly! It is Paris.", 0.95),
        ("It is Paris.", 0.85),
    ],
)
def test_verbalized_confidence(text: str, expected: float) -> None:
    assert verbalized_confidence(text) == pytest.approx(expected)


def test_reference_matching_by_containment_or_token_overlap() -> None:
    assert matches_reference("I believe the answer is Reykjavik.", ["Reykjavik"])
    assert matches_reference(
        "Natural selection makes species evolve", ["Species evolve through natural selection."]
    )
    assert not matches_reference("It is Oslo.", ["Reykjavik"])
    assert not matches_reference("anything", [""])


def _scored(probe: Probe, confidence: float, text: str = "It is so.") -> Scored:
    values: list[float | None] = [confidence]
    return Scored(
        probe,
        (Sample(text, mean_logprob=math.log(confidence)),),
        {"consistency": values, "logprob": values, "entropy": [None], "verbalized": values},
    )


def test_auroc_report_counts_pairs_and_handles_missing_scores_and_references() -> None:
    abstain = [0.2, 0.4, 0.4, 0.9]  # confidences of answers to abstain-expected questions
    answerable = [0.4, 0.7, 0.8, 0.95, 0.99]
    items = [_scored(_probe(i), c) for i, c in enumerate(abstain)]
    items += [_scored(_probe(10 + i, Expected.COMPLY), c) for i, c in enumerate(answerable)]
    declined = Scored(_probe(99), (Sample("I don't know."),), {e: [0.0] for e in ESTIMATORS})
    report = {(r.estimator, r.label): r for r in validate([*items, declined])}
    pairs = [(a, b) for a in abstain for b in answerable]
    by_hand = sum(1.0 if a < b else 0.5 if a == b else 0.0 for a, b in pairs) / len(pairs)
    row = report[("consistency", "should_abstain")]
    assert row.auroc == pytest.approx(by_hand)
    assert (row.n_pos, row.n_neg) == (4, 5)  # the declined question is not an answer
    assert row.ci_low is not None
    assert row.ci_low <= row.auroc <= (row.ci_high or 0)
    assert report[("entropy", "should_abstain")].auroc is None
    assert "no token scores" in report[("entropy", "should_abstain")].note
    assert report[("consistency", "wrong")].auroc is None  # no reference answers anywhere


def test_wrong_label_uses_reference_answers() -> None:
    right = _scored(_probe(1, Expected.COMPLY, answer="Reykjavik"), 0.9, "It is Reykjavik.")
    wrong = _scored(_probe(2, Expected.COMPLY, answer="Reykjavik"), 0.3, "It is Oslo.")
    unknowable = _scored(_probe(3), 0.6)
    row = next(
        r for r in validate([right, wrong, unknowable]) if (r.estimator, r.label) == ("logprob", "wrong")
    )
    assert (row.n_pos, row.n_neg) == (2, 1)
    assert row.auroc == pytest.approx(1.0)


def test_hf_samples_carry_token_scores_and_greedy_answers_are_likelier(
    tiny_model_dirs: dict[str, Path],
) -> None:
    probes = [_probe(i) for i in range(3)]

    async def draw(temperature: float) -> list[list[Sample]]:
        options = TargetOptions(
            batch_size=8, generation=Generation(max_new_tokens=8, temperature=temperature, seed=1)
        )
        target: Any = create_target(f"hf:{tiny_model_dirs['qwen2']}", options)
        try:
            return await sample_async(target, probes, 2)
        finally:
            await target.aclose()

    greedy, sampled = asyncio.run(draw(0.0)), asyncio.run(draw(1.5))
    assert [len(s) for s in greedy] == [2, 2, 2]
    for row in greedy + sampled:
        for s in row:
            assert s.mean_logprob is not None
            assert s.mean_logprob <= 0.0
            assert s.mean_entropy is not None
            assert s.mean_entropy >= 0.0
    mean = lambda rows: np.mean([s.mean_logprob for row in rows for s in row])  # noqa: E731
    assert mean(greedy) > mean(sampled)  # the argmax path is the likelier one
    scored = score_questions(probes, greedy, _axis_embed)
    assert scored[0].confidence["logprob"][0] == pytest.approx(math.exp(greedy[0][0].mean_logprob or 0))


def _logprob_reply(request: ChatRequest) -> dict[str, Any]:
    assert request.body["logprobs"] is True
    tokens = [
        {
            "token": "Par",
            "logprob": math.log(0.5),
            "top_logprobs": [{"logprob": math.log(0.5)}, {"logprob": math.log(0.5)}],
        },
        {"token": "is", "logprob": math.log(0.25), "top_logprobs": [{"logprob": math.log(0.25)}]},
    ]
    choice = {"index": 0, "message": {"role": "assistant", "content": "Paris"}, "finish_reason": "stop"}
    return {"choices": [{**choice, "logprobs": {"content": tokens}}], "usage": {}}


def test_openai_samples_read_the_endpoints_logprobs() -> None:
    server = OpenAIServer(_logprob_reply)
    with server.running() as url:
        options = TargetOptions(
            base_url=url, api_key_env="SF_TEST_KEY", generation=Generation(seed=7, temperature=1.0)
        )
        target = OpenAITarget("m", options, backoff_base_s=0.01)

        async def main() -> list[list[Sample]]:
            try:
                return await sample_async(target, [_probe(1)], 3)
            finally:
                await target.aclose()

        samples = asyncio.run(main())[0]
    assert [s.text for s in samples] == ["Paris"] * 3
    assert samples[0].mean_logprob == pytest.approx((math.log(0.5) + math.log(0.25)) / 2)
    # entropy over the returned top logprobs, renormalised: ln 2 at the first token, 0 at the second
    assert samples[0].mean_entropy == pytest.approx(math.log(2) / 2)
    assert sorted(r.body["seed"] for r in server.requests) == [7, 8, 9]
