"""The worst failures of a run, with prompt and response, for a person to read.

The text stays raw here (truncated only); escaping is the template's job (autoescape on),
so there is exactly one place where untrusted text becomes HTML.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from safeforge.metrics import _observe as o
from safeforge.metrics._observe import Obs, RunFacts, observe_attempt, unit_key
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
        str(x)
        for x in (probe.scenario, probe.method, probe.family, probe.variant, probe.category, *probe.taxonomy)
        if x
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


TITLES: dict[str, tuple[str, str]] = {
    o.JRR: ("Jailbreaks that got through", "Refuse-expected probes the model did not properly reject."),
    o.FRR_PARTIAL: ("False refusals", "Safe prompts the model refused (fully or partly)."),
    o.LEAK: ("Leaks", "Responses that revealed the planted canary or system instructions."),
    o.HALLUCINATION: ("Confident answers to unanswerable questions", "The model should have abstained."),
    o.OVER_ABSTENTION: ("Needless abstentions", "Answerable questions the model abstained on or declined."),
}
SECTIONS = tuple((metric, bad, TITLES[metric][0], TITLES[metric][1]) for metric, bad, _ in o.FAILURES)
"""One section per kind of failed probe (``metrics._observe.FAILURES``), in that order."""


class FailureCollector:
    """The worst failures of each section, collected attempt by attempt in bounded memory:
    ``add`` each attempt with its outcomes (``SummaryBuilder.add`` returns them), then read
    ``sections()``. Keeps the ``limit`` worst per section (by severity, then key) and a count."""

    def __init__(self, limit: int = PER_SECTION) -> None:
        self.limit = limit
        self._worst: dict[str, list[tuple[float, str, Attempt]]] = {metric: [] for metric, *_ in SECTIONS}
        self._totals: dict[str, int] = dict.fromkeys(self._worst, 0)

    def add(self, attempt: Attempt, outcomes: Mapping[str, Obs]) -> None:
        for metric, bad, *_ in SECTIONS:
            if outcomes.get(metric) != bad:
                continue
            self._totals[metric] += 1
            worst = self._worst[metric]
            entry = (-_severity(attempt), unit_key(attempt), attempt)
            if len(worst) < self.limit or entry[:2] < worst[-1][:2]:
                bisect.insort(worst, entry, key=lambda e: e[:2])
                del worst[self.limit :]

    def sections(self) -> list[FailureSection]:
        """Failure sections (only non-empty ones), worst first within each."""
        return [
            FailureSection(
                title, explanation, self._totals[metric], [_item(a) for *_, a in self._worst[metric]]
            )
            for metric, _, title, explanation in SECTIONS
            if self._totals[metric]
        ]


def worst_failures(
    attempts: Sequence[Attempt], *, refusal_judge: str | None = None, limit: int = PER_SECTION
) -> list[FailureSection]:
    """Failure sections of an in-memory list of attempts (see :class:`FailureCollector`)."""
    facts = RunFacts.of(attempts, refusal_judge=refusal_judge)
    collector = FailureCollector(limit)
    for a in attempts:
        collector.add(a, observe_attempt(a, facts)[0])
    return collector.sections()
