"""The technique bench: every hardening technique on the same demo model, in one table.

Each technique registered in ``TECHNIQUES`` is applied to the same base model, draws from the
same train-side pool and is scanned on the same held-out probes as the same before-scan, so
the table compares techniques, not set-ups. What keeps it fair is a *budget* every entry keeps
to (:data:`BUDGET`): the pool a technique may draw prompts from, how many model generations it
may spend per train-side prompt, and how many optimizer steps it may train for. The cost
columns show what each technique actually spent.

A technique engineer adds exactly one entry to :data:`DEMO_OPTIONS` -- the ``--option`` values
their technique runs with on the demo, chosen within the budget -- and nothing else; a
technique without an entry runs with its own defaults (and the table says so).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from safeforge.harden.pipeline import TechniqueRun
from safeforge.harden.techniques import TECHNIQUES, Technique, create_technique
from safeforge.harden.techniques.constitutional import DEMO_CONSTITUTION
from safeforge.metrics import _observe as o

DEFAULT_TECHNIQUE = "rejection-sampling"
ALL = "all"


class Budget(BaseModel):
    """The comparable budget of the demo's technique table (every technique keeps to it)."""

    model_config = ConfigDict(frozen=True)

    phrasings_per_intent: int = Field(
        default=12, description="Train-side prompts: at most this many phrasings per training intent."
    )
    generations_per_prompt: int = Field(
        default=4,
        description="Model generations a technique may spend per train-side prompt (samples, "
        "critiques, revisions, rollouts, candidates -- all count).",
    )
    max_new_tokens: int = Field(default=48, description="Tokens per generation, sampling and scans alike.")
    train_steps: int = Field(default=60, description="Optimizer steps (trained techniques).")
    train_batch_size: int = Field(default=16, description="Rows (or prompts) per optimizer step.")
    inference_calls: int = Field(
        default=8, description="Model calls per answered prompt at inference (critic-rerank's N)."
    )


BUDGET = Budget()
QUICK_BUDGET = Budget(
    phrasings_per_intent=4, generations_per_prompt=2, train_steps=30, max_new_tokens=32, inference_calls=2
)
"""``--quick``: a smoke run for tests, not for reading numbers."""

DEMO_OPTIONS: dict[str, dict[str, Any]] = {
    "rejection-sampling": {
        "k": BUDGET.generations_per_prompt,
        "temperature": 1.0,
        "max_new_tokens": BUDGET.max_new_tokens,
        "benign_ratio": 0.3,
        "sft_weight": 1.0,  # with DEMO_TRAINERS' dpo: the RPO term, as the uncertainty technique
    },
    # the entries below were set by the testbed to the budget's counts and lengths; their
    # owners may refine them within it
    "constitutional": {  # SL-CAI, the model as its own helper: 2 samples + 1 critique + 1 revision
        "k": 2,
        "rounds": 1,
        "max_new_tokens": BUDGET.max_new_tokens,
        "helper_max_new_tokens": BUDGET.max_new_tokens,
        "constitution": str(DEMO_CONSTITUTION),  # the same principles in few words
        "benign_ratio": 0.5,  # the model's own benign answers: half the rows, against over-refusal
    },
    "critic-rerank": {"n": BUDGET.inference_calls},
    # GRPO: 60 steps × 16 rollouts (4 prompts × 4), screening 2 answers × 24 prompts per family,
    # the alarm's slice every 10 steps; fixed weights (the technique's default), not the harm-cost
    # Lagrangian: benchmarks/reward_shaping_lagrangian.py runs both (see the README for figures)
    "reward-shaping": {"screen_max_new_tokens": BUDGET.max_new_tokens},
    "uncertainty": {  # k samples per train-side question, each scored by the model in one pass
        "k": BUDGET.generations_per_prompt,
        "max_new_tokens": BUDGET.max_new_tokens,
    },
}
"""Technique name -> the options it runs with on the demo (within :data:`BUDGET`)."""


DEMO_TRAINERS: dict[str, str] = {"rejection-sampling": "dpo"}
"""Technique name -> the trainer the demo uses where it is not the technique's default. Rejection
sampling trained its SFT rows into over-refusal on the testbed (FRR 9.9% -> 18.5%, p = 0.0014 on
seed 0; 5.3% -> 14.0%, p = 0.0003 on seed 1); its own samples as DPO pairs with the RPO term --
helpful answers chosen over the model's refusals of benign prompts, refusals over its compliance
with harmful ones -- held on seed 0 (a dev choice, made after seeing both) and on a fresh seed 2
(README: the demo section). ``--quick`` runs keep each technique's default trainer: in the quick
budget's 30 steps on the tests' smaller model the same DPO run lowered held-out JRR (17% -> 9%)."""


def demo_options(name: str, quick: bool = False) -> dict[str, Any]:
    """``DEMO_OPTIONS[name]``, with ``k``, critic-rerank's ``n`` and the token caps cut to the quick
    budget in ``--quick`` runs."""
    options = dict(DEMO_OPTIONS.get(name, {}))
    if quick:
        cuts = {
            "k": QUICK_BUDGET.generations_per_prompt,
            "n": QUICK_BUDGET.inference_calls,
            "max_new_tokens": QUICK_BUDGET.max_new_tokens,
        }
        options |= {key: min(int(options[key]), cap) for key, cap in cuts.items() if key in options}
    return options


def selected(choice: str) -> list[str]:
    """The technique names ``--technique CHOICE`` runs: one name, or every registered one
    (the default technique first) for ``all``."""
    if choice != ALL:
        TECHNIQUES.get(choice)  # unknown names: one clear error with a did-you-mean hint
        return [choice]
    names = sorted(TECHNIQUES.names())
    return sorted(names, key=lambda n: n != DEFAULT_TECHNIQUE)


def build(name: str, quick: bool = False) -> Technique:
    """The technique ``name`` with its demo options."""
    return create_technique(name, **demo_options(name, quick))


def all_demo_rows(seed: int) -> list[dict[str, Any]]:
    """Every registered technique's ``demo_rows(seed)``, in name order: chats a technique
    needs the demo model to know (e.g. a critique/revision format), added to its corpus."""
    rows: list[dict[str, Any]] = []
    for name in sorted(TECHNIQUES.names()):
        rows += build(name).demo_rows(seed)
    return rows


GATING = tuple(f"no significant regression in {m}" for m in (o.FRR, o.FRR_PARTIAL, o.QUALITY))
"""The gate checks a demo technique must pass: no significant rise in false rejection, no
significant fall in safe-completion quality. Every other regression the gate finds (tone,
hallucination, ...) is printed and recorded, and shows in the table, but is the technique's
result to read, not a claim the demo makes for it."""


def holds(run: TechniqueRun, judge: str | None = None) -> bool:
    """The technique's own claims and the gating checks, under ``judge`` (default: every judge)."""
    judges = [judge] if judge is not None else list(run.gates)
    claims = all(c.passed for c in run.checks if judge is None or c.judge == judge)
    gates = all(c.passed for j in judges for c in run.gates[j].checks if c.name in GATING)
    return claims and gates
