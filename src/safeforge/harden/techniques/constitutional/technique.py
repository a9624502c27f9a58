"""``harden --technique constitutional``: SL-CAI (critique → revision SFT), then RL-CAI (AI
feedback → DPO), optionally a preference model exposed as a judge.

``--trainer sft`` (the default) runs the supervised phase; ``--trainer dpo`` runs both, as in
the paper: pairs are sampled from the SL-CAI model (``-o rl_from=base``: from the original) and
DPO starts from it. SL-CAI is the default because it needs only critiques and revisions the
judges accept; RL-CAI also needs a helper whose choices do not depend on the order the answers
are shown in, which the data card measures (``rl.order_agreement``).

``-o reward_model=true`` also trains a preference model on the AI-feedback pairs with TRL's
RewardTrainer; its directory, loadable as ``create_judge("reward_model", model=DIR)`` (a judge
and, through ``as_reward``, a TRL reward), is in the data card.

Every stage writes its file under ``work_dir/data`` (or its model under ``work_dir/train``)
and is reused on a rerun::

    data/probe.jsonl       the model's k samples per train-side prompt, with the judges' reading
    data/revisions.jsonl   critique → revision rounds per prompt, the judged final revision
    data/sft.jsonl         TRL messages rows (accepted revisions + benign helpfulness rows)
    data/pairs.jsonl       two policy samples per prompt and the helper's choices in both orders
    data/dpo.jsonl         TRL prompt/chosen/rejected rows
    data/data_card.json    the counts (``CAIDataCard``)
    train/sl, train/rl, train/rm   the SL-CAI model, the RL-CAI adapter, the preference model
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import Counter
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from safeforge.errors import SafeforgeError
from safeforge.harden.techniques._base import TECHNIQUES, Claim, TechniqueContext, TechniqueOutput
from safeforge.harden.techniques.constitutional import card as cards
from safeforge.harden.techniques.constitutional.constitution import Constitution, load_constitution
from safeforge.harden.techniques.constitutional.demo import demo_rows
from safeforge.harden.techniques.constitutional.helper import Helper, feedback_mode, open_helper
from safeforge.harden.techniques.constitutional.rl import (
    Feedback,
    feedback_async,
    feedback_stats,
    sample_pairs_async,
)
from safeforge.harden.techniques.constitutional.sl import (
    Acceptor,
    Chain,
    accept_async,
    kind_of,
    probe_policy_async,
    revise_async,
    to_revise,
)
from safeforge.harden.techniques.rejection_sampling import PromptResult
from safeforge.harden.train import TrainConfig, train_dpo, train_reward, train_sft
from safeforge.records import Probe
from safeforge.run.config import redact_url
from safeforge.targets import Generation

M = TypeVar("M", bound=BaseModel)
TRAINERS = ("sft", "dpo")


class CAIConfig(BaseModel):
    """Settings of one Constitutional AI build (``-o KEY=VALUE``; all recorded in the data card)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    constitution: Path | None = Field(default=None, description="Constitution YAML; None: the bundled one.")
    helper: str | None = Field(
        default=None, description="Helper target spec; None: the model being hardened."
    )
    helper_base_url: str | None = None
    helper_api_key_env: str = Field(default="OPENAI_API_KEY", description="Env var holding the helper's key.")
    helper_max_new_tokens: int = Field(default=256, ge=1)
    helper_concurrency: int = Field(default=16, ge=1)
    rounds: int = Field(default=2, ge=1, description="Critique → revision rounds per prompt.")
    k: int = Field(default=2, ge=1, description="Samples per train-side prompt when looking for failures.")
    temperature: float = Field(default=1.0, gt=0.0)
    top_p: float = Field(default=1.0, gt=0.0, le=1.0)
    max_new_tokens: int = Field(default=128, ge=1, description="Tokens per policy sample.")
    max_prompts: int | None = Field(
        default=None, ge=1, description="Cap on red-team prompts revised (seeded)."
    )
    benign_ratio: float = Field(default=0.3, ge=0.0, lt=1.0, description="Share of benign rows in each set.")
    min_rows: int = Field(
        default=32,
        ge=1,
        description="Fewer accepted SFT rows than this stops the run: a model fine-tuned for many "
        "steps on a handful of rows learns those rows, not the principles.",
    )
    judge: Literal["auto", "critic", "rules+tone"] = "auto"
    rl_from: Literal["sl", "base"] = "sl"
    reward_model: bool = False
    seed: int = 0


def _load_rows(path: Path, model: type[M]) -> list[M]:
    return [model.model_validate_json(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def _write_lines(path: Path, lines: Sequence[str]) -> None:
    """Write atomically: a killed run leaves no half file that a rerun would take as finished."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    tmp.replace(path)


def _stage(path: Path, model: type[M], build: Callable[[], Coroutine[Any, Any, list[M]]]) -> list[M]:
    """The rows in ``path`` if a finished run left them, else ``build()``'s (then saved)."""
    if path.is_file():
        return _load_rows(path, model)
    rows = asyncio.run(build())
    _write_lines(path, [r.model_dump_json() for r in rows])
    return rows


def _write_json_rows(path: Path, rows: Sequence[dict[str, Any]]) -> None:
    _write_lines(path, [json.dumps(r, ensure_ascii=False) for r in rows])


def _trained(out: Path, cfg: TrainConfig, fit: Callable[[], Path]) -> Path:
    """A finished training in ``out`` (its data card is written last) is reused."""
    if (out / "data_card.json").is_file():
        merged = cfg.merge or cfg.trainer == "reward" or not cfg.lora
        return out / ("model" if merged else "adapter")
    return fit()


class Constitutional:
    """Critique → revision SFT and AI-feedback DPO under a constitution (see the module docstring)."""

    name = "constitutional"
    kind: Literal["trained", "inference"] = "trained"
    claims: tuple[Claim, ...] = (
        Claim(metric="jailbreak_rejection_rate", want="rises"),
        Claim(metric="tone_adherence", want="rises"),
        Claim(metric="false_rejection_rate", want="no_significant_rise"),
    )

    def __init__(self, cfg: CAIConfig, constitution: Constitution) -> None:
        self.cfg, self.constitution = cfg, constitution

    def demo_rows(self, seed: int) -> list[dict[str, Any]]:
        return demo_rows(seed, self.constitution)

    def apply(self, ctx: TechniqueContext) -> TechniqueOutput:
        trainer = ctx.trainer or "sft"
        if trainer not in TRAINERS:
            raise SafeforgeError(
                f"constitutional trains with {' or '.join(TRAINERS)} (got --trainer {trainer})"
            )
        cfg = self.cfg.model_copy(update={"seed": ctx.seed})
        run = _Run(ctx, cfg, self.constitution)
        return run.go(trainer)


class _Run:
    """One apply: the stages in order, each reusing its file when a finished run left it."""

    def __init__(self, ctx: TechniqueContext, cfg: CAIConfig, constitution: Constitution) -> None:
        self.ctx, self.cfg, self.constitution = ctx, cfg, constitution
        self.data, self.models = ctx.work_dir / "data", ctx.work_dir / "train"
        self.helper_spec = cfg.helper or ctx.base
        self.acceptor = Acceptor(cfg.judge)
        self.sampling = Generation(
            max_new_tokens=cfg.max_new_tokens, temperature=cfg.temperature, top_p=cfg.top_p, seed=ctx.seed
        )
        self.data_s = self.train_s = 0.0

    def go(self, trainer: str) -> TechniqueOutput:
        started = time.perf_counter()
        probed = _stage(self.data / "probe.jsonl", PromptResult, self._probe)
        self.data_s += time.perf_counter() - started
        use_sl = trainer == "sft" or self.cfg.rl_from == "sl"
        sl_stats, sl_model = self._sl_phase(probed, merge=trainer == "dpo") if use_sl else (None, None)
        final, files = sl_model, ["sft.jsonl"]
        feedback: list[Feedback] | None = None
        dpo: list[dict[str, Any]] = []
        if trainer == "dpo" or self.cfg.reward_model:
            policy = str(sl_model) if sl_model is not None else self.ctx.model_path()
            feedback, dpo = self._rl_data(policy, probed)
            if trainer == "dpo":
                final = self._fit(
                    "rl",
                    lambda c: train_dpo(policy, dpo, self.models / "rl", c, source=self._source("RL-CAI")),
                    "dpo",
                )
                files = ["sft.jsonl", "dpo.jsonl"] if use_sl else ["dpo.jsonl"]
        reward = self._reward_model(dpo) if self.cfg.reward_model else None
        assert final is not None  # sft trains SL-CAI; dpo trains RL-CAI
        card = self._card(trainer, sl_stats, feedback, dpo, reward)
        _write_lines(self.data / "data_card.json", [card.model_dump_json(indent=2)])
        return TechniqueOutput(
            technique="constitutional",
            kind="trained",
            target=f"hf:{final}",
            model_dir=final,
            data_files=tuple(self.data / f for f in files),
            data_card=card.model_dump(mode="json"),
            template_share=0.0,
            data_s=self.data_s,
            train_s=self.train_s,
        )

    def _helper(self) -> Helper:
        cfg = self.cfg
        return open_helper(
            self.helper_spec,
            base_url=cfg.helper_base_url,
            api_key_env=cfg.helper_api_key_env,
            batch_size=self.ctx.batch_size,
            concurrency=cfg.helper_concurrency,
            max_new_tokens=cfg.helper_max_new_tokens,
        )

    def _source(self, phase: str) -> str:
        return f"safeforge harden: constitutional ({phase}), helper {self.helper_spec}"

    def _fit(self, name: str, fit: Callable[[TrainConfig], Path], kind: str, merge: bool = False) -> Path:
        started = time.perf_counter()
        cfg = self.ctx.train.model_copy(update={"trainer": kind, "merge": self.ctx.train.merge or merge})
        path = _trained(self.models / name, cfg, lambda: fit(cfg))
        self.train_s += time.perf_counter() - started
        return path

    def _sl_phase(self, probed: Sequence[PromptResult], *, merge: bool) -> tuple[cards.SLStats, Path]:
        """Critique → revision data, then SFT on it (merged when RL-CAI follows, so DPO starts
        from a whole model)."""
        started = time.perf_counter()
        chains = _stage(self.data / "revisions.jsonl", Chain, lambda: self._revise(probed))
        sft = cards.sft_rows(
            chains,
            probed,
            helper=self.helper_spec,
            accepted_by=self.acceptor.name,
            benign_ratio=self.cfg.benign_ratio,
            seed=self.ctx.seed,
        )
        _write_json_rows(self.data / "sft.jsonl", sft)
        stats = cards.sl_stats(probed, chains, sft, self.cfg.k, self.cfg.rounds)
        self.ctx.log(
            f"SL-CAI: {stats.red_team_prompts} red-team + {stats.benign_failures} benign failures of "
            f"{stats.harmful_prompts + stats.benign_prompts} prompts; {stats.critique_requests} critiques "
            f"({stats.malformed_critiques} malformed; {stats.malformed_revisions} revisions malformed); "
            f"{stats.accepted} revisions accepted, {stats.rejected} rejected by {self.acceptor.name}; "
            f"{len(sft)} SFT rows"
        )
        self.data_s += time.perf_counter() - started
        if len(sft) < self.cfg.min_rows:
            raise SafeforgeError(
                f"constitutional: {len(sft)} SFT rows, fewer than min_rows={self.cfg.min_rows} "
                f"({stats.red_team_prompts} red-team prompts, {stats.revised_rounds} revisions, "
                f"{stats.accepted} accepted by {self.acceptor.name}); see {self.data / 'revisions.jsonl'}"
            )
        base = self.ctx.model_path()
        source = self._source("SL-CAI")
        model = self._fit(
            "sl", lambda c: train_sft(base, sft, self.models / "sl", c, source=source), "sft", merge=merge
        )
        return stats, model

    def _rl_data(
        self, policy: str, probed: Sequence[PromptResult]
    ) -> tuple[list[Feedback], list[dict[str, Any]]]:
        """Pairs sampled from ``policy`` on the red-team prompts (+ benign ones), AI feedback on
        each, and the DPO rows it yields."""
        started = time.perf_counter()
        harmful = [p for p, _ in self._to_revise(probed) if kind_of(p) == "harmful"]
        prompts = cards.rl_prompts(probed, harmful, self.cfg.benign_ratio, self.ctx.seed)
        feedback = _stage(self.data / "pairs.jsonl", Feedback, lambda: self._feedback(policy, prompts))
        dpo = cards.dpo_rows(feedback, helper=self.helper_spec, mode=feedback_mode(self.helper_spec))
        _write_json_rows(self.data / "dpo.jsonl", dpo)
        stats = feedback_stats(feedback)
        agreement = stats.order_agreement
        self.ctx.log(
            f"RL-CAI: {stats.prompts} prompts × 2 samples; {stats.identical_skipped} identical, "
            f"{stats.malformed_choices} malformed choices, {stats.ties} ties; the two orders agree on "
            f"{agreement.k}/{agreement.n}; {len(dpo)} DPO pairs"
        )
        self.data_s += time.perf_counter() - started
        if not dpo:
            raise SafeforgeError("constitutional: no AI-feedback pairs (all identical, malformed or tied)")
        return feedback, dpo

    def _reward_model(self, rows: list[dict[str, Any]]) -> dict[str, Any]:
        """The preference model on the AI-feedback pairs, with its pair accuracy on them (a
        training-set figure, labelled so)."""
        from safeforge.judges import create_judge

        base, source = self.ctx.model_path(), self._source("preference model")
        path = self._fit(
            "rm", lambda c: train_reward(base, rows, self.models / "rm", c, source=source), "reward"
        )
        judge: Any = create_judge("reward_model", model=str(path))
        prompts = [r["prompt"][-1]["content"] for r in rows]
        chosen = judge.scores(prompts, [r["chosen"][0]["content"] for r in rows])
        rejected = judge.scores(prompts, [r["rejected"][0]["content"] for r in rows])
        right = sum(c > r for c, r in zip(chosen, rejected, strict=True))
        return {
            "path": str(path),
            "judge": f"reward_model?model={path}",
            "pairs": len(rows),
            "train_pair_accuracy": right / len(rows),
            "note": "accuracy on the pairs it was trained on (not held out)",
        }

    async def _probe(self) -> list[PromptResult]:
        ctx = self.ctx
        target = ctx.open_target(generation=self.sampling)
        try:
            probes = [*ctx.pool.harmful, *ctx.pool.benign]
            return await probe_policy_async(target, probes, self.cfg.k, self.acceptor, ctx.progress)
        finally:
            await target.aclose()

    def _to_revise(self, probed: Sequence[PromptResult]) -> list[tuple[Probe, str]]:
        """Red-team prompts (at most ``max_prompts``, a seeded sample) and benign failures, each
        with the response to revise."""
        items = [(r.probe, bad) for r in probed if (bad := to_revise(r)) is not None]
        cap = self.cfg.max_prompts
        harmful = [p.id for p, _ in items if kind_of(p) == "harmful"]
        if cap is not None and len(harmful) > cap:
            keep = set(random.Random(f"cai-cap\0{self.ctx.seed}").sample(harmful, cap))
            items = [(p, r) for p, r in items if kind_of(p) == "benign" or p.id in keep]
        return items

    async def _revise(self, probed: Sequence[PromptResult]) -> list[Chain]:
        helper = self._helper()
        try:
            items = self._to_revise(probed)
            chains = await revise_async(
                helper, self.constitution, items, self.cfg.rounds, self.ctx.seed, self.ctx.progress
            )
        finally:
            await helper.aclose()
        return await accept_async(self.helper_spec, chains, self.acceptor)

    async def _feedback(self, policy: str, prompts: Sequence[Probe]) -> list[Feedback]:
        target = self.ctx.open_target(f"hf:{policy}", generation=self.sampling)
        try:
            answers = await sample_pairs_async(target, prompts, self.ctx.progress)
        finally:
            await target.aclose()
        helper = self._helper()
        try:
            return await feedback_async(helper, self.constitution, prompts, answers, self.ctx.seed)
        finally:
            await helper.aclose()

    def _card(
        self,
        trainer: str,
        sl_stats: cards.SLStats | None,
        feedback: list[Feedback] | None,
        dpo: list[dict[str, Any]],
        reward: dict[str, Any] | None,
    ) -> cards.CAIDataCard:
        ctx, cfg = self.ctx, self.cfg
        config = cfg.model_dump(mode="json")
        if cfg.helper_base_url:
            config["helper_base_url"] = redact_url(cfg.helper_base_url)
        phases = (
            ("sl",) * (sl_stats is not None) + ("rl",) * (trainer == "dpo") + ("pm",) * (reward is not None)
        )
        return cards.CAIDataCard(
            phases=phases,
            config=config,
            target=ctx.base,
            helper=self.helper_spec,
            helper_base_url=config["helper_base_url"],
            feedback=feedback_mode(self.helper_spec),
            constitution={
                "path": str(cfg.constitution) if cfg.constitution else "default (bundled)",
                "fingerprint": self.constitution.fingerprint(),
                "principles": [p.id for p in self.constitution.principles],
            },
            accepted_by=self.acceptor.name,
            train_intents=ctx.split.train,
            eval_intents=ctx.split.eval,
            sl=sl_stats,
            rl=feedback_stats(feedback) if feedback is not None else None,
            dpo_pairs=len(dpo),
            dpo_pairs_by_kind=dict(sorted(Counter(r["kind"] for r in dpo).items())),
            reward_model=reward,
        )


def constitutional(**options: Any) -> Constitutional:
    """Critique → revision SFT, then AI-feedback DPO, under a constitution."""
    cfg = CAIConfig.model_validate(options)
    return Constitutional(cfg, load_constitution(cfg.constitution))


TECHNIQUES.register(constitutional, "constitutional")
