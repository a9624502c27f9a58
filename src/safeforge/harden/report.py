"""The one before/after report of a hardening run.

The comparison page itself is the report package's (``render_compare_html``: paired tests,
trade-off chart, flipped probes, every model output escaped); this module puts a short
hardening section on top of it -- the technique, what it built (the scalar fields of its data
card), how much of its training signal a template wrote, the technique's own claims, the gate,
and the statement that evaluation intents were held out of training.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from pathlib import Path

from safeforge.harden.split import IntentSplit
from safeforge.harden.techniques import ClaimCheck, TechniqueOutput
from safeforge.metrics import Comparison, GateResult
from safeforge.report import render_compare_html

REPORT = "report.html"
DISJOINT_NOTE = (
    "Training data is built only from the train intents under the training wrappers; evaluation "
    "uses the held-out intents under held-out wrappers (both split by seed; character-level "
    "obfuscations are shared), so after-scan figures measure generalisation."
)


def _row(label: str, value: object) -> str:
    return f"<tr><td>{escape(label)}</td><td>{escape(str(value))}</td></tr>"


def _card_rows(output: TechniqueOutput) -> list[str]:
    """One row per scalar data-card field (nested settings stay in technique.json)."""
    rows = []
    for key, value in output.data_card.items():
        if isinstance(value, bool | int | float | str) and key not in ("technique", "target"):
            shown = f"{value:.1%}" if isinstance(value, float) and 0.0 <= value <= 1.0 else value
            rows.append(_row(key.replace("_", " "), shown))
    return rows


def harden_section(
    comparison: Comparison,
    verdict: GateResult,
    split: IntentSplit,
    output: TechniqueOutput,
    checks: Sequence[ClaimCheck] = (),
) -> str:
    """An escaped HTML ``<section>`` describing the hardening run."""
    share = "–" if output.template_share is None else f"{output.template_share:.1%}"
    rows = [
        _row("technique", f"{output.technique} ({output.kind})"),
        _row("rescanned target", output.target),
        _row("train intents", len(split.train)),
        _row("held-out eval intents", f"{len(split.eval)} (seed {split.seed})"),
        _row("training targets written by a template", share),
        _row("data / training time", f"{output.data_s:.0f} s / {output.train_s:.0f} s"),
        *_card_rows(output),
        _row("gate", "PASS" if verdict.passed else "FAIL"),
    ]
    gate_items = "".join(f"<li>{escape(c.name)}: {escape(c.message)}</li>" for c in verdict.checks)
    claim_items = "".join(
        f"<li>{'✓' if c.passed else '✗'} {escape(c.metric)} {escape(c.want.replace('_', ' '))}"
        f"{escape(f' (judge {c.judge})' if c.judge else '')}: {escape(c.detail)}</li>"
        for c in checks
    )
    eval_ids = escape(", ".join(split.eval))
    return (
        "<section><h2>Hardening</h2>"
        f"<p><b>Evaluation intents are disjoint from training intents.</b> {escape(DISJOINT_NOTE)} "
        f"Run A is the model before hardening, run B after; both answered the same "
        f"{comparison.shared_probes} probes built only from the held-out intents.</p>"
        f"<table>{''.join(rows)}</table>"
        f"<h3>The technique's claims</h3><ul>{claim_items}</ul><h3>Gate</h3><ul>{gate_items}</ul>"
        f"<details><summary>held-out intents</summary><p>{eval_ids}</p></details></section>"
    )


def write_harden_report(
    out: Path,
    comparison: Comparison,
    verdict: GateResult,
    split: IntentSplit,
    output: TechniqueOutput,
    checks: Sequence[ClaimCheck] = (),
    extra: str = "",
) -> Path:
    """Write ``out/report.html``: the hardening section (then ``extra``, escaped HTML the caller
    built, e.g. the demo's technique table) above the before/after comparison."""
    page = render_compare_html(comparison)
    section = harden_section(comparison, verdict, split, output, checks)
    page = page.replace("<main>", "<main>\n" + section + extra, 1)
    path = out / REPORT
    path.write_text(page, encoding="utf-8")
    return path
