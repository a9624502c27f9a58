"""Reports: the self-contained HTML report, the Markdown summary, compare pages, JUnit XML.

``write_run_outputs(run)`` is what every scan ends with; the CLI's ``report``, ``compare``
and ``gate`` commands are thin wrappers over this package and ``safeforge.metrics``.
"""

from __future__ import annotations

from safeforge.report.html import render_compare_html, render_run_html
from safeforge.report.junit import junit_xml, write_junit
from safeforge.report.markdown import compare_markdown, summary_markdown
from safeforge.report.outputs import (
    MARKDOWN_FILE,
    REPORT_FILE,
    SUMMARY_FILE,
    RunLike,
    open_run,
    write_compare_html,
    write_outputs,
    write_run_outputs,
)
from safeforge.report.validation import judge_validation, parse_markdown

__all__ = [
    "MARKDOWN_FILE",
    "REPORT_FILE",
    "SUMMARY_FILE",
    "RunLike",
    "compare_markdown",
    "judge_validation",
    "junit_xml",
    "open_run",
    "parse_markdown",
    "render_compare_html",
    "render_run_html",
    "summary_markdown",
    "write_compare_html",
    "write_junit",
    "write_outputs",
    "write_run_outputs",
]
