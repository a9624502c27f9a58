"""Critic reranking: best-of-N at inference under a safety critic, no training at all.

The technique wraps the model being hardened instead of changing it: for every prompt it draws
``n`` sampled candidates and answers with the one the critic scores best
(:mod:`safeforge.rerank`). ``apply`` only writes ``rerank.yaml`` (base target, critic, N,
sampling) in the work dir and hands the after-scan its ``rerank:`` spec, so the held-out probes
are measured through the wrapper exactly as a trained model would be. The price is paid at
inference, ``n`` model calls (and ``n`` critic readings) per answer, which the technique table
shows as its cost beside the others' training time. Nothing is trained and the train pool is
not touched; ``safeforge serve`` is the same wrapper behind an HTTP API, and its recorded
decisions export as DPO pairs for a technique that does train.
"""

from __future__ import annotations

import time
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from safeforge.harden.techniques._base import TECHNIQUES, Claim, TechniqueContext, TechniqueOutput
from safeforge.rerank import DEFAULT_CRITIC, RerankSpec

SPEC_FILE = "rerank.yaml"


class CRConfig(BaseModel):
    """Settings of the reranking wrapper (``-o n=8 -o critic=critic``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    n: int = Field(default=8, ge=1, le=64, description="Candidates per prompt.")
    critic: tuple[str, ...] = Field(default=DEFAULT_CRITIC, description="Critic judge specs (mean score).")
    temperature: float = Field(default=1.0, ge=0.0, description="Sampling temperature of the candidates.")
    top_p: float = Field(default=1.0, gt=0.0, le=1.0)

    @field_validator("critic", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return (value,) if isinstance(value, str) else value


class CriticRerank:
    """Best-of-N under a critic as an inference-time wrapper (see the module docstring)."""

    name = "critic-rerank"
    kind: Literal["trained", "inference"] = "inference"
    claims: tuple[Claim, ...] = (
        Claim(metric="jailbreak_rejection_rate", want="rises"),
        Claim(metric="false_rejection_rate", want="no_significant_rise"),
    )

    def __init__(self, cfg: CRConfig) -> None:
        self.cfg = cfg

    def apply(self, ctx: TechniqueContext) -> TechniqueOutput:
        started = time.perf_counter()
        spec = RerankSpec(target=ctx.base, **self.cfg.model_dump())
        path = spec.write(ctx.work_dir / SPEC_FILE)
        ctx.log(f"best of {spec.n} at temperature {spec.temperature:g} under critic {'+'.join(spec.critic)}")
        return TechniqueOutput(
            technique=self.name,
            kind="inference",
            target=f"rerank:{path}",
            data_card={"technique": self.name, "config": self.cfg.model_dump(mode="json"), "spec": str(path)},
            data_s=time.perf_counter() - started,
            inference_calls=float(spec.n),
        )

    def demo_rows(self, seed: int) -> list[dict[str, Any]]:
        del seed
        return []


def critic_rerank(**options: Any) -> CriticRerank:
    """Answer with the best of N sampled candidates under a safety critic (no training)."""
    return CriticRerank(CRConfig.model_validate(options))


TECHNIQUES.register(critic_rerank, "critic-rerank")
