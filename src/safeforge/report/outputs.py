"""Write a run's outputs: ``summary.json`` (versioned), ``report.html`` and ``summary.md``.

Files are written to a temporary name and renamed, so a reader never sees half a report.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

from safeforge.errors import SafeforgeError
from safeforge.metrics import Comparison, Summary, summarize
from safeforge.records import Attempt
from safeforge.report.html import render_compare_html, render_run_html
from safeforge.report.markdown import summary_markdown

SUMMARY_FILE = "summary.json"
REPORT_FILE = "report.html"
MARKDOWN_FILE = "summary.md"


class RunLike(Protocol):
    """What reporting needs from a run (``safeforge.run.Run`` satisfies it)."""

    @property
    def dir(self) -> Path: ...

    def attempts(self) -> list[Attempt]: ...


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file in the same folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_outputs(run_dir: Path, attempts: list[Attempt], *, refusal_judge: str | None = None) -> Summary:
    """Summarize ``attempts`` and write the three output files into ``run_dir``."""
    summary = summarize(attempts, refusal_judge=refusal_judge)
    write_text_atomic(run_dir / SUMMARY_FILE, summary.model_dump_json(indent=2) + "\n")
    write_text_atomic(run_dir / REPORT_FILE, render_run_html(summary, attempts))
    write_text_atomic(run_dir / MARKDOWN_FILE, summary_markdown(summary))
    return summary


def write_run_outputs(run: RunLike, *, refusal_judge: str | None = None) -> Summary:
    """(Re)write RUN_DIR/summary.json, report.html and summary.md from the run's attempts.

    ``refusal_judge`` picks whose refusal labels count (default: gold, else the most capable
    judge that ran).
    """
    return write_outputs(Path(run.dir), run.attempts(), refusal_judge=refusal_judge)


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
