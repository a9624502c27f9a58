"""The audit's HTML page: the run report's look, its escaping and its script-free CSP.

Rendered by the report package's Jinja environment (autoescape on for every template), so pair
texts from a user's file or a model are escaped like any model output in safeforge.
"""

from __future__ import annotations

from safeforge.audit.records import AuditReport
from safeforge.report.html import render_page


def render_audit_html(report: AuditReport) -> str:
    """The audit page as one self-contained HTML string."""
    flagged = [b for b in report.biases if b.flagged]
    return render_page("rm_audit.html.j2", "safeforge reward-model audit", report=report, flagged=flagged)
