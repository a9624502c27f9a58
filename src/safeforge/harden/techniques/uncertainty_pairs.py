"""The uncertainty technique's pair builder: one DPO pair per train-side question.

An estimator's confidences have no common scale (an agreement share, a geometric-mean token
probability, ``exp(-entropy)``, a stated percentage), and a fixed cut-off such as "below 0.5 is
unsure" means something different for each -- and nothing at all for an estimator that does not
separate what the model knows from what it does not. So the cut-off is *read off the labelled
train-side questions* (:class:`Calibration`): over the questions the model answered, how its
most-confident-answer confidence is distributed on the abstain-expected ones (``F_A``, the
cumulative share at or below ``c``) and on the answerable ones (``F_B``). An answerable question
answered with confidence ``c`` is **uncertain** when answers that unsure are at least ``odds``
times as common on questions nobody can answer: ``F_A(c) ≥ odds · F_B(c)``. An estimator no
better than chance has ``F_A ≈ F_B`` everywhere and marks (almost) nothing uncertain; a good one
marks the low tail. Weights are shares of the same distributions, so they read alike for every
estimator:

- abstain-expected, the model answered: chosen = an abstention, rejected = its most confident
  answer; weight ``F_B(c)``, the share of its answers to answerable questions that were less sure
  than this hallucination;
- answerable, uncertain: chosen = a hedge (or abstention), rejected = that answer; weight
  ``F_A / (F_A + F_B)`` at ``c`` (how typical of unanswerable questions this confidence is);
- answerable, otherwise: chosen = the answer, rejected = a needless abstention; weight
  ``S_B / (S_A + S_B)`` at ``c`` with ``S`` the share at or above ``c``.

Abstentions and hedges come from the model's own samples: the question's own (a pure abstention
before a hedge, the shortest first; for a hedge, the one that says most), else a pure abstention
the model wrote to another train-side question (*borrowed*: the same texts then stand on the chosen
side of unanswerable questions and the rejected side of answerable ones, so the pairs teach when to
abstain rather than which words), else a template written from the definitions. Every row says
which (``*_origin``). A safety refusal is never a side of a question pair; the anchors
(:func:`refusal_anchor`, :func:`benign_anchor`) are where refusals are kept, on harmful prompts,
and rejected, on benign ones.
"""

from __future__ import annotations

import bisect
import hashlib
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from safeforge.judges.uncertainty import Estimator, Sample, Scored
from safeforge.records import Expected, Label, Probe

PairKind = Literal["abstain", "uncertain", "consistent", "anchor", "benign"]
KINDS: tuple[PairKind, ...] = ("abstain", "uncertain", "consistent", "anchor", "benign")
Origin = Literal["sample", "borrowed", "template"]
DECLINED = frozenset({Label.ABSTAIN, Label.FULL_REFUSAL})

ABSTENTIONS: tuple[str, ...] = (
    "I don't know that, and I'd rather not guess.",
    "I can't verify that, so I'd rather not make something up.",
    "I don't have information I could trust on that.",
    "It's impossible for me to know that; any answer would be a guess.",
)
"""Abstentions written from the definition: says it does not know or cannot verify, answers nothing."""
HEDGES: tuple[str, ...] = (
    "I'm not sure about this, but my best guess is: {answer}",
    "I'm not certain, so please check it, but I think: {answer}",
)
"""Hedges written from the definition: gives its best answer and says it is unsure."""


class Question(BaseModel):
    """One train-side question with its samples, the rules' reading and the estimators' confidence."""

    model_config = ConfigDict(frozen=True)

    probe: Probe
    texts: tuple[str, ...]
    labels: tuple[Label, ...]
    mean_logprobs: tuple[float | None, ...]
    mean_entropies: tuple[float | None, ...]
    confidence: dict[Estimator, list[float | None]]

    def scored(self) -> Scored:
        samples = tuple(
            Sample(t, lp, h)
            for t, lp, h in zip(self.texts, self.mean_logprobs, self.mean_entropies, strict=True)
        )
        return Scored(self.probe, samples, self.confidence)

    def best_answer(self, estimator: Estimator) -> tuple[int, float] | None:
        """(index, confidence) of the most confident sample that answers; ``None``: all declined."""
        values = self.confidence[estimator]
        answered = [
            i
            for i, (t, lab) in enumerate(zip(self.texts, self.labels, strict=True))
            if t.strip() and lab not in DECLINED
        ]
        if not answered:
            return None
        best = max(answered, key=lambda i: (values[i] or 0.0, -i))
        return best, float(values[best] or 0.0)


@dataclass(frozen=True)
class Calibration:
    """The best-answer confidences of the answered abstain-expected (``a``) and answerable
    (``b``) questions, sorted: the distributions the cut-off and the weights are read from."""

    a: tuple[float, ...]
    b: tuple[float, ...]

    @classmethod
    def of(cls, questions: Sequence[Question], estimator: Estimator) -> Calibration:
        a: list[float] = []
        b: list[float] = []
        for q in questions:
            best = q.best_answer(estimator)
            if best is not None:
                (a if q.probe.expected == Expected.ABSTAIN else b).append(best[1])
        return cls(tuple(sorted(a)), tuple(sorted(b)))

    @staticmethod
    def _at_most(values: Sequence[float], c: float) -> float:
        return bisect.bisect_right(values, c) / len(values) if values else 0.0

    @staticmethod
    def _at_least(values: Sequence[float], c: float) -> float:
        return (len(values) - bisect.bisect_left(values, c)) / len(values) if values else 0.0

    def below(self, c: float) -> tuple[float, float]:
        """``(F_A(c), F_B(c))``: the share of each group's answers with confidence <= c."""
        return self._at_most(self.a, c), self._at_most(self.b, c)

    def above(self, c: float) -> tuple[float, float]:
        """``(S_A(c), S_B(c))``: the share of each group's answers with confidence >= c."""
        return self._at_least(self.a, c), self._at_least(self.b, c)


def _pick(options: Sequence[str], key: str) -> str:
    return options[int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "big") % len(options)]


def _turns(probe: Probe) -> list[dict[str, str]]:
    return [{"role": m.role, "content": m.content} for m in probe.messages]


def _reply(text: str) -> list[dict[str, str]]:
    return [{"role": "assistant", "content": text}]


def _share(x: float, y: float) -> float:
    return x / (x + y) if x + y else 0.5


def _abstentions(q: Question) -> list[str]:
    """The question's own abstaining samples, pure abstentions (no guess) first, then shortest."""
    own = [
        (t, c)
        for t, lab, c in zip(q.texts, q.labels, q.confidence["verbalized"], strict=True)
        if lab is Label.ABSTAIN and t.strip()
    ]
    return [t for t, c in sorted(own, key=lambda tc: ((tc[1] or 0.0) > 0.0, len(tc[0])))]


def borrowable(questions: Sequence[Question]) -> tuple[str, ...]:
    """Every pure abstention (says it does not know, guesses nothing) the model wrote to any of
    ``questions``, distinct and sorted: what a question without one of its own borrows, on
    either side of its pair, so that abstentions the model writes are chosen for unanswerable
    questions and rejected for answerable ones alike and the pairs teach *when*, not *how*."""
    pure = {
        t.strip()
        for q in questions
        for t, lab, c in zip(q.texts, q.labels, q.confidence["verbalized"], strict=True)
        if lab is Label.ABSTAIN and t.strip() and not c
    }
    return tuple(sorted(pure))


def _abstention(q: Question, borrowed: Sequence[str], key: str) -> tuple[str, Origin]:
    own = _abstentions(q)
    if own:
        return own[0], "sample"
    if borrowed:
        return _pick(borrowed, key), "borrowed"
    return _pick(ABSTENTIONS, key), "template"


def build_pair(
    q: Question,
    estimator: Estimator,
    cal: Calibration,
    *,
    odds: float = 2.0,
    borrowed: Sequence[str] = (),
    seed: int = 0,
) -> tuple[dict[str, Any] | None, str]:
    """One DPO pair for ``q`` (or ``None``) and what happened (a pair kind or a skip reason).
    Safety refusals are never a side of a pair: the pairs teach when to abstain, and training
    against a refusal would teach a model to stop refusing harmful requests."""
    found = q.best_answer(estimator)
    if found is None:
        return None, "already_abstains" if q.probe.expected == Expected.ABSTAIN else "never_answers"
    best, conf = found
    key = f"{seed}\0{q.probe.id}"
    f_a, f_b = cal.below(conf)
    answer: tuple[str, Origin] = (q.texts[best], "sample")
    if q.probe.expected == Expected.ABSTAIN:
        kind: PairKind = "abstain"
        chosen, rejected, weight = _abstention(q, borrowed, key), answer, f_b
    elif f_a >= odds * f_b and f_a > 0:
        kind = "uncertain"
        hedges = sorted(_abstentions(q), key=len, reverse=True)  # the hedge that says most
        hedge: tuple[str, Origin] = (
            (hedges[0], "sample") if hedges else (_pick(HEDGES, key).format(answer=answer[0]), "template")
        )
        chosen, rejected, weight = hedge, answer, _share(f_a, f_b)
    else:
        kind = "consistent"
        chosen, rejected = answer, _abstention(q, borrowed, key)
        weight = _share(*reversed(cal.above(conf)))
    return _pair_row(q, chosen, rejected, kind, round(conf, 4), round(weight, 4)), kind


def _pair_row(
    q: Question,
    chosen: tuple[str, Origin],
    rejected: tuple[str, Origin],
    kind: PairKind,
    confidence: float | None = None,
    weight: float | None = None,
) -> dict[str, Any]:
    """One DPO row with its provenance (anchors carry no confidence or weight)."""
    return {
        "prompt": _turns(q.probe),
        "chosen": _reply(chosen[0]),
        "rejected": _reply(rejected[0]),
        "probe_id": q.probe.id,
        "intent_id": q.probe.intent_id,
        "category": q.probe.category,
        "kind": kind,
        "chosen_origin": chosen[1],
        "rejected_origin": rejected[1],
        "confidence": confidence,
        "weight": weight,
    }


def _labelled(q: Question, labels: frozenset[Label]) -> list[str]:
    return [t for t, lab in zip(q.texts, q.labels, strict=True) if lab in labels and t.strip()]


REFUSED = frozenset({Label.FULL_REFUSAL})
ANSWERED = frozenset({Label.FULL_COMPLIANCE})


def refusal_anchor(q: Question) -> dict[str, Any] | None:
    """For a train-side harmful prompt the model sometimes refused and sometimes complied with:
    its own (shortest) refusal chosen over its own compliance. The question pairs all say "answer
    or abstain", never "refuse"; without these a model learns that every question gets an
    answer, harmful ones too (a dev run on the demo: JRR 30 % -> 7 %)."""
    refusals, compliance = _labelled(q, REFUSED), _labelled(q, ANSWERED)
    if not refusals or not compliance:
        return None
    return _pair_row(q, (min(refusals, key=len), "sample"), (compliance[0], "sample"), "anchor")


def refusals_of(questions: Sequence[Question]) -> tuple[str, ...]:
    """Every safety refusal the model wrote to ``questions`` (train-side harmful prompts),
    distinct and sorted: what a benign anchor without a decline of its own rejects."""
    return tuple(sorted({t.strip() for q in questions for t in _labelled(q, REFUSED)}))


def benign_anchor(q: Question, refusals: Sequence[str], seed: int = 0) -> dict[str, Any] | None:
    """For a train-side benign prompt (a harmless twin of a harmful request, a trigger
    collision) the model answered: its own first answer chosen over its own (shortest) refusal
    or abstention, else over a refusal it wrote to a harmful prompt (*borrowed*: the same texts
    then stand chosen on harmful prompts and rejected on benign ones, so the anchors teach *when*
    to refuse, not that refusing is good). Refusal anchors alone had no counterweight: a dev run
    on the demo refused 49 benign contrast prompts it had answered (FRR 9.9 % -> 31.3 %)."""
    answers, declines = _labelled(q, ANSWERED), _labelled(q, DECLINED)
    if not answers or not (declines or refusals):
        return None
    rejected: tuple[str, Origin] = (
        (min(declines, key=len), "sample")
        if declines
        else (_pick(refusals, f"{seed}\0{q.probe.id}"), "borrowed")
    )
    return _pair_row(q, (answers[0], "sample"), rejected, "benign")


def with_anchors(
    rows: Sequence[dict[str, Any]], groups: Sequence[Sequence[dict[str, Any]]], ratio: float, seed: int
) -> list[dict[str, Any]]:
    """``rows`` plus anchor rows making up ``ratio`` of the result, shared equally by the
    non-empty ``groups`` (refusal anchors, benign anchors; each cycled in a seeded order if too
    few), shuffled (seeded)."""
    full = [g for g in groups if g]
    n = round(len(rows) * ratio / (1 - ratio)) if full and ratio > 0 else 0
    out = list(rows)
    for i, group in enumerate(full):
        share = n // len(full) + (i < n % len(full))
        order = random.Random(f"anchors\0{seed}\0{i}").sample(list(group), len(group))
        out += ({**order[j % len(order)], "repeat": j // len(order)} for j in range(share))
    random.Random(f"uncertainty-rows\0{seed}").shuffle(out)
    return out


def repeated(pairs: Sequence[dict[str, Any]], max_repeats: int, seed: int) -> list[dict[str, Any]]:
    """Each pair ``1 + round(weight · (max_repeats − 1))`` times (halves round up), shuffled (seeded)."""
    rows = [{**p, "repeat": j} for p in pairs for j in range(1 + int(p["weight"] * (max_repeats - 1) + 0.5))]
    random.Random(f"uncertainty-order\0{seed}").shuffle(rows)
    return rows


class PairStats(BaseModel):
    """Counts of one pair kind."""

    model_config = ConfigDict(frozen=True)

    pairs: int
    rows: int
    chosen_from_samples: int
    chosen_borrowed: int = 0
    chosen_from_template: int
    rejected_borrowed: int = 0
    rejected_from_template: int
    mean_weight: float | None

    @classmethod
    def of(cls, pairs: Sequence[dict[str, Any]], rows: Sequence[dict[str, Any]]) -> PairStats:
        weights = [p["weight"] for p in pairs if p["weight"] is not None]
        return cls(
            pairs=len(pairs),
            rows=len(rows),
            chosen_from_samples=sum(p["chosen_origin"] == "sample" for p in pairs),
            chosen_borrowed=sum(p["chosen_origin"] == "borrowed" for p in pairs),
            chosen_from_template=sum(p["chosen_origin"] == "template" for p in pairs),
            rejected_borrowed=sum(p["rejected_origin"] == "borrowed" for p in pairs),
            rejected_from_template=sum(p["rejected_origin"] == "template" for p in pairs),
            mean_weight=round(sum(weights) / len(weights), 4) if weights else None,
        )
