"""The judge protocol: batched, async, typed verdicts; usable as a TRL reward too."""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar, runtime_checkable

from safeforge.errors import SafeforgeError
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


def task_option(judge: str, value: Task | str, allowed: Sequence[Task]) -> Task:
    """A judge's ``task`` option, checked: one clear error naming the tasks it can score."""
    task = next((t for t in allowed if t.value == str(value)), None)
    if task is None:
        names = ", ".join(t.value for t in allowed)
        raise SafeforgeError(f"the {judge} judge scores task {names}, not {value!r}")
    return task


JudgeFactory = Callable[..., Judge]
"""``factory(**options) -> Judge``; options come from the run config and are recorded."""

JUDGES: Registry[JudgeFactory] = Registry("judge")

F = TypeVar("F", bound=Callable[..., Any])


def builds(target: str, *, extra: str | None = None) -> Callable[[F], F]:
    """Mark a factory that forwards ``**options`` to ``"module:Class"``: that class's keyword
    arguments are then the judge's options (``judges list`` shows them, ``create_judge`` checks
    them), and ``extra`` is the pip extra it needs. Nothing is imported until asked."""

    def deco(fn: F) -> F:
        fn.builds = target  # type: ignore[attr-defined]
        fn.extra = extra  # type: ignore[attr-defined]
        return fn

    return deco


def judge_parameters(factory: Callable[..., Any]) -> list[inspect.Parameter]:
    """The keyword options a factory accepts (those of the class it ``builds``, if marked)."""
    target = getattr(factory, "builds", None)
    if isinstance(target, str):
        module, _, attr = target.partition(":")
        factory = getattr(importlib.import_module(module), attr)
    return [
        p
        for p in inspect.signature(factory).parameters.values()
        if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_KEYWORD) and p.name != "self"
    ]


def check_options(name: str, factory: Callable[..., Any], options: dict[str, Any]) -> None:
    """One clear error naming the accepted options when ``options`` has an unknown keyword or
    lacks a required one (instead of a TypeError traceback from deep inside the judge)."""
    params = judge_parameters(factory)
    if any(p.kind is p.VAR_KEYWORD for p in params):
        return
    names = [p.name for p in params]
    shown = ", ".join(f"{p.name} (required)" if p.default is p.empty else p.name for p in params)
    unknown = sorted(set(options) - set(names))
    if unknown:
        raise SafeforgeError(f"judge {name!r} has no option {', '.join(unknown)}; options: {shown or 'none'}")
    missing = [p.name for p in params if p.default is p.empty and p.name not in options]
    if missing:
        raise SafeforgeError(
            f"judge {name!r} needs option {', '.join(missing)} (e.g. --judge '{name}?{missing[0]}=...'); "
            f"options: {shown}"
        )


RewardFn = Callable[..., list[float | None]]
"""TRL's reward-function shape: ``f(prompts, completions, **kwargs) -> list[float | None]``."""

# The tone-policy judge lives with the metrics that use it (owner: metrics helper).
JUDGES.lazy("tone", "safeforge.metrics.tone:tone")
