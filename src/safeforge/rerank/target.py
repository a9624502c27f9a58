"""``rerank:SPEC.yaml`` -- any target wrapped in best-of-N under a critic, as a target itself.

The YAML names the base target, the critic and N::

    target: hf:./my-checkpoint        # or openai:MODEL with base_url / api_key_env
    critic: [critic]                  # judge specs (hf:PATH = a reward model); the mean is used
    n: 8
    temperature: 1.0                  # candidates are sampled; the rest of the generation
    top_p: 1.0                        # settings come from the scan

Scanning it (``safeforge scan --target rerank:spec.yaml``) measures the guarded model exactly as
any other: each probe's attempt holds the chosen candidate. The ``critic-rerank`` hardening
technique writes such a file and hands its spec to the after-scan.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, cast, runtime_checkable

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from safeforge.errors import SafeforgeError, explain
from safeforge.records import Completion, Probe, Usage
from safeforge.rerank.core import DEFAULT_CRITIC, Critic, Ranking, rerank_many_async
from safeforge.targets import Generation, Target, TargetOptions, create_target


@runtime_checkable
class DrawsN(Protocol):
    """A target that can draw ``n`` candidates per probe itself (the openai target: one request
    with ``n``). Others get ``n`` copies of each probe with distinct ids, so seeded samplers
    give different candidates."""

    async def generate_n_async(
        self, probes: Sequence[Probe], n: int, generation: Generation | None = None
    ) -> list[list[Completion]]: ...


async def draw_async(
    target: Target, probes: Sequence[Probe], n: int, generation: Generation | None = None
) -> list[list[Completion]]:
    """``n`` candidates per probe from ``target``. ``generation`` (per-call settings) reaches
    only targets that draw themselves; the others sample with the settings they were built with."""
    if _draws_n(type(target)):
        return await cast(DrawsN, target).generate_n_async(probes, n, generation)
    copies = [p.model_copy(update={"id": f"{p.id}#c{j}"}) for p in probes for j in range(n)]
    flat = await target.generate_async(copies)
    if len(flat) != len(copies):
        raise RuntimeError(f"{target.id} returned {len(flat)} completions for {len(copies)}")
    return [flat[i * n : (i + 1) * n] for i in range(len(probes))]


@functools.cache
def _draws_n(kind: type) -> bool:
    """``isinstance(target, DrawsN)``, decided once per class (a protocol check costs tens of µs,
    which the guard would pay on every request)."""
    return issubclass(kind, DrawsN)


class RerankSpec(BaseModel):
    """The ``rerank:`` YAML (field names are its keys)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    target: str = Field(description="Base target spec the candidates come from.")
    base_url: str | list[str] | None = None
    api_key_env: str | None = None
    critic: tuple[str, ...] = DEFAULT_CRITIC
    n: int = Field(default=8, ge=1, le=64, description="Candidates per prompt.")
    temperature: float = Field(default=1.0, ge=0.0, description="Sampling temperature of the candidates.")
    top_p: float = Field(default=1.0, gt=0.0, le=1.0)

    @classmethod
    def read(cls, path: Path) -> RerankSpec:
        """Load and validate the YAML at ``path`` (one clear error line when it is wrong)."""
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            return cls.model_validate(data)
        except OSError as exc:
            raise SafeforgeError(f"rerank spec {path}: {exc.strerror or exc}") from None
        except yaml.YAMLError as exc:
            raise SafeforgeError(f"rerank spec {path}: not valid YAML ({exc})") from None
        except ValidationError as exc:
            raise SafeforgeError(f"rerank spec {path}: {explain(exc)}") from None

    def write(self, path: Path) -> Path:
        path.write_text(yaml.safe_dump(self.model_dump(mode="json"), sort_keys=False), encoding="utf-8")
        return path


def sampling(spec: RerankSpec, generation: Generation) -> Generation:
    """``generation`` with the spec's sampling temperature and top-p."""
    return generation.model_copy(update={"temperature": spec.temperature, "top_p": spec.top_p})


def base_options(spec: RerankSpec, options: TargetOptions) -> TargetOptions:
    """The options the base target is built with: the caller's, the spec's endpoint and key
    variable where it names them, and the spec's sampling settings."""
    update: dict[str, object] = {"generation": sampling(spec, options.generation)}
    if spec.base_url is not None:
        update["base_url"] = spec.base_url if isinstance(spec.base_url, str) else tuple(spec.base_url)
    if spec.api_key_env is not None:
        update["api_key_env"] = spec.api_key_env
    return options.model_copy(update=update)


class RerankTarget:
    """Draws ``n`` candidates from the base target, returns the one the critic scores best.

    The attempt's latency is the whole draw-and-score time; its usage counts the tokens of all
    ``n`` candidates (what the guarded answer cost).
    """

    def __init__(self, spec: RerankSpec, options: TargetOptions, *, critic: Critic | None = None) -> None:
        self.spec = spec
        self.n = spec.n
        self.base = create_target(spec.target, base_options(spec, options))
        self.critic = critic if critic is not None else Critic.from_specs(spec.critic)
        self.id = f"rerank:{spec.n}x{self.base.id}"
        self.batch_size = self.base.batch_size

    async def rank_async(self, probes: Sequence[Probe]) -> tuple[list[list[Completion]], list[Ranking]]:
        """Every probe's candidates and the critic's ranking of them."""
        drawn = await draw_async(self.base, probes, self.n)
        return drawn, await rerank_many_async(probes, drawn, self.critic, target=self.base.id)

    async def generate_async(self, probes: Sequence[Probe]) -> list[Completion]:
        started = time.perf_counter()
        drawn, rankings = await self.rank_async(probes)
        elapsed = time.perf_counter() - started
        return [chosen(group, r, elapsed) for group, r in zip(drawn, rankings, strict=True)]

    async def aclose(self) -> None:
        await self.base.aclose()


def chosen(candidates: Sequence[Completion], ranking: Ranking, latency_s: float) -> Completion:
    """The chosen candidate as the attempt's completion (latency and usage of the whole draw)."""
    pick = candidates[ranking.choice]
    # an n-choice answer reports its tokens once, on its first choice
    tokens = [c.usage.completion_tokens for c in candidates if c.usage.completion_tokens is not None]
    total = sum(tokens) if tokens else None
    usage = Usage(prompt_tokens=pick.usage.prompt_tokens, completion_tokens=total)
    return pick.model_copy(update={"latency_s": latency_s, "usage": usage})


def rerank(rest: str, options: TargetOptions) -> RerankTarget:
    """Factory for ``rerank:SPEC.yaml``."""
    if not rest:
        raise SafeforgeError("rerank target needs its spec file: rerank:PATH.yaml")
    return RerankTarget(RerankSpec.read(Path(rest)), options)
