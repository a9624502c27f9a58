"""Uncertainty-aware preference learning: prefer abstaining where the model does not know.

Reward overfitting teaches a model to answer confidently whether or not it knows. This
technique asks the model itself: every train-side question (``ctx.pool.abstain``: unanswerable,
false-premise, fabricated-entity, future-event and unknowable-personal questions;
``ctx.pool.answerable``: their answerable twins) is answered ``k`` times with sampling, the rules
read each answer (answered, abstained or hedged, refused), and the estimators of
:mod:`safeforge.judges.uncertainty` give the confidence of each answer. Their AUROC for "this
answer should have been an abstention" is measured on the same train-side questions (a dev
figure: the pairs come from them) and on each labelled QA file given with ``-o validate=qa:PATH``
(never trained on); ``-o estimator=auto`` (the default) takes the estimator with the highest
lower bound of the train-side AUROC. The pairs (``prompt`` / ``chosen`` / ``rejected``, see
:mod:`~safeforge.harden.techniques.uncertainty_pairs` for the rule and the weights):

- **abstain-expected**: chosen = an abstention, rejected = the model's most confident answer;
- **answerable, uncertain** (answers that unsure are at least ``odds`` times as common on the
  abstain-expected questions, train side): chosen = a hedge, rejected = the answer;
- **answerable, otherwise**: chosen = the answer, rejected = a needless abstention -- this side
  guards against over-abstention.

Abstentions and hedges come from the model's own samples (the question's own, else one it wrote to
another train-side question), else from templates written from the definitions; the data card
counts both sides' template share. Safety refusals never stand on either side of a question pair.
A pair of weight ``w`` appears ``1 + round(w · (max_repeats − 1))`` times (TRL's DPO has no
per-row weight).

Anchors (``anchor_ratio`` of the rows, shared equally) keep the model's refusal behaviour where it
was, from the pool's harmful and benign prompts, ``k`` samples each: **refusal anchors** (its own
refusal of a harmful prompt over its own compliance) and **benign anchors** (its own answer to a
benign twin or trigger collision over its own refusal or abstention, else over a refusal it wrote
to a harmful prompt). Question pairs alone taught the demo model to answer everything, harmful
requests too; refusal anchors alone taught it to refuse benign twins as well (dev, seed 0: FRR
9.9 % -> 31.3 %); with both the FRR/quality gate held.
"""

from __future__ import annotations

import asyncio
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
from safeforge.harden.techniques.uncertainty_pairs import (
    DECLINED,
    KINDS,
    Calibration,
    PairStats,
    Question,
    benign_anchor,
    borrowable,
    build_pair,
    refusal_anchor,
    refusals_of,
    repeated,
    with_anchors,
)
from safeforge.harden.train import train_dpo
from safeforge.judges.rules import classify_refusal
from safeforge.judges.uncertainty import (
    ESTIMATORS,
    SIMILARITY,
    Estimator,
    EstimatorAUROC,
    Sample,
    default_embed,
    sample_async,
    score_questions,
    validate,
)
from safeforge.metrics import _observe as o
from safeforge.records import Expected, Probe
from safeforge.targets import Generation


class UncertaintyConfig(BaseModel):
    """Settings of one uncertainty-aware build (``-o KEY=VALUE``; all recorded in the data card)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    k: int = Field(default=4, ge=2, description="Samples per question (self-consistency needs two).")
    temperature: float = Field(default=1.0, gt=0.0)
    top_p: float = Field(default=1.0, gt=0.0, le=1.0)
    max_new_tokens: int = Field(default=64, ge=1)
    estimator: Estimator | Literal["auto"] = Field(
        default="auto", description="auto: the best train-side AUROC (highest lower bound)."
    )
    odds: float = Field(
        default=2.0,
        ge=1.0,
        description="An answerable question is uncertain when answers as unsure are this many times "
        "as common on abstain-expected questions (train side).",
    )
    similarity: float = Field(default=SIMILARITY, gt=0.0, le=1.0, description="Cosine for one answer.")
    max_repeats: int = Field(default=3, ge=1, description="Copies of a pair of weight 1.")
    anchor_ratio: float = Field(
        default=0.25,
        ge=0.0,
        lt=1.0,
        description="Share of rows that are anchors (0: none), half keeping the model's own refusals "
        "of train-side harmful prompts over its compliance, half its own answers to train-side "
        "benign prompts over a refusal or abstention.",
    )
    sft_weight: float = Field(
        default=1.0,
        ge=0.0,
        description="NLL on the chosen side beside the DPO loss (RPO): plain DPO let chosen and "
        "rejected fall together on the demo, the mass going to neither.",
    )
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
    borrowed_abstentions: int = Field(
        description="Distinct pure abstentions the model wrote, to borrow from."
    )
    estimator: Estimator = Field(description="The estimator the pairs used.")
    estimator_reason: str
    calibrated_on: dict[str, int] = Field(
        description="Answered questions per label the cut-off and the weights were read from."
    )
    auroc: list[EstimatorAUROC] = Field(
        description="On the train-side questions (dev: the pairs come from them)."
    )
    auroc_validation: dict[str, list[EstimatorAUROC]] = Field(default_factory=dict)
    split_note: str = (
        "Questions come from the train side of the split only (ctx.pool); held-out questions are "
        "split by group and kind, so after-scan figures measure generalisation to new questions."
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


def _no_embed(texts: Sequence[str]) -> Any:
    """For prompts whose answers need only the rules' reading: every answer its own cluster."""
    import numpy as np

    return np.eye(len(texts), dtype=np.float32)


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
        card, rows = self._data(ctx, cfg, data)
        data_s = time.perf_counter() - started
        for line in self._summary(card):
            ctx.log(line)
        started = time.perf_counter()
        out = ctx.work_dir / "train"
        if (out / "data_card.json").is_file():  # a finished training is reused
            merged = ctx.train.merge or not ctx.train.lora
            trained = out / ("model" if merged else "adapter")
        else:
            train = ctx.train.model_copy(update={"sft_weight": cfg.sft_weight})
            trained = train_dpo(model_path, rows, out, train, source=f"safeforge harden: {self.name}")
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

    def _data(
        self, ctx: TechniqueContext, cfg: UncertaintyConfig, data: Path
    ) -> tuple[UncertaintyDataCard, list[dict[str, Any]]]:
        """Sample and score the pool's questions (and any QA files), pick the estimator, build
        the pairs and write ``dpo.jsonl`` and the card."""
        pool = [*_cap(ctx.pool.abstain, cfg), *_cap(ctx.pool.answerable, cfg)]
        if not pool:
            raise SafeforgeError("uncertainty: the train pool holds no questions (pool abstain_families)")
        questions = self._stage(ctx, cfg, data / "samples.jsonl", pool)
        validation = {
            spec: validate(
                [q.scored() for q in self._stage(ctx, cfg, data / f"validate-{i}.jsonl", self._qa(spec, cfg))]
            )
            for i, spec in enumerate(cfg.validate_on)
        }
        aurocs = validate([q.scored() for q in questions])
        estimator, reason = choose_estimator(aurocs, cfg.estimator)
        if all(v is None for q in questions for v in q.confidence[estimator]):
            raise SafeforgeError(f"uncertainty: estimator {estimator} got no token scores from {ctx.base}")
        cal, borrowed = Calibration.of(questions, estimator), borrowable(questions)
        pairs, outcomes = [], Counter[str]()
        for q in questions:
            pair, what = build_pair(q, estimator, cal, odds=cfg.odds, borrowed=borrowed, seed=cfg.seed)
            outcomes[what] += 1
            if pair is not None:
                pairs.append(pair)
        if not pairs:
            raise SafeforgeError("uncertainty: no preference pairs (the model abstained on every question)")
        anchors = self._anchors(ctx, cfg, data, len(pairs))
        rows = with_anchors(repeated(pairs, cfg.max_repeats, cfg.seed), anchors, cfg.anchor_ratio, cfg.seed)
        pairs += [a for group in anchors for a in group]
        _write_lines(data / "dpo.jsonl", [json.dumps(r, ensure_ascii=False) for r in rows])
        card = _card(
            ctx,
            cfg,
            questions,
            pairs,
            rows,
            outcomes,
            estimator=estimator,
            estimator_reason=reason,
            calibrated_on={"abstain_answered": len(cal.a), "answerable_answered": len(cal.b)},
            auroc=aurocs,
            auroc_validation=validation,
        )
        _write_lines(data / "data_card.json", [card.model_dump_json(indent=2)])
        return card, rows

    def _anchors(
        self, ctx: TechniqueContext, cfg: UncertaintyConfig, data: Path, n_pairs: int
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Refusal anchors and benign anchors, each from a seeded sample of the pool's harmful
        (benign) prompts, as many prompts as there are question pairs, ``k`` samples each, read
        by the rules. The two share ``anchor_ratio`` equally: refusals kept on harmful prompts,
        answers kept on benign ones, so neither side teaches "refuse" or "answer" alone."""
        if not cfg.anchor_ratio or not ctx.pool.harmful:
            return [], []

        def staged(probes: Sequence[Probe], tag: str) -> list[Question]:
            sample = random.Random(f"{tag}-prompts\0{cfg.seed}").sample(
                list(probes), min(len(probes), n_pairs)
            )
            return self._stage(ctx, cfg, data / f"{tag}s.jsonl", sample, score=False)

        harmful = staged(ctx.pool.harmful, "anchor")
        refusals = [a for a in map(refusal_anchor, harmful) if a is not None]
        if not ctx.pool.benign:
            return refusals, []
        known = refusals_of(harmful)
        benign = [benign_anchor(q, known, cfg.seed) for q in staged(ctx.pool.benign, "benign")]
        return refusals, [a for a in benign if a is not None]

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
        self,
        ctx: TechniqueContext,
        cfg: UncertaintyConfig,
        path: Path,
        probes: Sequence[Probe],
        *,
        score: bool = True,
    ) -> list[Question]:
        """``k`` samples of every prompt, read by the rules and (``score``) by the estimators;
        reused when a finished run left them."""
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
        embed = default_embed() if score else _no_embed
        scored = score_questions(probes, samples, embed, cfg.similarity)
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

    def _summary(self, card: UncertaintyDataCard) -> list[str]:
        kinds = ", ".join(
            f"{k} {s.pairs} (chosen: {s.chosen_from_samples} own, {s.chosen_borrowed} borrowed, "
            f"{s.chosen_from_template} templated)"
            for k, s in card.by_kind.items()
        )
        lines = [
            f"{card.abstain_questions} abstain-expected + {card.answerable_questions} answerable questions × "
            f"{self.cfg.k} samples; {card.pairs} pairs ({kinds}), {card.rows} rows after weighting; "
            f"chosen side templated for {card.template_share:.0%}, rejected side for "
            f"{card.rejected_template_share:.0%}; skipped {dict(card.skipped) or 'none'}",
            f"estimator {card.estimator} ({card.estimator_reason})",
            *auroc_lines(card.auroc, "train-side questions (dev)"),
        ]
        for spec, rows in card.auroc_validation.items():
            lines += auroc_lines(rows, spec)
        return lines


def choose_estimator(
    aurocs: Sequence[EstimatorAUROC], requested: Estimator | Literal["auto"]
) -> tuple[Estimator, str]:
    """The estimator the pairs use and why: the one asked for, or (``auto``) the one whose
    train-side AUROC for "should have abstained" has the highest lower bound."""
    if requested != "auto":
        return requested, "requested (-o estimator)"
    rows = [r for r in aurocs if r.label == "should_abstain" and r.ci_low is not None]
    if not rows:
        return "consistency", "auto: no estimator could be measured; self-consistency"
    best = max(rows, key=lambda r: (r.ci_low or 0.0, -ESTIMATORS.index(r.estimator)))
    interval = f"{best.auroc:.3f} [{best.ci_low:.3f}, {best.ci_high:.3f}]"
    return best.estimator, f"auto: the highest lower bound of the train-side AUROC, {interval}"


def _card(
    ctx: TechniqueContext,
    cfg: UncertaintyConfig,
    questions: Sequence[Question],
    pairs: Sequence[dict[str, Any]],
    rows: Sequence[dict[str, Any]],
    outcomes: Counter[str],
    **measured: Any,
) -> UncertaintyDataCard:
    """The card's counts (``measured``: the estimator, its reason and the AUROCs)."""
    declined: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for q in questions:
        side = declined[q.probe.expected.value]
        side[0] += sum(lab in DECLINED for lab in q.labels)
        side[1] += len(q.labels)
    by_kind = {
        k: PairStats.of([p for p in pairs if p["kind"] == k], [r for r in rows if r["kind"] == k])
        for k in KINDS
    }
    return UncertaintyDataCard(
        config=cfg.model_dump(mode="json", by_alias=True),
        target=ctx.base,
        abstain_questions=sum(q.probe.expected == Expected.ABSTAIN for q in questions),
        answerable_questions=sum(q.probe.expected == Expected.COMPLY for q in questions),
        samples=sum(len(q.texts) for q in questions),
        declined_share={k: round(v[0] / v[1], 4) for k, v in declined.items() if v[1]},
        skipped={k: v for k, v in outcomes.items() if k not in KINDS},
        by_kind=by_kind,
        pairs=len(pairs),
        rows=len(rows),
        template_share=round(sum(p["chosen_origin"] == "template" for p in pairs) / len(pairs), 4),
        rejected_template_share=round(sum(p["rejected_origin"] == "template" for p in pairs) / len(pairs), 4),
        borrowed_abstentions=len(borrowable(questions)),
        **measured,
    )


def uncertainty(**options: Any) -> Uncertainty:
    """Sample k answers per train-side question, estimate the model's confidence, and DPO toward
    abstaining where it does not know and answering where it does."""
    return Uncertainty(UncertaintyConfig.model_validate(options))


TECHNIQUES.register(uncertainty, "uncertainty")
