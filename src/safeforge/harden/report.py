"""The one before/after report of a hardening run.

The comparison page itself is the report package's (``render_compare_html``: paired tests,
trade-off chart, flipped probes, every model output escaped); this module puts a short
hardening section on top of it -- technique, data made, how often the templated refusal was
needed, the gate, and the statement that evaluation intents were held out of training.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from safeforge.harden.rejection_sampling import DataCard
from safeforge.harden.split import IntentSplit
from safeforge.metrics import Comparison, GateResult
from safeforge.report import render_compare_html

REPORT = "report.html"


def _row(label: str, value: object) -> str:
    return f"<tr><td>{escape(label)}</td><td>{escape(str(value))}</td></tr>"


def harden_section(comparison: Comparison, verdict: GateResult, split: IntentSplit, card: DataCard) -> str:
    """An escaped HTML ``<section>`` describing the hardening run."""
    rows = [
        _row("technique", f"{card.technique} (k = {card.config.k} samples per phrasing)"),
        _row("target", card.target),
        _row("train intents", len(split.train)),
        _row("held-out eval intents", f"{len(split.eval)} (seed {split.seed})"),
        _row("harmful / benign phrasings sampled", f"{card.harmful_prompts} / {card.benign_prompts}"),
        _row("templated refusal fallback", f"{card.fallback_refusals} ({card.fallback_rate:.1%})"),
        _row("benign prompts without a helpful sample (dropped)", card.benign_dropped),
        _row("SFT rows (benign)", f"{card.sft_rows} ({card.sft_benign_rows})"),
        _row("DPO pairs (benign)", f"{card.dpo_pairs} ({card.dpo_benign_pairs})"),
        _row("gate", "PASS" if verdict.passed else "FAIL"),
    ]
    checks = "".join(f"<li>{escape(c.name)}: {escape(c.message)}</li>" for c in verdict.checks)
    eval_ids = escape(", ".join(split.eval))
    return (
        "<section><h2>Hardening</h2>"
        f"<p><b>Evaluation intents are disjoint from training intents.</b> {escape(card.disjoint_note)} "
        f"Run A is the model before hardening, run B after; both answered the same "
        f"{comparison.shared_probes} probes built only from the held-out intents.</p>"
        f"<table>{''.join(rows)}</table><ul>{checks}</ul>"
        f"<details><summary>held-out intents</summary><p>{eval_ids}</p></details></section>"
    )


def write_harden_report(
    out: Path, comparison: Comparison, verdict: GateResult, split: IntentSplit, card: DataCard
) -> Path:
    """Write ``out/report.html``: the hardening section above the before/after comparison."""
    page = render_compare_html(comparison)
    section = harden_section(comparison, verdict, split, card)
    page = page.replace("<main>", "<main>\n" + section, 1)
    path = out / REPORT
    path.write_text(page, encoding="utf-8")
    return path
