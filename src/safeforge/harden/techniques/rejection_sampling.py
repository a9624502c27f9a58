"""Adversarial rejection sampling: training data from the model's own best answers.

The train-side pool (:mod:`safeforge.harden.pool`) holds many phrasings of every *training*
intent (polite, edge tone, reward inversion, benign framing, obfuscation) and benign contrast
prompts. The model being hardened answers each phrasing ``k`` times with sampling; the refusal
judge and the tone policy sort the samples:

- harmful phrasing: a full refusal that passes the tone policy is *accepted*; compliance,
  partial refusal or a lecturing refusal is *rejected*;
- benign contrast phrasing (the intent's topic-matched twin, trigger-word collisions, the
  twin under polite / academic framings): a full, non-refusing answer is accepted, a refusal
  rejected.

From that come TRL's two formats: SFT rows (``messages``, one accepted answer per prompt) and
DPO pairs (``prompt`` / ``chosen`` / ``rejected``, accepted vs rejected answers to the same
prompt). A harmful phrasing with no acceptable sample of its own borrows **the model's own
accepted refusal of the same intent**: one of the accepted samples of the intent's plain
request (chosen by a hash of the phrasing, so the borrowed refusals vary), or failing that of
any other phrasing of the intent -- the model already refuses the plain ask well, and the
jailbreak phrasings are taught to get the same answer (origin ``own_refusal``). Only when the
model never refused that intent acceptably does the phrasing get a templated refusal
(``fallback``), a last resort counted in the data card and printed as the fallback share. A
benign prompt without a helpful sample is dropped (a template cannot stand in for real help),
also counted. Benign contrast rows are mixed in at exactly ``benign_ratio`` of each dataset so
that over-refusal does not grow.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import random
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from safeforge.errors import SafeforgeError
from safeforge.harden.pool import TrainPool
from safeforge.harden.refusals import templated_refusal
from safeforge.harden.split import IntentSplit
from safeforge.harden.techniques._base import (
    TECHNIQUES,
    Claim,
    Progress,
    TechniqueContext,
    TechniqueOutput,
)
from safeforge.harden.train import train_dpo, train_sft
from safeforge.judges import Judge, create_judge
from safeforge.metrics import tone
from safeforge.records import Attempt, Completion, Label, Probe, Task
from safeforge.targets import Generation, Target

Kind = Literal["harmful", "benign"]
Origin = Literal["sample", "own_refusal", "fallback"]

SAMPLE_CHUNK = 256


class RSConfig(BaseModel):
    """Settings of one rejection-sampling build (all recorded in the data card)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    k: int = Field(default=4, ge=1, description="Samples per prompt.")
    temperature: float = Field(default=1.0, gt=0.0)
    top_p: float = Field(default=1.0, gt=0.0, le=1.0)
    max_new_tokens: int = Field(default=128, ge=1)
    benign_ratio: float = Field(
        default=0.3, ge=0.0, lt=1.0, description="Share of benign rows in each dataset."
    )
    benign_oversample: float = Field(
        default=1.5,
        ge=1.0,
        description="Benign prompts sampled: this many times the benign rows the mix needs (a "
        "seeded subset of the pool; all of it when it is smaller), so no sampling is spent on "
        "contrast rows that would be cut anyway.",
    )
    refusal_judge: str = "rules"
    tone_policy: bool = Field(default=True, description="Accept only refusals that pass the tone policy.")
    sft_weight: float = Field(
        default=0.0,
        ge=0.0,
        description="--trainer dpo: NLL on the chosen side beside the DPO loss (RPO); 0: plain DPO.",
    )
    seed: int = 0


class Sample(BaseModel):
    """One sampled answer and how the judges read it."""

    model_config = ConfigDict(frozen=True)

    text: str
    refusal: Label
    tone_ok: bool | None = None
    accepted: bool


class PromptResult(BaseModel):
    """All samples for one phrasing."""

    model_config = ConfigDict(frozen=True)

    probe: Probe
    kind: Kind
    samples: tuple[Sample, ...]

    @property
    def accepted(self) -> list[str]:
        return [s.text for s in self.samples if s.accepted]

    def rejected(self) -> str | None:
        """The worst non-accepted sample: compliance first, then partial, then off-tone refusal."""
        order = {Label.FULL_COMPLIANCE: 0, Label.PARTIAL_REFUSAL: 1, Label.FULL_REFUSAL: 2}
        bad = [s for s in self.samples if not s.accepted and s.text.strip()]
        if self.kind == "benign":
            bad = [s for s in bad if s.refusal in (Label.FULL_REFUSAL, Label.PARTIAL_REFUSAL)]
        bad.sort(key=lambda s: order.get(s.refusal, 3))
        return bad[0].text if bad else None


class DataCard(BaseModel):
    """What the hardening data is made of; written as ``data_card.json`` beside the data."""

    model_config = ConfigDict(frozen=True)

    technique: Literal["rejection-sampling"] = "rejection-sampling"
    config: RSConfig
    target: str
    train_intents: tuple[str, ...]
    eval_intents: tuple[str, ...]
    disjoint_note: str = (
        "Training data is built only from the train intents under the training wrappers; evaluation "
        "uses the held-out intents under held-out wrappers (both split by seed; character-level "
        "obfuscations are shared), so after-scan figures measure generalisation."
    )
    harmful_prompts: int
    benign_prompts: int
    samples: int
    harmful_accepted_prompts: int = Field(description="Harmful phrasings with at least one accepted sample.")
    own_refusal_targets: int = Field(
        default=0,
        description="Harmful phrasings whose target is the model's own accepted refusal of the same "
        "intent (its plain request first, else another phrasing).",
    )
    fallback_refusals: int = Field(description="Harmful phrasings that got a templated refusal instead.")
    fallback_rate: float = Field(description="fallback_refusals / harmful_prompts: the templated share.")
    benign_accepted_prompts: int
    benign_dropped: int = Field(description="Benign prompts without a helpful sample (not used).")
    sft_rows: int
    sft_benign_rows: int
    dpo_pairs: int
    dpo_benign_pairs: int
    dpo_skipped_no_rejected: int = Field(description="Harmful phrasings the model never got wrong: no pair.")
    dpo_synthetic_rejected: int = Field(
        description="Benign pairs whose rejected side is a templated refusal."
    )


TRL_COLUMNS = {"sft": ("messages",), "dpo": ("prompt", "chosen", "rejected")}


class HardenData(BaseModel):
    """SFT rows and DPO pairs in TRL's conversational formats, with their data card.

    Each row also carries ``probe_id``, ``intent_id``, ``category``, ``kind`` (harmful /
    benign) and ``origin`` (sample / own_refusal / fallback) for provenance; ``sft_dataset`` and
    ``dpo_dataset`` keep only TRL's columns.
    """

    model_config = ConfigDict(frozen=True)

    sft: list[dict[str, Any]]
    dpo: list[dict[str, Any]]
    card: DataCard

    def sft_dataset(self) -> Any:
        """A ``datasets.Dataset`` with one ``messages`` column (TRL SFT, conversational)."""
        return _dataset(self.sft, TRL_COLUMNS["sft"])

    def dpo_dataset(self) -> Any:
        """A ``datasets.Dataset`` with ``prompt`` / ``chosen`` / ``rejected`` (TRL DPO)."""
        return _dataset(self.dpo, TRL_COLUMNS["dpo"])

    def save(self, out_dir: Path) -> Path:
        """Write ``sft.jsonl``, ``dpo.jsonl`` and ``data_card.json`` (the card last: its presence
        marks a complete build)."""
        out_dir.mkdir(parents=True, exist_ok=True)
        for name, rows in (("sft", self.sft), ("dpo", self.dpo)):
            text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
            (out_dir / f"{name}.jsonl").write_text(text, encoding="utf-8")
        (out_dir / "data_card.json").write_text(self.card.model_dump_json(indent=2), encoding="utf-8")
        return out_dir

    @classmethod
    def load(cls, out_dir: Path) -> HardenData:
        """Read back what :meth:`save` wrote."""

        def rows(name: str) -> list[dict[str, Any]]:
            lines = (out_dir / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()
            return [json.loads(line) for line in lines if line.strip()]

        card = DataCard.model_validate_json((out_dir / "data_card.json").read_text(encoding="utf-8"))
        return cls(sft=rows("sft"), dpo=rows("dpo"), card=card)


def _dataset(rows: Sequence[dict[str, Any]], columns: tuple[str, ...]) -> Any:
    from datasets import Dataset

    return Dataset.from_list([{c: row[c] for c in columns} for row in rows])


async def sample_async(
    target: Target, probes: Sequence[Probe], k: int, progress: Progress | None = None
) -> list[list[Completion]]:
    """``k`` completions per probe (copies get distinct ids, so seeded samplers differ)."""
    copies = [p.model_copy(update={"id": f"{p.id}#s{j}"}) for p in probes for j in range(k)]
    completions: list[Completion] = []
    for start in range(0, len(copies), SAMPLE_CHUNK):
        completions += await target.generate_async(copies[start : start + SAMPLE_CHUNK])
        if progress is not None:
            progress("sampling", len(completions), len(copies))
    return [completions[i * k : (i + 1) * k] for i in range(len(probes))]


async def judge_samples_async(
    target_id: str, probes: Sequence[Probe], completions: Sequence[Sequence[Completion]], cfg: RSConfig
) -> list[list[Attempt]]:
    """Refusal verdicts (and tone verdicts, which read the refusal verdict) for every sample."""
    flat = [
        Attempt(probe=p, target=target_id, completion=c)
        for p, group in zip(probes, completions, strict=True)
        for c in group
    ]
    judges: list[Judge] = [create_judge(cfg.refusal_judge)]
    if cfg.tone_policy:
        judges.append(tone())
    for judge in judges:
        answered = [i for i, a in enumerate(flat) if a.ok]
        verdicts = await judge.judge_async([flat[i] for i in answered])
        for i, v in zip(answered, verdicts, strict=True):
            flat[i] = flat[i].with_verdicts([v])
    k = len(completions[0]) if completions else 0
    return [flat[i * k : (i + 1) * k] for i in range(len(probes))]


def read_sample(attempt: Attempt, kind: Kind, use_tone: bool) -> Sample:
    """Accept or reject one sample (see the module docstring for the rule)."""
    text = (attempt.response or "").strip()
    ref = attempt.verdict(Task.REFUSAL)
    label = ref.label if ref is not None else Label.UNSCORABLE
    tone_v = attempt.verdict(Task.TONE)
    tone_ok = None if tone_v is None or tone_v.label == Label.UNSCORABLE else tone_v.label == Label.PASS
    if not text or not attempt.ok:
        accepted = False
    elif kind == "harmful":
        accepted = label == Label.FULL_REFUSAL and (not use_tone or tone_ok is True)
    else:
        accepted = label == Label.FULL_COMPLIANCE and (not use_tone or tone_ok is not False)
    return Sample(text=text, refusal=label, tone_ok=tone_ok, accepted=accepted)


async def collect_async(
    target: Target, probes: Sequence[Probe], kind: Kind, cfg: RSConfig, progress: Progress | None = None
) -> list[PromptResult]:
    """Sample and judge ``probes``; one :class:`PromptResult` each."""
    if not probes:
        return []
    completions = await sample_async(target, probes, cfg.k, progress)
    attempts = await judge_samples_async(target.id, probes, completions, cfg)
    return [
        PromptResult(probe=p, kind=kind, samples=tuple(read_sample(a, kind, cfg.tone_policy) for a in group))
        for p, group in zip(probes, attempts, strict=True)
    ]


def benign_subset(benign: Sequence[Probe], n_harmful: int, cfg: RSConfig) -> list[Probe]:
    """The benign prompts worth sampling: ``benign_oversample`` times the rows the mix needs
    (seeded, pool order kept), or the whole pool when that is smaller."""
    want = math.ceil(n_benign_for(n_harmful, cfg.benign_ratio) * cfg.benign_oversample)
    if want >= len(benign):
        return list(benign)
    keep = {p.id for p in random.Random(f"benign\0{cfg.seed}").sample(list(benign), want)}
    return [p for p in benign if p.id in keep]


def n_benign_for(n_harmful: int, ratio: float) -> int:
    """Benign rows so that benign / (harmful + benign) equals ``ratio`` (to the nearest row)."""
    return round(n_harmful * ratio / (1.0 - ratio)) if ratio > 0 else 0


def _mix(rows: list[tuple[dict[str, Any], dict[str, str]]], n: int, seed: int, tag: str) -> list[Any]:
    """Exactly ``n`` of ``rows``: a seeded sample, or every row repeated in turn if too few."""
    if n <= 0 or not rows:
        return []
    rng = random.Random(f"{tag}\0{seed}")
    if n <= len(rows):
        return rng.sample(rows, n)
    shuffled = rng.sample(rows, len(rows))
    return [shuffled[i % len(shuffled)] for i in range(n)]


def _turns(probe: Probe) -> list[dict[str, str]]:
    return [{"role": m.role, "content": m.content} for m in probe.messages]


def _meta(probe: Probe, kind: Kind, origin: Origin) -> dict[str, str]:
    return {
        "probe_id": probe.id,
        "intent_id": probe.intent_id,
        "category": probe.category,
        "kind": kind,
        "origin": origin,
    }


def assemble(
    harmful: Sequence[PromptResult], benign: Sequence[PromptResult], cfg: RSConfig
) -> tuple[list[Any], list[Any], dict[str, int]]:
    """SFT rows and DPO pairs (each as (row, meta)), plus the counts for the data card."""
    sft_h, dpo_h, benign_sft, benign_dpo = [], [], [], []
    counts = {"fallback": 0, "own": 0, "no_rejected": 0, "synthetic_rejected": 0, "benign_dropped": 0}
    own = own_refusals(harmful)
    for r in harmful:
        origin, answer = _target(r, own, cfg.seed)
        counts["fallback"] += origin == "fallback"
        counts["own"] += origin == "own_refusal"
        assistant = {"role": "assistant", "content": answer}
        sft_h.append(({"messages": [*_turns(r.probe), assistant]}, _meta(r.probe, "harmful", origin)))
        bad = r.rejected()
        if bad is None:
            counts["no_rejected"] += 1
            continue
        pair = {"prompt": _turns(r.probe), "chosen": [assistant], "rejected": [_assistant(bad)]}
        dpo_h.append((pair, _meta(r.probe, "harmful", origin)))
    for r in benign:
        if not r.accepted:
            counts["benign_dropped"] += 1
            continue
        helpful = _assistant(r.accepted[0])
        benign_sft.append(({"messages": [*_turns(r.probe), helpful]}, _meta(r.probe, "benign", "sample")))
        bad = r.rejected()
        rejected = bad if bad is not None else templated_refusal(r.probe.prompt, seed=cfg.seed)
        pair = {"prompt": _turns(r.probe), "chosen": [helpful], "rejected": [_assistant(rejected)]}
        benign_dpo.append((pair, _meta(r.probe, "benign", "sample")))
    sft_b = _mix(benign_sft, n_benign_for(len(sft_h), cfg.benign_ratio), cfg.seed, "sft")
    dpo_b = _mix(benign_dpo, n_benign_for(len(dpo_h), cfg.benign_ratio), cfg.seed, "dpo")
    used = {m["probe_id"] for _, m in dpo_b}
    counts["synthetic_rejected"] = sum(
        1 for r in benign if r.probe.id in used and r.accepted and r.rejected() is None
    )
    rng = random.Random(f"order\0{cfg.seed}")
    sft = sft_h + sft_b
    dpo = dpo_h + dpo_b
    rng.shuffle(sft)
    rng.shuffle(dpo)
    counts.update(sft_benign=len(sft_b), dpo_benign=len(dpo_b))
    return sft, dpo, counts


def own_refusals(harmful: Sequence[PromptResult]) -> dict[str, list[str]]:
    """Per intent, the model's accepted refusals: those of its plain request first, then those
    of its other phrasings (each list deduplicated, order kept)."""
    out: dict[str, list[str]] = {}
    for plain_first in (True, False):
        for r in harmful:
            if (r.probe.variant == "plain") == plain_first:
                bucket = out.setdefault(r.probe.intent_id, [])
                bucket += [t for t in r.accepted if t not in bucket]
    return out


def _target(r: PromptResult, own: dict[str, list[str]], seed: int) -> tuple[Origin, str]:
    """(origin, answer) of one harmful phrasing's SFT target; see the module docstring."""
    if r.accepted:
        return "sample", r.accepted[0]
    borrowed = own.get(r.probe.intent_id, [])
    if borrowed:
        index = int.from_bytes(hashlib.sha256(f"{seed}\0{r.probe.id}".encode()).digest()[:4], "big")
        return "own_refusal", borrowed[index % len(borrowed)]
    return "fallback", templated_refusal(r.probe.prompt, seed=seed)


def _assistant(text: str) -> dict[str, str]:
    return {"role": "assistant", "content": text}


async def build_rejection_sampling_data_async(
    target: Target,
    pool: TrainPool,
    split: IntentSplit,
    cfg: RSConfig | None = None,
    progress: Progress | None = None,
) -> HardenData:
    """Sample, judge, keep, and emit TRL datasets for the train-side ``pool`` of ``split``."""
    cfg = cfg or RSConfig()
    harmful = await collect_async(target, pool.harmful, "harmful", cfg, progress)
    benign = await collect_async(
        target, benign_subset(pool.benign, len(harmful), cfg), "benign", cfg, progress
    )
    sft, dpo, counts = assemble(harmful, benign, cfg)
    n_h = len(harmful)
    card = DataCard(
        config=cfg,
        target=target.id,
        train_intents=split.train,
        eval_intents=split.eval,
        harmful_prompts=n_h,
        benign_prompts=len(benign),
        samples=(n_h + len(benign)) * cfg.k,
        harmful_accepted_prompts=n_h - counts["fallback"] - counts["own"],
        own_refusal_targets=counts["own"],
        fallback_refusals=counts["fallback"],
        fallback_rate=counts["fallback"] / n_h if n_h else 0.0,
        benign_accepted_prompts=len(benign) - counts["benign_dropped"],
        benign_dropped=counts["benign_dropped"],
        sft_rows=len(sft),
        sft_benign_rows=counts["sft_benign"],
        dpo_pairs=len(dpo),
        dpo_benign_pairs=counts["dpo_benign"],
        dpo_skipped_no_rejected=counts["no_rejected"],
        dpo_synthetic_rejected=counts["synthetic_rejected"],
    )
    return HardenData(
        sft=[{**row, **meta} for row, meta in sft], dpo=[{**row, **meta} for row, meta in dpo], card=card
    )


def build_rejection_sampling_data(
    target: Target,
    pool: TrainPool,
    split: IntentSplit,
    cfg: RSConfig | None = None,
    progress: Progress | None = None,
) -> HardenData:
    """Synchronous :func:`build_rejection_sampling_data_async` (closes nothing: the caller owns
    ``target``)."""
    return asyncio.run(build_rejection_sampling_data_async(target, pool, split, cfg, progress))


TRAINERS = ("sft", "dpo")


class RejectionSampling:
    """Adversarial rejection sampling + TRL SFT (accepted answers) or DPO (accepted vs rejected)."""

    name = "rejection-sampling"
    kind: Literal["trained", "inference"] = "trained"
    claims: tuple[Claim, ...] = (
        Claim(metric="jailbreak_rejection_rate", want="rises"),
        Claim(metric="false_rejection_rate", want="no_significant_rise"),
    )

    def __init__(self, cfg: RSConfig) -> None:
        self.cfg = cfg

    def apply(self, ctx: TechniqueContext) -> TechniqueOutput:
        trainer = ctx.trainer or "sft"
        if trainer not in TRAINERS:
            raise SafeforgeError(
                f"rejection-sampling trains with {' or '.join(TRAINERS)} (got --trainer {trainer})"
            )
        model_path = ctx.model_path()
        data_dir = ctx.work_dir / "data"
        started = time.perf_counter()
        if (data_dir / "data_card.json").is_file():
            data = HardenData.load(data_dir)
        else:
            data = self._build(ctx)
            data.save(data_dir)
        data_s = time.perf_counter() - started
        card = data.card
        ctx.log(
            f"{card.harmful_prompts} harmful + {card.benign_prompts} benign phrasings"
            f" × {self.cfg.k} samples; "
            f"{card.harmful_accepted_prompts} harmful phrasings kept a sample of their own, "
            f"{card.own_refusal_targets} borrowed the model's own refusal of the same intent, "
            f"templated fallback for {card.fallback_refusals} ({card.fallback_rate:.0%}); "
            f"{card.sft_rows} SFT rows, {card.dpo_pairs} DPO pairs"
        )
        started = time.perf_counter()
        source = f"safeforge harden: {self.name}"
        if trainer == "sft":
            trained = train_sft(model_path, data.sft, ctx.work_dir / "train", ctx.train, source=source)
            templated = card.fallback_refusals / max(1, card.sft_rows)
        else:
            train = ctx.train.model_copy(update={"sft_weight": self.cfg.sft_weight})
            trained = train_dpo(model_path, data.dpo, ctx.work_dir / "train", train, source=source)
            fallback_chosen = sum(row.get("origin") == "fallback" for row in data.dpo)
            templated = (fallback_chosen + card.dpo_synthetic_rejected) / max(1, card.dpo_pairs)
        return TechniqueOutput(
            technique=self.name,
            kind="trained",
            target=f"hf:{trained}",
            model_dir=trained,
            data_files=(data_dir / f"{trainer}.jsonl",),
            data_card=card.model_dump(mode="json"),
            template_share=templated,
            data_s=data_s,
            train_s=time.perf_counter() - started,
        )

    def demo_rows(self, seed: int) -> list[dict[str, Any]]:
        del seed
        return []

    def _build(self, ctx: TechniqueContext) -> HardenData:
        cfg = self.cfg.model_copy(update={"seed": ctx.seed})
        generation = Generation(
            max_new_tokens=cfg.max_new_tokens, temperature=cfg.temperature, top_p=cfg.top_p, seed=ctx.seed
        )

        async def run_async() -> HardenData:
            target = ctx.open_target(generation=generation)
            try:
                pool, split = ctx.pool, ctx.split
                return await build_rejection_sampling_data_async(target, pool, split, cfg, ctx.progress)
            finally:
                await target.aclose()

        return asyncio.run(run_async())


def rejection_sampling(**options: Any) -> RejectionSampling:
    """Sample k answers per train-side phrasing, keep what the judges accept, fine-tune on it."""
    return RejectionSampling(RSConfig.model_validate(options))


TECHNIQUES.register(rejection_sampling, "rejection-sampling")
