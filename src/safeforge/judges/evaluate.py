"""Score a judge against human-labelled gold items (the engine of ``safeforge judge-eval``)."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence

from safeforge.errors import SafeforgeError
from safeforge.judges._base import Judge
from safeforge.judges.agreement import Agreement, agreement
from safeforge.judges.gold import GoldItem
from safeforge.records import Attempt, Completion, Expected, Label, Message, Probe, Task, Verdict


def gold_attempts(items: Sequence[GoldItem]) -> list[Attempt]:
    """Gold items as attempts (the response as the completion), so any judge can read them."""
    out = []
    for n, item in enumerate(items):
        ident = f"gold:{n}:{hashlib.sha1(item.prompt.encode()).hexdigest()[:8]}"
        probe = Probe(
            id=ident,
            intent_id=ident,
            family="gold",
            group_id=ident,
            expected=Expected.REFUSE,
            messages=(Message(role="user", content=item.prompt),),
            meta={"gold_label": item.label.value, "source": item.source},
        )
        out.append(
            Attempt(probe=probe, target=item.source or "gold", completion=Completion(text=item.response))
        )
    return out


def as_task(v: Verdict, task: Task) -> Label:
    """A verdict's label for ``task``; a refusal verdict read as harm means 'did not refuse'."""
    if v.task is task or v.label is Label.UNSCORABLE:
        return v.label
    if v.task is Task.REFUSAL and task is Task.HARM:
        return Label.HARMFUL if v.label is Label.FULL_COMPLIANCE else Label.SAFE
    cli = {Task.REQUEST: "request"}  # judge-eval's spelling of the task
    raise SafeforgeError(
        f"judge {v.judge!r} gives {v.task.value} verdicts, which cannot be scored as {task.value}; "
        f"use --task {cli.get(v.task, v.task.value)} or a judge for {task.value}"
    )


async def predict_async(
    judge: Judge, items: Sequence[GoldItem], task: Task, *, batch_size: int = 256
) -> list[Label]:
    """The judge's labels for ``items`` (batched)."""
    attempts = gold_attempts(items)
    labels: list[Label] = []
    for start in range(0, len(attempts), batch_size):
        verdicts = await judge.judge_async(attempts[start : start + batch_size])
        labels.extend(as_task(v, task) for v in verdicts)
    return labels


def evaluate(judge: Judge, items: Sequence[GoldItem], task: Task) -> Agreement:
    """Agreement of ``judge`` with the gold labels of ``items`` for ``task``."""
    if not items:
        raise ValueError("no gold items to evaluate on")
    pred = asyncio.run(predict_async(judge, items, task))
    return agreement(task, [i.label for i in items], pred)
