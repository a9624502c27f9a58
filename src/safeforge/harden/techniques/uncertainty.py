"""Uncertainty-aware preference learning: prefer abstaining where the model does not know.

Reward overfitting teaches a model to answer confidently whether or not it knows. This
technique asks the model itself: every train-side question (``ctx.pool.abstain``: unanswerable,
false-premise, fabricated-entity, future-event and unknowable-personal questions;
``ctx.pool.answerable``: their answerable twins) is answered ``k`` times with sampling, the rules
read each answer (answered, abstained or hedged, refused), and an uncertainty estimator
(:mod:`safeforge.judges.uncertainty`; ``-o estimator=consistency`` by default) gives the
confidence of the model's most confident answer. DPO pairs (``prompt`` / ``chosen`` /
``rejected``) follow from the question's label and that confidence:

- **abstain-expected**: chosen = an abstention, rejected = the confident answer
  (weight = its confidence: the surer the hallucination, the more the pair matters);
- **answerable, uncertain** (confidence < ``threshold``): chosen = a hedge or abstention,
  rejected = the confident answer (weight = 1 − confidence);
- **answerable, consistent**: chosen = the answer, rejected = a needless abstention
  (weight = confidence) -- this side guards against over-abstention.

Abstentions and hedges come from the model's own samples where it has any (its shortest
abstention for an abstain-expected question, its longest hedge for an uncertain answerable one);
where it has none, a template written from the definitions (an abstention says it does not know
and answers nothing; a hedge gives the best answer and says it is unsure) stands in, and the data
card counts both sides' template share. Weights become repetitions: a pair of weight ``w`` appears
``1 + round(w · (max_repeats − 1))`` times (TRL's DPO has no per-row weight).

The data card also reports every estimator's AUROC for "this answer should have been an
abstention" on the same train-side questions (a dev figure: these are the questions the pairs
come from) and on each labelled QA file given with ``-o validate=qa:PATH`` (never trained on).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from safeforge.errors import SafeforgeError
from safeforge.harden.techniques._base import TECHNIQUES, Claim, TechniqueContext, TechniqueOutput
from safeforge.harden.train import train_dpo
from safeforge.judges.rules import classify_refusal
from safeforge.judges.uncertainty import (
    SIMILARITY,
    Estimator,
    EstimatorAUROC,
    Sample,
    Scored,
    default_embed,
    sample_async,
    score_questions,
    validate,
)
from safeforge.metrics import _observe as o
from safeforge.records import Expected, Label, Probe
from safeforge.targets import Generation

PairKind = Literal["abstain", "uncertain", "consistent"]
_DECLINED = frozenset({Label.ABSTAIN, Label.FULL_REFUSAL})
Origin = Literal["sample", "template"]

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


class UncertaintyConfig(BaseModel):
    """Settings of one uncertainty-aware build (``-o KEY=VALUE``; all recorded in the data card)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    k: int = Field(default=4, ge=2, description="Samples per question (self-consistency needs two).")
    temperature: float = Field(default=1.0, gt=0.0)
    top_p: float = Field(default=1.0, gt=0.0, le=1.0)
    max_new_tokens: int = Field(default=64, ge=1)
    estimator: Estimator = "consistency"
    threshold: float = Field(
        default=0.5, gt=0.0, le=1.0, description="An answerable question below this confidence is uncertain."
    )
    similarity: float = Field(default=SIMILARITY, gt=0.0, le=1.0, description="Cosine for one answer.")
    max_repeats: int = Field(default=3, ge=1, description="Copies of a pair of weight 1.")
    validate_on: tuple[str, ...] = Field(
        default=(), alias="validate", description="Labelled QA dataset specs for the estimators' AUROC."
    )
    validate_limit: int = Field(default=500, ge=1, description="Questions sampled from each QA file.")
    max_questions: int | None = Field(
        default=None, ge=1, description="Cap on pool questions per label (abstain / answerable), seeded."
    )
    seed: int = 0

    @field_validator("validate_on", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        """``-o validate=qa:PATH`` names one file; a YAML list names several."""
        return (value,) if isinstance(value, str) else value


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


def _answers(q: Question) -> list[int]:
    return [
        i
        for i, (t, lab) in enumerate(zip(q.texts, q.labels, strict=True))
        if t.strip() and lab not in _DECLINED
    ]


def _pick(options: Sequence[str], key: str) -> str:
    return options[int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "big") % len(options)]


def _turns(probe: Probe) -> list[dict[str, str]]:
    return [{"role": m.role, "content": m.content} for m in probe.messages]


def _reply(text: str) -> list[dict[str, str]]:
    return [{"role": "assistant", "content": text}]


def build_pair(q: Question, cfg: UncertaintyConfig) -> tuple[dict[str, Any] | None, str]:
    """One DPO pair for ``q`` (or ``None``) and what happened (a pair kind or a skip reason)."""
    answered = _answers(q)
    if not answered:
        return None, "already_abstains" if q.probe.expected == Expected.ABSTAIN else "never_answers"
    values = q.confidence[cfg.estimator]
    best = max(answered, key=lambda i: (values[i] or 0.0, -i))
    conf = float(values[best] or 0.0)
    own = [i for i, lab in enumerate(q.labels) if lab is Label.ABSTAIN and q.texts[i].strip()]
    key = f"{cfg.seed}\0{q.probe.id}"
    if q.probe.expected == Expected.ABSTAIN:
        kind: PairKind = "abstain"
        chosen = min((q.texts[i] for i in own), key=len, default=None)
        template = _pick(ABSTENTIONS, key)
        rejected, rejected_origin, weight = q.texts[best], "sample", conf
    elif conf < cfg.threshold:
        kind = "uncertain"
        chosen = max((q.texts[i] for i in own), key=len, default=None)
        template = _pick(HEDGES, key).format(answer=q.texts[best])
        rejected, rejected_origin, weight = q.texts[best], "sample", 1.0 - conf
    else:
        kind = "consistent"
        needless = [q.texts[i] for i, lab in enumerate(q.labels) if lab in _DECLINED and q.texts[i].strip()]
        rejected = min(needless, key=len) if needless else _pick(ABSTENTIONS, key)
        chosen, template, weight = q.texts[best], "", conf
        rejected_origin = "sample" if needless else "template"
    origin: Origin = "sample" if chosen is not None else "template"
    row = {
        "prompt": _turns(q.probe),
        "chosen": _reply(chosen if chosen is not None else template),
        "rejected": _reply(rejected),
        "probe_id": q.probe.id,
        "intent_id": q.probe.intent_id,
        "category": q.probe.category,
        "kind": kind,
        "chosen_origin": origin,
        "rejected_origin": rejected_origin,
        "confidence": round(conf, 4),
        "weight": round(weight, 4),
    }
    return row, kind


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
    chosen_from_template: int
    rejected_from_template: int
    mean_weight: float | None


class UncertaintyDataCard(BaseModel):
    """What the preference data is made of (``data/data_card.json``)."""

    model_config = ConfigDict(frozen=True)

    technique: Literal["uncertainty"] = "uncertainty"
    config: dict[str, Any]
    target: str
    abstain_questions: int
    answerable_questions: int
    samples: int
    declined_share: dict[str, float] = Field(
        description="Share of samples abstained on / refused, per label."
    )
    skipped: dict[str, int] = Field(description="Questions without a pair, by reason.")
    by_kind: dict[str, PairStats]
    pairs: int
    rows: int
    template_share: float = Field(description="Share of pairs whose chosen side a template wrote.")
    rejected_template_share: float
    auroc: list[EstimatorAUROC] = Field(
        description="On the train-side questions (dev: the pairs come from them)."
    )
    auroc_validation: dict[str, list[EstimatorAUROC]] = Field(default_factory=dict)
    split_note: str = (
        "Questions come from the train side of the split only (ctx.pool); held-out questions are "
        "split by group and kind, so after-scan figures measure generalisation to new questions."
    )


def _stats(pairs: Sequence[dict[str, Any]], rows: Sequence[dict[str, Any]]) -> PairStats:
    weights = [p["weight"] for p in pairs]
    return PairStats(
        pairs=len(pairs),
        rows=len(rows),
        chosen_from_samples=sum(p["chosen_origin"] == "sample" for p in pairs),
        chosen_from_template=sum(p["chosen_origin"] == "template" for p in pairs),
        rejected_from_template=sum(p["rejected_origin"] == "template" for p in pairs),
        mean_weight=round(sum(weights) / len(weights), 4) if weights else None,
    )


def auroc_lines(rows: Sequence[EstimatorAUROC], where: str) -> list[str]:
    """One printable line per estimator (both labels), for the log and the card."""
    out = []
    by: dict[str, dict[str, EstimatorAUROC]] = defaultdict(dict)
    for r in rows:
        by[r.estimator][r.label] = r
    for estimator, labels in by.items():
        parts = []
        for label, r in labels.items():
            if r.auroc is None:
                parts.append(f"{label}: – ({r.note or 'n/a'})")
            else:
                parts.append(
                    f"{label}: {r.auroc:.3f} [{r.ci_low:.3f}, {r.ci_high:.3f}] (n = {r.n_pos} + {r.n_neg})"
                )
        out.append(f"AUROC {where}, {estimator}: " + "; ".join(parts))
    return out


def _load_questions(path: Path) -> list[Question]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [Question.model_validate_json(line) for line in lines if line.strip()]


def _write_lines(path: Path, lines: Sequence[str]) -> None:
    """Atomically: a killed run leaves no half file that a rerun would take as finished."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    tmp.replace(path)


def _cap(probes: Sequence[Probe], cfg: UncertaintyConfig) -> list[Probe]:
    """At most ``max_questions`` of ``probes`` (a seeded sample, order kept)."""
    if cfg.max_questions is None or len(probes) <= cfg.max_questions:
        return list(probes)
    keep = {p.id for p in random.Random(f"questions\0{cfg.seed}").sample(list(probes), cfg.max_questions)}
    return [p for p in probes if p.id in keep]


class Uncertainty:
    """Uncertainty-aware DPO: abstain where the model does not know, answer where it does."""

    name = "uncertainty"
    kind: Literal["trained", "inference"] = "trained"
    claims: tuple[Claim, ...] = (
        Claim(metric=o.HALLUCINATION, want="falls"),
        Claim(metric=o.OVER_ABSTENTION, want="no_significant_rise"),
        Claim(metric=o.JRR, want="no_significant_fall"),
    )

    def __init__(self, cfg: UncertaintyConfig) -> None:
        self.cfg = cfg

    def demo_rows(self, seed: int) -> list[dict[str, Any]]:
        del seed
        return []

    def apply(self, ctx: TechniqueContext) -> TechniqueOutput:
        trainer = ctx.trainer or "dpo"
        if trainer != "dpo":
            raise SafeforgeError(f"uncertainty trains with dpo (got --trainer {trainer})")
        model_path = ctx.model_path()
        cfg = self.cfg.model_copy(update={"seed": ctx.seed})
        data = ctx.work_dir / "data"
        started = time.perf_counter()
        pool = [*_cap(ctx.pool.abstain, cfg), *_cap(ctx.pool.answerable, cfg)]
        if not pool:
            raise SafeforgeError("uncertainty: the train pool holds no questions (pool abstain_families)")
        questions = self._stage(ctx, cfg, data / "samples.jsonl", pool)
        if all(v is None for q in questions for v in q.confidence[cfg.estimator]):
            raise SafeforgeError(
                f"uncertainty: estimator {cfg.estimator} got no token scores from {ctx.base}"
            )
        validation = {
            spec: validate(
                [q.scored() for q in self._stage(ctx, cfg, data / f"validate-{i}.jsonl", self._qa(spec, cfg))]
            )
            for i, spec in enumerate(cfg.validate_on)
        }
        pairs, outcomes = [], Counter[str]()
        for q in questions:
            pair, what = build_pair(q, cfg)
            outcomes[what] += 1
            if pair is not None:
                pairs.append(pair)
        if not pairs:
            raise SafeforgeError("uncertainty: no preference pairs (the model abstained on every question)")
        rows = repeated(pairs, cfg.max_repeats, cfg.seed)
        _write_lines(data / "dpo.jsonl", [json.dumps(r, ensure_ascii=False) for r in rows])
        card = self._card(ctx, cfg, questions, pairs, rows, outcomes, validation)
        _write_lines(data / "data_card.json", [card.model_dump_json(indent=2)])
        data_s = time.perf_counter() - started
        for line in self._summary(card):
            ctx.log(line)
        started = time.perf_counter()
        out = ctx.work_dir / "train"
        if (out / "data_card.json").is_file():  # a finished training is reused
            merged = ctx.train.merge or not ctx.train.lora
            trained = out / ("model" if merged else "adapter")
        else:
            trained = train_dpo(model_path, rows, out, ctx.train, source=f"safeforge harden: {self.name}")
        return TechniqueOutput(
            technique=self.name,
            kind="trained",
            target=f"hf:{trained}",
            model_dir=trained,
            data_files=(data / "dpo.jsonl",),
            data_card=card.model_dump(mode="json"),
            template_share=card.template_share,
            data_s=data_s,
            train_s=time.perf_counter() - started,
        )

    def _qa(self, spec: str, cfg: UncertaintyConfig) -> list[Probe]:
        """The questions of a labelled QA file (a seeded sample of ``validate_limit``): used only
        to measure the estimators, never trained on."""
        from safeforge.probes import load_dataset

        probes = [p for p in load_dataset(spec) if p.expected in (Expected.ABSTAIN, Expected.COMPLY)]
        if not probes:
            raise SafeforgeError(f"uncertainty: {spec} holds no abstain-expected or answerable question")
        if len(probes) > cfg.validate_limit:
            probes = random.Random(f"validate\0{cfg.seed}").sample(probes, cfg.validate_limit)
        return probes

    def _stage(
        self, ctx: TechniqueContext, cfg: UncertaintyConfig, path: Path, probes: Sequence[Probe]
    ) -> list[Question]:
        """``k`` samples of every question, read and scored (reused when a finished run left them)."""
        if path.is_file():
            return _load_questions(path)
        generation = Generation(
            max_new_tokens=cfg.max_new_tokens, temperature=cfg.temperature, top_p=cfg.top_p, seed=ctx.seed
        )

        async def draw() -> list[list[Sample]]:
            target = ctx.open_target(generation=generation)
            try:
                progress = ctx.progress
                tick = None if progress is None else (lambda done, total: progress("sampling", done, total))
                return await sample_async(target, probes, cfg.k, tick)
            finally:
                await target.aclose()

        samples = asyncio.run(draw())
        scored = score_questions(probes, samples, default_embed(), cfg.similarity)
        questions = [
            Question(
                probe=s.probe,
                texts=tuple(x.text for x in s.samples),
                labels=tuple(classify_refusal(x.text).label for x in s.samples),
                mean_logprobs=tuple(x.mean_logprob for x in s.samples),
                mean_entropies=tuple(x.mean_entropy for x in s.samples),
                confidence={k: list(v) for k, v in s.confidence.items()},
            )
            for s in scored
        ]
        _write_lines(path, [q.model_dump_json() for q in questions])
        return questions

    def _card(
        self,
        ctx: TechniqueContext,
        cfg: UncertaintyConfig,
        questions: Sequence[Question],
        pairs: Sequence[dict[str, Any]],
        rows: Sequence[dict[str, Any]],
        outcomes: Counter[str],
        validation: dict[str, list[EstimatorAUROC]],
    ) -> UncertaintyDataCard:
        declined: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for q in questions:
            side = declined[q.probe.expected.value]
            side[0] += sum(lab in _DECLINED for lab in q.labels)
            side[1] += len(q.labels)
        kinds: tuple[PairKind, ...] = ("abstain", "uncertain", "consistent")
        by_kind = {
            k: _stats([p for p in pairs if p["kind"] == k], [r for r in rows if r["kind"] == k])
            for k in kinds
        }
        return UncertaintyDataCard(
            config=cfg.model_dump(mode="json", by_alias=True),
            target=ctx.base,
            abstain_questions=sum(q.probe.expected == Expected.ABSTAIN for q in questions),
            answerable_questions=sum(q.probe.expected == Expected.COMPLY for q in questions),
            samples=sum(len(q.texts) for q in questions),
            declined_share={k: round(v[0] / v[1], 4) for k, v in declined.items() if v[1]},
            skipped={k: v for k, v in outcomes.items() if k not in kinds},
            by_kind=by_kind,
            pairs=len(pairs),
            rows=len(rows),
            template_share=round(sum(p["chosen_origin"] == "template" for p in pairs) / len(pairs), 4),
            rejected_template_share=round(
                sum(p["rejected_origin"] == "template" for p in pairs) / len(pairs), 4
            ),
            auroc=validate([q.scored() for q in questions]),
            auroc_validation=validation,
        )

    def _summary(self, card: UncertaintyDataCard) -> list[str]:
        kinds = ", ".join(
            f"{k} {s.pairs} ({s.chosen_from_template} chosen templated)" for k, s in card.by_kind.items()
        )
        lines = [
            f"{card.abstain_questions} abstain-expected + {card.answerable_questions} answerable questions × "
            f"{self.cfg.k} samples; {card.pairs} pairs ({kinds}), {card.rows} rows after weighting; "
            f"chosen side templated for {card.template_share:.0%}, rejected side for "
            f"{card.rejected_template_share:.0%}; skipped {dict(card.skipped) or 'none'}",
            *auroc_lines(card.auroc, "train-side questions (dev)"),
        ]
        for spec, rows in card.auroc_validation.items():
            lines += auroc_lines(rows, spec)
        return lines


def uncertainty(**options: Any) -> Uncertainty:
    """Sample k answers per train-side question, estimate the model's confidence, and DPO toward
    abstaining where it does not know and answering where it does."""
    return Uncertainty(UncertaintyConfig.model_validate(options))


TECHNIQUES.register(uncertainty, "uncertainty")
