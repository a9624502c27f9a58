"""The one async protocol every target implements, and spec-string parsing.

A target is addressed by a spec string ``KIND:REST`` (``openai:gpt-4o-mini``,
``hf:./my-model``, ``replay:log.jsonl``, ``python:pkg.mod:fn``, ``mock``). The registry maps
KIND to a factory ``(rest, options) -> Target``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from safeforge.records import Completion, Probe
from safeforge.registry import Registry


class Generation(BaseModel):
    """Sampling settings shared by every target that generates."""

    model_config = ConfigDict(frozen=True)

    max_new_tokens: int = Field(default=256, ge=1)
    temperature: float = Field(default=0.0, ge=0.0, description="0 means greedy.")
    top_p: float = Field(default=1.0, gt=0.0, le=1.0)
    seed: int | None = None


class TargetOptions(BaseModel):
    """Everything a target factory may need besides its spec string. Never holds a secret:
    ``api_key_env`` names the environment variable the key is read from."""

    model_config = ConfigDict(frozen=True)

    base_url: str | tuple[str, ...] | None = None
    """One endpoint, or several (replicas) that a target may spread requests over."""
    api_key_env: str = "OPENAI_API_KEY"
    timeout_s: float = Field(default=60.0, gt=0)
    max_retries: int = Field(default=4, ge=0)
    requests_per_minute: float | None = Field(default=None, gt=0)
    concurrency: int = Field(default=16, ge=1)
    batch_size: int | None = Field(
        default=None,
        ge=1,
        description="Prompts per forward pass (local models); unset: sized from a token budget.",
    )
    generation: Generation = Generation()


@runtime_checkable
class Target(Protocol):
    """Something that answers probes.

    ``generate_async`` never raises for a per-probe failure: it returns a ``Completion`` with
    ``error`` set (and the retry count), so every probe ends answered or recorded as an error.
    It raises ``SafeforgeError`` only for failures that doom the whole run (401, bad model path).
    """

    id: str
    batch_size: int
    """How many probes the runner hands over per call (1 for HTTP targets)."""

    async def generate_async(self, probes: Sequence[Probe]) -> list[Completion]: ...

    async def aclose(self) -> None: ...


class TargetFactory(Protocol):
    def __call__(self, rest: str, options: TargetOptions) -> Target: ...


TARGETS: Registry[TargetFactory] = Registry("target")
