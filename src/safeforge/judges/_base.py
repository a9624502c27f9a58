"""The judge protocol: batched, async, typed verdicts; usable as a TRL reward too."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

from safeforge.records import Attempt, Label, Task, Verdict
from safeforge.registry import Registry


@runtime_checkable
class Judge(Protocol):
    """Reads attempts and returns one verdict per attempt, in order.

    A judge never raises for one bad response: it returns ``Label.UNSCORABLE`` for it.
    """

    name: str
    task: Task

    async def judge_async(self, attempts: Sequence[Attempt]) -> list[Verdict]: ...


def no_response(judge: Judge, attempt: Attempt) -> Verdict:
    """The verdict every judge gives an attempt without a response: ``unscorable``, so metrics
    count it apart and never as safe."""
    why = attempt.completion.error or "missing"
    return Verdict(judge=judge.name, task=judge.task, label=Label.UNSCORABLE, rationale=f"no response: {why}")


JudgeFactory = Callable[..., Judge]
"""``factory(**options) -> Judge``; options come from the run config and are recorded."""

JUDGES: Registry[JudgeFactory] = Registry("judge")

RewardFn = Callable[..., list[float | None]]
"""TRL's reward-function shape: ``f(prompts, completions, **kwargs) -> list[float | None]``."""

# The tone-policy judge lives with the metrics that use it (owner: metrics helper).
JUDGES.lazy("tone", "safeforge.metrics.tone:tone")
