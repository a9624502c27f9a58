"""Targets: the models safeforge probes, behind one async protocol."""

from __future__ import annotations

from safeforge.errors import SafeforgeError
from safeforge.targets._base import TARGETS, Generation, Target, TargetFactory, TargetOptions

TARGETS.lazy("openai", "safeforge.targets.openai:openai")
TARGETS.lazy("hf", "safeforge.targets.hf:hf")
TARGETS.lazy("replay", "safeforge.targets.replay:replay")
TARGETS.lazy("python", "safeforge.targets.callable:python")
TARGETS.lazy("mock", "safeforge.targets.mock:mock")
TARGETS.lazy("rerank", "safeforge.rerank.target:rerank")


def create_target(spec: str, options: TargetOptions | None = None) -> Target:
    """Build a target from ``KIND:REST`` (``mock`` alone is allowed)."""
    kind, _, rest = spec.partition(":")
    if not kind:
        raise SafeforgeError(f"empty target spec {spec!r}; expected e.g. openai:MODEL or hf:PATH")
    return TARGETS.get(kind)(rest, options or TargetOptions())


__all__ = ["TARGETS", "Generation", "Target", "TargetFactory", "TargetOptions", "create_target"]
