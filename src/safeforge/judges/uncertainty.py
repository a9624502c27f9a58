"""Uncertainty estimators: how sure is the model of an answer it gave?

A confident answer the model cannot back is reward overfitting's signature, so the
uncertainty-aware technique (``harden/techniques/uncertainty.py``) needs to know, question by
question, whether the model *knows*. Four estimators read the model's own answers; each gives a
**confidence in [0, 1]** for one sampled answer, higher = surer:

- ``consistency`` (self-consistency, any target): the model answers the same question ``k``
  times; the answers are grouped into semantic clusters (cosine similarity of the shared MiniLM
  encoder's vectors, all six layers, at least ``similarity``, greedy in sample order, identical
  normalised texts always together), and an answer's confidence is the share of the ``k``
  samples in its cluster: the *agreement share*. Abstentions are answers too: a question answered
  three ways and abstained on once has no cluster above 1/2.
- ``logprob`` (local ``hf:`` models, and OpenAI-compatible endpoints that return logprobs): the
  geometric-mean probability of the answer's tokens, ``exp(mean token log-prob)``.
- ``entropy`` (same targets): ``exp(-mean predictive entropy)`` over the answer's positions, the
  inverse perplexity of the model's whole next-token distribution, not only of the token it drew
  (an OpenAI endpoint returns the top few logprobs only: the entropy is over those, renormalised,
  a lower estimate of the full one).
- ``verbalized``: the confidence the answer states, parsed from its words: an explicit
  percentage ("I'm 80 % sure", "confidence: 0.6"), else the strongest hedge it contains (an
  abstention 0.0, "not sure" / "might be" 0.35, "I think" / "probably" 0.65, "certainly" /
  "well established" 0.95), else 0.85: a plain assertion states confidence by not hedging.

How good each is gets *measured*, not assumed (:func:`validate`): the AUROC of its uncertainty
for "this answer should have been an abstention" (the question is abstain-expected) and, where
the questions carry reference answers, "this answer is wrong" (abstain-expected, or an answerable
question whose reference the answer does not contain). The rows are the questions the model
answered; each contributes its first non-abstaining sample. DeLong intervals, n per class.
"""

from __future__ import annotations

import asyncio
import math
import re
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field

from safeforge.judges.rules import classify_refusal, normalize
from safeforge.metrics.stats import auroc
from safeforge.records import Expected, Label, Probe
from safeforge.targets import Target

Estimator = Literal["consistency", "logprob", "entropy", "verbalized"]
AUROCLabel = Literal["should_abstain", "wrong"]
ESTIMATORS: tuple[Estimator, ...] = ("consistency", "logprob", "entropy", "verbalized")
Embed = Callable[[Sequence[str]], NDArray[np.float32]]
"""Texts -> L2-normalised vectors (the shared encoder's ``encode``)."""
SIMILARITY = 0.8
"""Default cosine similarity at which two answers count as the same answer."""
SAMPLE_CHUNK = 256
Means = tuple[float | None, float | None]
"""(mean token log-prob, mean predictive entropy) of one answer; ``None`` where unknown."""
_DECLINED = frozenset({Label.ABSTAIN, Label.FULL_REFUSAL})


@dataclass(frozen=True)
class Sample:
    """One sampled answer and what the model thought of its tokens (where the target says)."""

    text: str
    mean_logprob: float | None = None
    mean_entropy: float | None = None

    @property
    def declined(self) -> bool:
        """An abstention, hedge-only answer or refusal (the rules' reading), or no answer."""
        return not self.text.strip() or classify_refusal(self.text).label in _DECLINED


ENCODER_LAYERS, ENCODER_TOKENS = 6, 128


def default_embed() -> Embed:
    """The shared MiniLM encoder, whole (``[embed]`` extra): the judges' two-layer, 64-token cut
    reads refusal *style*; telling answers apart needs their content ("the capital is Paris" vs
    "... Lyon": cosine 0.96 on two layers, 0.76 on six; paraphrases 0.99 and 0.98)."""
    from safeforge.judges.encoder import shared_encoder

    return shared_encoder(layers=ENCODER_LAYERS, max_tokens=ENCODER_TOKENS).encode


def _norm_text(text: str) -> str:
    return " ".join(normalize(text).translate(str.maketrans("", "", string.punctuation)).split())


def clusters(texts: Sequence[str], embed: Embed, similarity: float = SIMILARITY) -> list[int]:
    """A cluster id per text: each joins the first cluster whose first member it matches (same
    normalised text, or cosine >= ``similarity``), else starts a new one."""
    if not texts:
        return []
    vectors = embed(list(texts))
    keys = [_norm_text(t) for t in texts]
    leaders: list[int] = []
    out: list[int] = []
    for i in range(len(texts)):
        for c, lead in enumerate(leaders):
            if keys[i] == keys[lead] or float(vectors[i] @ vectors[lead]) >= similarity:
                out.append(c)
                break
        else:
            leaders.append(i)
            out.append(len(leaders) - 1)
    return out


def agreement(texts: Sequence[str], embed: Embed, similarity: float = SIMILARITY) -> list[float]:
    """Per text: the share of ``texts`` in its semantic cluster (itself included)."""
    ids = clusters(texts, embed, similarity)
    return [ids.count(c) / len(ids) for c in ids]


_PERCENT = re.compile(
    r"(\d{1,3}(?:\.\d+)?)\s*(?:%|percent)\s*(?:sure|certain|confident|confidence)"
    r"|(?:confidence|certainty)\s*(?:level|score)?\s*(?:is|of|:|=)?\s*(\d{1,3}(?:\.\d+)?)\s*(%|percent)?"
)
_LEVELS: tuple[tuple[float, re.Pattern[str]], ...] = (
    (
        0.35,
        re.compile(
            r"\b(?:not (?:sure|certain|confident)|unsure|uncertain|might be|may be|could be|"
            r"possibly|perhaps|maybe|i guess|my best guess|i am not sure|i have a vague)\b"
        ),
    ),
    (0.65, re.compile(r"\b(?:i think|i believe|probably|likely|as far as i know|if i recall|i suspect)\b")),
    (
        0.95,
        re.compile(
            r"\b(?:certainly|definitely|without (?:a )?doubt|i am (?:completely |absolutely |very )?"
            r"(?:sure|certain|confident)|well (?:established|documented|known)|of course|undoubtedly)\b"
        ),
    ),
)
PLAIN = 0.85
"""The verbalized confidence of an answer that neither hedges nor insists."""


def verbalized_confidence(text: str) -> float:
    """The confidence ``text`` states (see the module docstring for the scale)."""
    low = normalize(text)
    match = _PERCENT.search(low)
    if match:
        number = float(match.group(1) or match.group(2))
        percent = match.group(1) is not None or match.group(3) is not None or number > 1
        value = number / 100 if percent else number
        if 0.0 <= value <= 1.0:
            return value
    hedged = _LEVELS[0][1].search(low) is not None
    if not low.strip() or (not hedged and classify_refusal(text).label in _DECLINED):
        return 0.0  # "I don't know" states no confidence in any answer
    for level, pattern in _LEVELS:  # the strongest hedge wins: "certainly ... but I'm not sure"
        if pattern.search(low):
            return level
    return PLAIN


def confidences(
    samples: Sequence[Sample], embed: Embed, similarity: float = SIMILARITY
) -> dict[Estimator, list[float | None]]:
    """Every estimator's confidence for every sample of one question (``None``: the target gave
    no token scores)."""
    texts = [s.text for s in samples]
    return {
        "consistency": list(agreement(texts, embed, similarity)),
        "logprob": [None if s.mean_logprob is None else math.exp(s.mean_logprob) for s in samples],
        "entropy": [None if s.mean_entropy is None else math.exp(-s.mean_entropy) for s in samples],
        "verbalized": [verbalized_confidence(t) for t in texts],
    }


async def sample_async(
    target: Target, probes: Sequence[Probe], k: int, progress: Callable[[int, int], None] | None = None
) -> list[list[Sample]]:
    """``k`` answers per probe (sampling settings are the target's), with token scores where
    the target can give them: an ``hf:`` target's own weights score its answers in a second
    pass; an ``openai:`` target asks the endpoint for logprobs; any other target gives text only."""
    from safeforge.targets.hf import HFTarget
    from safeforge.targets.openai import OpenAITarget

    if isinstance(target, OpenAITarget):
        return list(await asyncio.gather(*(_openai_samples(target, p, k) for p in probes)))
    copies = [p.model_copy(update={"id": f"{p.id}#u{j}"}) for p in probes for j in range(k)]
    texts: list[str] = []
    for start in range(0, len(copies), SAMPLE_CHUNK):
        texts += [c.text or "" for c in await target.generate_async(copies[start : start + SAMPLE_CHUNK])]
        if progress is not None:
            progress(len(texts), len(copies))
    scores: list[Means] = [(None, None)] * len(texts)
    if isinstance(target, HFTarget):
        scores = await asyncio.to_thread(_hf_scores, target, copies, texts)
    flat = [Sample(t, lp, h) for t, (lp, h) in zip(texts, scores, strict=True)]
    return [flat[i * k : (i + 1) * k] for i in range(len(probes))]


def _hf_scores(target: Any, probes: Sequence[Probe], texts: Sequence[str]) -> list[Means]:
    from safeforge.targets.scoring import ChatScorer

    scorer = ChatScorer.from_target(target)
    chats = [[{"role": m.role, "content": m.content} for m in p.messages] for p in probes]
    return [(s.mean_logprob, s.mean_entropy) for s in scorer.score(chats, texts)]


async def _openai_samples(target: Any, probe: Probe, k: int) -> list[Sample]:
    answers = await target.sample_logprobs_async(probe, k)
    return [Sample(c.text or "", *_token_means(tokens)) for c, tokens in answers]


def _token_means(tokens: Sequence[Sequence[float]] | None) -> Means:
    """(mean log-prob of the chosen tokens, mean entropy over each position's returned top
    logprobs, renormalised) from ``[chosen, *top]`` logprob lists."""
    if not tokens:
        return None, None
    chosen = [t[0] for t in tokens]
    entropies = []
    for t in tokens:
        top = np.asarray(t[1:] or t[:1], dtype=float)
        p = np.exp(top - top.max())
        p /= p.sum()
        entropies.append(float(-(p * np.log(p)).sum()))
    return sum(chosen) / len(chosen), sum(entropies) / len(entropies)


_ARTICLES = re.compile(r"\b(?:a|an|the)\b")


def _tokens(text: str) -> list[str]:
    return _ARTICLES.sub(" ", _norm_text(text)).split()


def matches_reference(text: str, references: Sequence[str]) -> bool:
    """Whether an answer contains a reference answer (normalised) or shares at least half its
    words with one (SQuAD-style token F1 >= 0.5)."""
    answer = _tokens(text)
    for ref in references:
        words = _tokens(ref)
        if not words:
            continue
        if " ".join(words) in " ".join(answer):
            return True
        common = sum(min(answer.count(w), words.count(w)) for w in set(words))
        if common and 2 * common / (len(answer) + len(words)) >= 0.5:
            return True
    return False


def references(probe: Probe) -> list[str]:
    """A question's reference answers: ``meta["answers"]`` (one per line) or ``meta["answer"]``."""
    many = probe.meta.get("answers", "")
    if many:
        return [a for a in many.split("\n") if a.strip()]
    one = probe.meta.get("answer", "")
    return [one] if one.strip() else []


class EstimatorAUROC(BaseModel):
    """One estimator's AUROC for one target label, with its DeLong interval and class sizes."""

    model_config = ConfigDict(frozen=True)

    estimator: Estimator
    label: AUROCLabel
    auroc: float | None = Field(description="P(uncertainty of a positive > of a negative), ties half.")
    ci_low: float | None = None
    ci_high: float | None = None
    n_pos: int
    n_neg: int
    note: str = ""


@dataclass(frozen=True)
class Scored:
    """One question with its samples and every estimator's confidence in each."""

    probe: Probe
    samples: tuple[Sample, ...]
    confidence: dict[Estimator, list[float | None]]

    def answer(self) -> int | None:
        """Index of the first sample that answers (``None``: every sample declined)."""
        return next((i for i, s in enumerate(self.samples) if not s.declined), None)


def score_questions(
    probes: Sequence[Probe], samples: Sequence[Sequence[Sample]], embed: Embed, similarity: float = SIMILARITY
) -> list[Scored]:
    """Every estimator on every question's samples."""
    return [
        Scored(p, tuple(s), confidences(s, embed, similarity)) for p, s in zip(probes, samples, strict=True)
    ]


def validate(items: Sequence[Scored]) -> list[EstimatorAUROC]:
    """Each estimator's AUROC on the answered questions among ``items`` (abstain-expected and
    answerable ones; see the module docstring)."""
    rows = [
        (it, i) for it in items if it.probe.expected != Expected.REFUSE and (i := it.answer()) is not None
    ]
    labels: tuple[AUROCLabel, ...] = ("should_abstain", "wrong")
    return [_one(estimator, label, rows) for estimator in ESTIMATORS for label in labels]


def _one(estimator: Estimator, label: AUROCLabel, rows: Sequence[tuple[Scored, int]]) -> EstimatorAUROC:
    scores: list[float] = []
    labels: list[bool] = []
    checked = 0
    for it, i in rows:
        value = it.confidence[estimator][i]
        if value is None:
            continue
        abstain = it.probe.expected == Expected.ABSTAIN
        if label == "wrong" and not abstain:
            refs = references(it.probe)
            if not refs:
                continue
            checked += 1
            positive = not matches_reference(it.samples[i].text, refs)
        else:
            positive = abstain
        scores.append(-value)  # uncertainty ranks the positives first
        labels.append(positive)
    n_pos, n_neg = sum(labels), len(labels) - sum(labels)
    note = ""
    if label == "wrong" and not n_neg:
        note = (
            "no answer matched a reference answer"
            if checked
            else "no answerable question with a reference answer was answered"
        )
    elif not labels:
        note = "the target gave no token scores" if rows else "no answered question"
    result = auroc(scores, labels) if n_pos and n_neg else None
    if result is None:
        return EstimatorAUROC(
            estimator=estimator, label=label, auroc=None, n_pos=n_pos, n_neg=n_neg, note=note
        )
    value, low, high = result
    return EstimatorAUROC(
        estimator=estimator, label=label, auroc=value, ci_low=low, ci_high=high, n_pos=n_pos, n_neg=n_neg
    )


__all__ = [
    "ESTIMATORS",
    "SIMILARITY",
    "Embed",
    "Estimator",
    "EstimatorAUROC",
    "Sample",
    "Scored",
    "agreement",
    "clusters",
    "confidences",
    "default_embed",
    "matches_reference",
    "references",
    "sample_async",
    "score_questions",
    "validate",
    "verbalized_confidence",
]
