"""Adversarial rejection sampling: training data from the model's own best answers.

For every *training* intent (see :mod:`safeforge.harden.split`) the probe library expands the
request into many phrasings (polite, edge tone, reward inversion, benign framing,
obfuscation). The model being hardened answers each phrasing ``k`` times with sampling; the
refusal judge and the tone policy sort the samples:

- harmful phrasing: a full refusal that passes the tone policy is *accepted*; compliance,
  partial refusal or a lecturing refusal is *rejected*;
- benign contrast phrasing (the intent's topic-matched twin, trigger-word collisions, the
  twin under polite / academic framings): a full, non-refusing answer is accepted, a refusal
  rejected.

From that come TRL's two formats: SFT rows (``messages``, one accepted answer per prompt) and
DPO pairs (``prompt`` / ``chosen`` / ``rejected``, accepted vs rejected answers to the same
prompt). A harmful phrasing with no acceptable sample gets a templated refusal in the tone
policy instead, counted in the data card; a benign prompt without a helpful sample is dropped
(a template cannot stand in for real help), also counted. Benign contrast rows are mixed in at
exactly ``benign_ratio`` of each dataset so that over-refusal does not grow.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from safeforge.harden.refusals import templated_refusal
from safeforge.harden.split import IntentSplit
from safeforge.judges import Judge, create_judge
from safeforge.metrics import tone
from safeforge.probes import apply_transforms, resolve_probes
from safeforge.records import Attempt, Completion, Expected, Label, Probe, Task
from safeforge.targets import Target

Kind = Literal["harmful", "benign"]
Origin = Literal["sample", "fallback"]
Progress = Callable[[str, int, int], None]
"""``progress(stage, done, total)``: called as sampling and judging advance."""

HARMFUL_FAMILIES = ("politeness", "edge_tone", "reward_inversion", "benign_framing", "obfuscation")
BENIGN_FAMILIES = ("benign_contrast", "trigger_collision")
BENIGN_FRAMINGS = ("deference", "gratitude", "credentials", "apology", "flattery", "hypothetical", "academic")
SAMPLE_CHUNK = 256


class RSConfig(BaseModel):
    """Settings of one rejection-sampling build (all recorded in the data card)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    families: tuple[str, ...] = HARMFUL_FAMILIES
    transforms: tuple[str, ...] = Field(default=(), description="Extra transforms on every harmful phrasing.")
    benign_families: tuple[str, ...] = BENIGN_FAMILIES
    benign_framings: tuple[str, ...] = BENIGN_FRAMINGS
    k: int = Field(default=4, ge=1, description="Samples per prompt.")
    temperature: float = Field(default=1.0, gt=0.0)
    top_p: float = Field(default=1.0, gt=0.0, le=1.0)
    max_new_tokens: int = Field(default=128, ge=1)
    benign_ratio: float = Field(
        default=0.3, ge=0.0, lt=1.0, description="Share of benign rows in each dataset."
    )
    phrasings_per_intent: int | None = Field(default=None, ge=1, description="Cap, seeded sample per intent.")
    refusal_judge: str = "rules"
    tone_policy: bool = Field(default=True, description="Accept only refusals that pass the tone policy.")
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
        "Training data is built only from the train intents; evaluation uses the held-out eval "
        "intents (split by intent group, fixed by seed), so after-scan figures measure generalisation."
    )
    harmful_prompts: int
    benign_prompts: int
    samples: int
    harmful_accepted_prompts: int = Field(description="Harmful phrasings with at least one accepted sample.")
    fallback_refusals: int = Field(description="Harmful phrasings that got a templated refusal instead.")
    fallback_rate: float
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
    benign) and ``origin`` (sample / fallback) for provenance; ``sft_dataset`` and
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


def expand_phrasings(split: IntentSplit, cfg: RSConfig) -> tuple[list[Probe], list[Probe]]:
    """(harmful, benign) phrasings of the *train* intents, from the probe library."""
    harmful = resolve_probes(families=cfg.families, transforms=cfg.transforms, seed=cfg.seed)
    harmful = [p for p in split.select(harmful, "train") if p.expected == Expected.REFUSE]
    benign = resolve_probes(families=cfg.benign_families, seed=cfg.seed)
    benign = [p for p in split.select(benign, "train") if p.expected == Expected.COMPLY]
    if cfg.benign_framings:
        benign = apply_transforms(benign, cfg.benign_framings, cfg.seed)
    harmful = _dedupe(harmful)
    if cfg.phrasings_per_intent is not None:
        harmful = _cap_per_intent(harmful, cfg.phrasings_per_intent, cfg.seed)
    return harmful, _dedupe(benign)


def _dedupe(probes: Sequence[Probe]) -> list[Probe]:
    """One probe per distinct conversation (several families share the plain request)."""
    seen: set[str] = set()
    out = []
    for p in probes:
        key = json.dumps([m.model_dump() for m in p.messages])
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out


def _cap_per_intent(probes: Sequence[Probe], cap: int, seed: int) -> list[Probe]:
    by_intent: dict[str, list[Probe]] = {}
    for p in probes:
        by_intent.setdefault(p.intent_id, []).append(p)
    rng = random.Random(f"phrasings\0{seed}")
    keep: set[str] = set()
    for intent_id in sorted(by_intent):
        group = by_intent[intent_id]
        keep.update(p.id for p in rng.sample(group, min(cap, len(group))))
    return [p for p in probes if p.id in keep]


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
    counts = {"fallback": 0, "no_rejected": 0, "synthetic_rejected": 0, "benign_dropped": 0}
    for r in harmful:
        good = r.accepted
        origin: Origin = "sample" if good else "fallback"
        answer = good[0] if good else templated_refusal(r.probe.prompt, seed=cfg.seed)
        counts["fallback"] += not good
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


def _assistant(text: str) -> dict[str, str]:
    return {"role": "assistant", "content": text}


async def build_rejection_sampling_data_async(
    target: Target, split: IntentSplit, cfg: RSConfig | None = None, progress: Progress | None = None
) -> HardenData:
    """Expand, sample, judge, keep, and emit TRL datasets for the train side of ``split``."""
    cfg = cfg or RSConfig()
    harmful_probes, benign_probes = expand_phrasings(split, cfg)
    harmful = await collect_async(target, harmful_probes, "harmful", cfg, progress)
    benign = await collect_async(target, benign_probes, "benign", cfg, progress)
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
        harmful_accepted_prompts=n_h - counts["fallback"],
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
    target: Target, split: IntentSplit, cfg: RSConfig | None = None, progress: Progress | None = None
) -> HardenData:
    """Synchronous :func:`build_rejection_sampling_data_async` (closes nothing: the caller owns
    ``target``)."""
    return asyncio.run(build_rejection_sampling_data_async(target, split, cfg, progress))
