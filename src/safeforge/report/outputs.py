"""Write a run's outputs: ``summary.json`` (versioned), ``report.html`` and ``summary.md``.

A run is reported in one streaming pass: a :class:`ReportBuilder` feeds each attempt to the
summary's counters and to the collector of worst failures, then each pairable group to the
paired metrics, so the memory it takes does not grow with the run. The scan runner feeds the
same builder while it generates and judges; ``write_run_outputs`` feeds it from the store.

Files are written to a temporary name and renamed, so a reader never sees half a report.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Protocol

from safeforge.errors import SafeforgeError
from safeforge.metrics import Comparison, Summary
from safeforge.metrics._observe import RunFacts
from safeforge.metrics.attacks import AttackSummary
from safeforge.metrics.summarize import SummaryBuilder, refusal_groups
from safeforge.records import Attempt, Task
from safeforge.report.failures import FailureCollector
from safeforge.report.html import render_compare_html, render_run_html
from safeforge.report.html import warm as warm_templates
from safeforge.report.markdown import summary_markdown

SUMMARY_FILE = "summary.json"
REPORT_FILE = "report.html"
MARKDOWN_FILE = "summary.md"


class RunLike(Protocol):
    """What reporting needs from a run (``safeforge.run.Run`` satisfies it)."""

    @property
    def dir(self) -> Path: ...

    def attempts(self) -> list[Attempt]: ...

    def iter_attempts(self) -> Iterator[Attempt]: ...

    def iter_groups(self) -> Iterator[list[Attempt]]: ...

    def verdict_counts(self) -> dict[tuple[Task, str], int]: ...


class ReportBuilder:
    """A run's summary and worst failures, built attempt by attempt (see the module doc)."""

    def __init__(self, facts: RunFacts, *, seed: int = 0) -> None:
        self.summary = SummaryBuilder(facts, seed=seed)
        self.failures = FailureCollector()

    def prepare(self) -> None:
        """Load what ``write`` will need (see ``SummaryBuilder.prepare``; the page template)."""
        self.summary.prepare()
        warm_templates()

    def add(self, attempt: Attempt) -> None:
        self.failures.add(attempt, self.summary.add(attempt))

    def add_group(self, members: Sequence[Attempt]) -> None:
        self.summary.add_group(members)

    def write(self, run_dir: Path, *, attacks: AttackSummary | None = None) -> Summary:
        """Write the three files into ``run_dir`` (with the attack sections of an attack run);
        returns the summary."""
        summary = self.summary.summary()
        html = render_run_html(summary, failures=self.failures.sections(), attacks=attacks)
        write_text_atomic(run_dir / SUMMARY_FILE, summary.model_dump_json(indent=2) + "\n")
        write_text_atomic(run_dir / REPORT_FILE, html)
        write_text_atomic(run_dir / MARKDOWN_FILE, summary_markdown(summary, attacks=attacks))
        return summary


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file in the same folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_outputs(run_dir: Path, attempts: list[Attempt], *, refusal_judge: str | None = None) -> Summary:
    """Summarize ``attempts`` (a list in memory) and write the three output files into ``run_dir``."""
    builder = ReportBuilder(RunFacts.of(attempts, refusal_judge=refusal_judge))
    for attempt in attempts:
        builder.add(attempt)
    for members in refusal_groups(attempts):
        builder.add_group(members)
    return builder.write(run_dir)


def write_run_outputs(
    run: RunLike, *, refusal_judge: str | None = None, attacks: AttackSummary | None = None
) -> Summary:
    """(Re)write RUN_DIR/summary.json, report.html and summary.md, streaming the run's store.

    ``refusal_judge`` picks whose refusal labels count (default: gold, else the most capable
    judge that ran); ``attacks`` adds an attack run's sections.
    """
    builder = ReportBuilder(RunFacts.from_counts(run.verdict_counts(), refusal_judge=refusal_judge))
    for attempt in run.iter_attempts():
        builder.add(attempt)
    for members in run.iter_groups():
        builder.add_group(members)
    return builder.write(Path(run.dir), attacks=attacks)


def write_compare_html(comparison: Comparison, path: Path) -> None:
    write_text_atomic(path, render_compare_html(comparison))


def open_run(run_dir: Path) -> RunLike:
    """Open a run store (``safeforge.run.Run``) with a clear error when there is none."""
    try:
        from safeforge.run import Run
    except ImportError as exc:  # pragma: no cover - the run store ships with the package
        raise SafeforgeError(f"cannot open runs: {exc}") from exc
    if not Path(run_dir).is_dir():
        raise SafeforgeError(f"no run directory at {run_dir}")
    return Run.open(Path(run_dir))
