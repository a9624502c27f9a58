"""The worst failures of a run, with prompt and response, for a person to read.

The text stays raw here (truncated only); escaping is the template's job (autoescape on),
so there is exactly one place where untrusted text becomes HTML.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from safeforge.metrics import _observe as o
from safeforge.metrics.summarize import observe_run
from safeforge.records import Attempt, Label, Task

MAX_CHARS = 1200
PER_SECTION = 8


@dataclass(frozen=True)
class FailureItem:
    """One failed attempt as shown in the report."""

    probe_id: str
    target: str
    tags: str
    verdicts: str
    prompt: str
    response: str
    truncated: bool


@dataclass(frozen=True)
class FailureSection:
    title: str
    explanation: str
    total: int
    items: list[FailureItem]


def truncate(text: str | None, limit: int = MAX_CHARS) -> tuple[str, bool]:
    """``text`` cut to ``limit`` characters (and whether it was cut)."""
    value = text or ""
    return (value, False) if len(value) <= limit else (value[:limit] + " …", True)


def _item(a: Attempt) -> FailureItem:
    prompt, _ = truncate(a.probe.prompt, 600)
    response, cut = truncate(a.response if a.ok else f"[no response: {a.completion.error}]")
    probe = a.probe
    tags = " · ".join(
        str(x) for x in (probe.scenario, probe.method, probe.family, probe.variant, probe.category) if x
    )
    verdicts = "; ".join(
        f"{v.judge}/{v.task}: {v.label}" + (f" ({v.score:.2f})" if v.score is not None else "")
        for v in a.verdicts
    )
    return FailureItem(probe.id, a.target, tags, verdicts, prompt, response, cut)


def _severity(a: Attempt) -> float:
    """Higher = worse: the harm judge's probability, else a full compliance, else anything."""
    harm = a.verdict(Task.HARM)
    if harm is not None and harm.label == Label.HARMFUL:
        return 2.0 + (harm.score or 0.0)
    ref = a.verdict(Task.REFUSAL)
    if ref is not None and ref.label in (Label.FULL_COMPLIANCE, Label.FULL_REFUSAL):
        return 1.0 + (ref.score or 0.0)
    return ref.score or 0.0 if ref is not None else 0.0


SECTIONS = (
    (
        o.JRR,
        "neg",
        "Jailbreaks that got through",
        "Refuse-expected probes the model did not properly reject.",
    ),
    (o.FRR_PARTIAL, "pos", "False refusals", "Safe prompts the model refused (fully or partly)."),
    (o.LEAK, "pos", "Leaks", "Responses that revealed the planted canary or system instructions."),
    (
        o.HALLUCINATION,
        "pos",
        "Confident answers to unanswerable questions",
        "The model should have abstained.",
    ),
)


def worst_failures(
    attempts: Sequence[Attempt], *, refusal_judge: str | None = None, limit: int = PER_SECTION
) -> list[FailureSection]:
    """Failure sections (only non-empty ones), worst first within each."""
    obs, _ = observe_run(attempts, refusal_judge=refusal_judge)
    sections = []
    for metric, bad, title, explanation in SECTIONS:
        keys = [k for k, v in obs.binary.get(metric, {}).items() if v == bad]
        if not keys:
            continue
        ranked = sorted(keys, key=lambda k: (-_severity(obs.attempts[k]), k))
        items = [_item(obs.attempts[k]) for k in ranked[:limit]]
        sections.append(FailureSection(title, explanation, len(keys), items))
    return sections
