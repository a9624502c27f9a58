"""Online RL through TRL's GRPOTrainer (LoRA by default), with a cost constraint and an alarm.

safeforge supplies the prompts and the reward functions (``safeforge.judges.rewards``); TRL's
``GRPOTrainer`` samples, scores and updates, unchanged. Around it, one trainer callback
(:class:`ShapingMonitor`) does three things after every optimizer step:

- **logs every reward term**: the mean of each reward function over the step's completions and
  the weighted total, gathered over all processes, one JSON line per step in
  ``out_dir/rewards.jsonl`` (TRL also logs ``rewards/<term>/mean`` at its logging steps);
- **updates a Lagrange multiplier** when a :class:`~safeforge.judges.rewards.CostConstraint` is
  set (Safe-RLHF's idea on TRL): the penalty term (minus the cost) gets weight ``λ``, and
  ``λ ← clip(λ + lr·(mean cost − threshold), 0, λ_max)``, written into the trainer's reward
  weights, so the next step's advantages use the new λ;
- **watches for reward hacking** (:class:`~safeforge.harden.alarm.HackingAlarm`): every K steps
  a held-out validation slice is answered by the current policy and judged; the alarm fires
  when the shaped reward has risen but the held-out outcomes it should buy have not (under a
  constraint it watches the reward with λ held at ``lambda_init``, the policy's doing only).

Multi-GPU / multi-node: ``python -m safeforge.harden.train --config job.yaml`` with
``train.trainer: grpo`` (and ``rewards: rewards.yaml``) runs this under ``accelerate launch``;
rewards are computed on each process's share of the completions and gathered, the multiplier is
updated from the all-process mean, so every process holds the same λ. With ``use_vllm`` TRL
generates with vLLM (GPU only; ``vllm_mode: colocate`` or ``server`` with ``trl vllm-serve``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from safeforge.errors import SafeforgeError, require
from safeforge.harden.alarm import AlarmReport, HackingAlarm
from safeforge.harden.train import TrainConfig, _check_rows, _load, _trl_args, lora_config, save_trained
from safeforge.judges import RewardFn
from safeforge.judges.rewards import CostConstraint, RewardTerms, load_reward_config


class StepRewards(BaseModel):
    """One optimizer step's rewards, over every process's completions."""

    model_config = ConfigDict(frozen=True)

    step: int
    samples: int = Field(description="Completions scored in this step (all processes).")
    terms: dict[str, float | None] = Field(description="Mean of each reward function (None: no value).")
    reward: float = Field(description="Mean weighted total, as TRL sums it (None adds nothing).")
    cost: float | None = Field(default=None, description="Mean cost of the constrained term.")
    lagrange: float | None = Field(default=None, description="λ used for this step's rewards.")


def _all_reduce(values: list[float]) -> list[float]:
    """Sum ``values`` over all processes (a no-op without torch.distributed)."""
    torch = require("torch", "train")
    dist = torch.distributed
    if not (dist.is_available() and dist.is_initialized()):
        return values
    tensor = torch.tensor(values, dtype=torch.float64)
    dist.all_reduce(tensor)
    return [float(v) for v in tensor.tolist()]


def _all_gather(value: int) -> list[int]:
    torch = require("torch", "train")
    dist = torch.distributed
    if not (dist.is_available() and dist.is_initialized()):
        return [value]
    out: list[Any] = [None] * dist.get_world_size()
    dist.all_gather_object(out, value)
    return [int(v) for v in out]


class RewardLedger:
    """Wraps reward functions so that what they return is recorded until the next ``drain``.

    ``weights`` is the live weight list (the Lagrangian rewrites the cost term's entry); the
    totals use the weights in force when the rewards were computed.
    """

    def __init__(self, funcs: Sequence[RewardFn], weights: Sequence[float]) -> None:
        if len(funcs) != len(weights):
            raise SafeforgeError(f"{len(funcs)} reward functions but {len(weights)} weights")
        self.names = [f.__name__ for f in funcs]
        if len(set(self.names)) != len(self.names):
            raise SafeforgeError(f"reward functions need distinct names (got {self.names})")
        self.funcs = [self._wrap(i, f) for i, f in enumerate(funcs)]
        self.weights = [float(w) for w in weights]
        self._sums = [0.0] * len(funcs)
        self._counts = [0] * len(funcs)
        self._samples = 0
        self._last: tuple[list[float], int] = ([0.0] * len(funcs), 0)
        self.local_samples = 0
        """Completions this process scored over the whole run."""

    def _wrap(self, i: int, func: RewardFn) -> RewardFn:
        def recorded(prompts: Sequence[Any], completions: Sequence[Any], **kwargs: Any) -> list[float | None]:
            values = func(prompts=prompts, completions=completions, **kwargs)
            kept = [float(v) for v in values if v is not None and math.isfinite(v)]
            self._sums[i] += sum(kept)
            self._counts[i] += len(kept)
            if i == 0:
                self._samples += len(completions)
                self.local_samples += len(completions)
            return values

        recorded.__name__ = func.__name__
        return recorded

    def drain(self, step: int) -> StepRewards | None:
        """The step's means over all processes (every process must call it), then reset."""
        n = len(self.names)
        reduced = _all_reduce([*self._sums, *map(float, self._counts), float(self._samples)])
        self._sums, self._counts, self._samples = [0.0] * n, [0] * n, 0
        sums, counts, samples = reduced[:n], reduced[n : 2 * n], int(reduced[-1])
        if samples == 0:
            return None
        self._last = (sums, samples)
        terms = {name: (s / c if c else None) for name, s, c in zip(self.names, sums, counts, strict=True)}
        return StepRewards(step=step, samples=samples, terms=terms, reward=self.total(self.weights))

    def total(self, weights: Sequence[float]) -> float:
        """The last drained step's mean total under ``weights`` (TRL's nan-sum, per completion)."""
        sums, samples = self._last
        return sum(w * s for w, s in zip(weights, sums, strict=True)) / max(1, samples)


class Lagrangian:
    """The multiplier of a cost constraint (see the module docstring for the update)."""

    def __init__(self, constraint: CostConstraint) -> None:
        self.constraint = constraint
        self.value = constraint.lambda_init

    def update(self, mean_cost: float) -> float:
        c = self.constraint
        self.value = min(c.lambda_max, max(0.0, self.value + c.lambda_lr * (mean_cost - c.threshold)))
        return self.value


class ShapingMonitor:
    """Per-step reward log, Lagrange update and hacking alarm; ``callback()`` gives TRL's hook."""

    def __init__(
        self,
        ledger: RewardLedger,
        *,
        constraint: CostConstraint | None = None,
        alarm: HackingAlarm | None = None,
        log_path: Path | None = None,
    ) -> None:
        self.ledger = ledger
        self.lagrangian = Lagrangian(constraint) if constraint else None
        self.cost_index = None
        if constraint is not None:
            if constraint.cost not in ledger.names:
                raise SafeforgeError(f"cost term {constraint.cost!r} is not among the rewards {ledger.names}")
            self.cost_index = ledger.names.index(constraint.cost)
            ledger.weights[self.cost_index] = constraint.lambda_init
        self.alarm = alarm
        self.log_path = log_path
        self.history: list[StepRewards] = []
        self._trainer_weights: Any = None

    def bind(self, trainer: Any) -> None:
        """Share the trainer's reward-weight tensor, so a new λ reaches TRL's advantage sums."""
        self._trainer_weights = trainer.reward_weights
        self._trainer_weights[:] = require("torch", "train").tensor(self.ledger.weights)

    def step_end(self, step: int, main: bool, model: Any, tokenizer: Any) -> None:
        record = self.ledger.drain(step)
        if record is None:
            return
        if self.lagrangian is not None and self.cost_index is not None:
            value = record.terms[self.ledger.names[self.cost_index]]
            cost = 0.0 - value if value is not None else None
            used = self.lagrangian.value
            if cost is not None:
                lam = self.lagrangian.update(cost)
                self.ledger.weights[self.cost_index] = lam
                if self._trainer_weights is not None:
                    self._trainer_weights[self.cost_index] = lam
            record = record.model_copy(update={"cost": cost, "lagrange": used})
        self.history.append(record)
        if main and self.log_path is not None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            with self.log_path.open("a", encoding="utf-8") as fh:
                fh.write(record.model_dump_json() + "\n")
        if main and self.alarm is not None:
            self.alarm.observe(record.step, self._alarm_reward(record), model, tokenizer)

    def _alarm_reward(self, record: StepRewards) -> float:
        """The reward the alarm watches: under a constraint, with λ held at its start, so a
        moving multiplier does not look like the policy gaining or losing reward."""
        if self.lagrangian is None or self.cost_index is None:
            return record.reward
        weights = list(self.ledger.weights)
        weights[self.cost_index] = self.lagrangian.constraint.lambda_init
        return self.ledger.total(weights)

    def callback(self) -> Any:
        """A ``transformers.TrainerCallback`` calling this monitor."""
        require("transformers", "train")
        from transformers import TrainerCallback

        monitor = self

        class _Callback(TrainerCallback):
            def on_train_begin(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
                if monitor.alarm is not None and state.is_world_process_zero:
                    monitor.alarm.baseline(kw["model"], kw["processing_class"])

            def on_step_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
                main = bool(state.is_world_process_zero)
                monitor.step_end(state.global_step, main, kw["model"], kw["processing_class"])

        return _Callback()

    def card(self) -> dict[str, Any]:
        """What the data card records: first/last step means, λ path, the alarm."""
        out: dict[str, Any] = {"steps_logged": len(self.history)}
        if self.history:
            first, last = self.history[0], self.history[-1]
            out["first_step"] = first.model_dump(mode="json")
            out["last_step"] = last.model_dump(mode="json")
        if self.lagrangian is not None:
            out["lagrangian"] = {
                **self.lagrangian.constraint.model_dump(mode="json"),
                "final_lambda": self.lagrangian.value,
                "lambda_path": [r.lagrange for r in self.history],
                "cost_path": [r.cost for r in self.history],
            }
        if self.alarm is not None:
            out["alarm"] = self.alarm.report().model_dump(mode="json")
        return out


class GRPOResult(BaseModel):
    """What :func:`train_grpo` returns."""

    model_config = ConfigDict(frozen=True)

    model_dir: Path
    steps: list[StepRewards]
    alarm: AlarmReport | None
    final_lambda: float | None
    samples_per_rank: list[int]
    trl_log: list[dict[str, Any]] = Field(description="TRL's own log entries (trainer.state.log_history).")


def build_grpo_trainer(
    model_path: str | Path,
    rows: Sequence[Mapping[str, Any]],
    out_dir: Path,
    cfg: TrainConfig,
    funcs: Sequence[RewardFn],
    weights: Sequence[float],
    callbacks: Sequence[Any] = (),
) -> Any:
    """TRL's GRPOTrainer for ``rows`` (``prompt`` plus any columns the rewards read)."""
    trl = require("trl", "train")
    transformers = require("transformers", "train")
    _check_rows(rows, "grpo")
    per_step = cfg.batch_size * cfg.gradient_accumulation_steps
    if per_step % cfg.num_generations:
        raise SafeforgeError(
            f"GRPO: batch_size × gradient_accumulation_steps ({per_step}) must be a multiple of "
            f"num_generations ({cfg.num_generations})"
        )
    transformers.set_seed(cfg.seed)
    model, tok = _load(model_path, cfg)
    args = _trl_args(cfg, out_dir)
    del args["max_length"]  # GRPO caps completions instead
    grpo_args = trl.GRPOConfig(
        **args,
        num_generations=cfg.num_generations,
        max_completion_length=cfg.max_completion_length,
        temperature=cfg.temperature,
        beta=cfg.beta,
        scale_rewards=cfg.scale_rewards,
        reward_weights=list(weights),
        use_vllm=cfg.use_vllm,
        vllm_mode=cfg.vllm_mode,
        vllm_server_base_url=cfg.vllm_server_base_url,
    )
    dataset = require("datasets", "train").Dataset.from_list([dict(r) for r in rows])
    return trl.GRPOTrainer(
        model=model,
        reward_funcs=list(funcs),
        args=grpo_args,
        train_dataset=dataset,
        processing_class=tok,
        peft_config=lora_config(cfg, model.config.model_type) if cfg.lora else None,
        callbacks=list(callbacks),
    )


def train_grpo(
    model_path: str | Path,
    rows: Sequence[Mapping[str, Any]],
    out_dir: Path,
    cfg: TrainConfig,
    funcs: Sequence[RewardFn],
    weights: Sequence[float],
    *,
    constraint: CostConstraint | None = None,
    alarm: HackingAlarm | None = None,
    source: str = "",
) -> GRPOResult:
    """GRPO on ``rows`` with ``funcs`` × ``weights``; saves like ``train`` (adapter, data card)
    plus ``rewards.jsonl`` (one line per step) and returns the per-step record."""
    out_dir = Path(out_dir)
    cfg = cfg.model_copy(update={"trainer": "grpo"})
    started = time.perf_counter()
    (out_dir / "rewards.jsonl").unlink(missing_ok=True)
    ledger = RewardLedger(funcs, weights)
    monitor = ShapingMonitor(ledger, constraint=constraint, alarm=alarm, log_path=out_dir / "rewards.jsonl")
    trainer = build_grpo_trainer(
        model_path, rows, out_dir, cfg, ledger.funcs, ledger.weights, [monitor.callback()]
    )
    monitor.bind(trainer)
    result = trainer.train()
    per_rank = _all_gather(ledger.local_samples)
    stats = {"rewards": monitor.card(), "samples_per_rank": per_rank, "reward_terms": ledger.names}
    path = save_trained(
        trainer,
        result,
        out_dir,
        rows,
        cfg,
        model_path=model_path,
        source=source,
        started=started,
        stats=stats,
    )
    return GRPOResult(
        model_dir=path,
        steps=monitor.history,
        alarm=alarm.report() if alarm is not None else None,
        final_lambda=monitor.lagrangian.value if monitor.lagrangian else None,
        samples_per_rank=per_rank,
        trl_log=list(trainer.state.log_history),
    )


def train_grpo_job(
    model_path: str | Path,
    rows: Sequence[Mapping[str, Any]],
    out_dir: Path,
    cfg: TrainConfig,
    *,
    rewards: Path | None = None,
    source: str = "",
) -> Path:
    """``python -m safeforge.harden.train`` with ``trainer: grpo``: the reward library's terms
    from ``rewards`` (a reward config YAML; default weights without one)."""
    terms = RewardTerms(load_reward_config(rewards) if rewards else None)
    result = train_grpo(
        model_path,
        rows,
        out_dir,
        cfg,
        terms.reward_funcs(),
        terms.weights(),
        constraint=terms.cfg.constraint,
        source=source,
    )
    return result.model_dir
