"""Builders for constructed attempt lists (the metric tests' hand-computable inputs)."""

from __future__ import annotations

from safeforge.records import (
    Attempt,
    Completion,
    Expected,
    Label,
    Message,
    Method,
    Probe,
    Scenario,
    Task,
    Verdict,
)


def attempt(
    pid: str,
    expected: Expected,
    *,
    refusal: Label | None = None,
    harm: Label | None = None,
    leak: Label | None = None,
    abstention: Label | None = None,
    quality: float | None = None,
    tone: Label | None = None,
    judge: str = "rules",
    response: str | None = "a response",
    error: str | None = None,
    target: str = "model-a",
    group: str | None = None,
    variant: str = "plain",
    scenario: Scenario = Scenario.NONE,
    method: Method = Method.BENCHMARK,
    family: str = "fam",
    category: str = "",
    meta: dict[str, str] | None = None,
    prompt: str = "a prompt",
) -> Attempt:
    """One attempt with the given verdicts (each verdict only when its label/score is given)."""
    probe = Probe(
        id=pid,
        intent_id=group or pid,
        family=family,
        scenario=scenario,
        method=method,
        variant=variant,
        messages=(Message(role="user", content=prompt),),
        expected=expected,
        group_id=group or pid,
        category=category,
        meta=meta or {},
    )
    verdicts = []
    for task, label in ((Task.REFUSAL, refusal), (Task.HARM, harm), (Task.LEAK, leak)):
        if label is not None:
            verdicts.append(Verdict(judge=judge, task=task, label=label))
    if abstention is not None:
        verdicts.append(Verdict(judge=judge, task=Task.ABSTENTION, label=abstention))
    if quality is not None:
        verdicts.append(Verdict(judge="rm", task=Task.QUALITY, label=Label.PASS, score=quality))
    if tone is not None:
        verdicts.append(Verdict(judge="tone", task=Task.TONE, label=tone))
    completion = Completion(text=None, error=error) if error else Completion(text=response)
    return Attempt(probe=probe, target=target, completion=completion, verdicts=tuple(verdicts))


def many(prefix: str, count: int, expected: Expected, **kwargs: object) -> list[Attempt]:
    """``count`` attempts alike but for their ids."""
    return [attempt(f"{prefix}{i}", expected, **kwargs) for i in range(count)]  # type: ignore[arg-type]
