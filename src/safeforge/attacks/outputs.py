"""An attack run's outputs: ``attacks.json`` (the ``AttackSummary``) beside the scan's own
``summary.json``, ``report.html`` and ``summary.md``, which gain the attack sections (ASR per
method with its interval, turns to success, cost, and the winning conversations, escaped)."""

from __future__ import annotations

from pathlib import Path

from safeforge.attacks.summary import summarize_attack
from safeforge.metrics import Summary
from safeforge.metrics.attacks import AttackSummary
from safeforge.report import open_run, write_run_outputs
from safeforge.report.outputs import write_text_atomic

ATTACKS_FILE = "attacks.json"


def write_attack_outputs(run_dir: Path, *, refusal_judge: str | None = None) -> tuple[Summary, AttackSummary]:
    """(Re)write every output of the attack run in ``run_dir``."""
    attacks = summarize_attack(Path(run_dir))
    write_text_atomic(Path(run_dir) / ATTACKS_FILE, attacks.model_dump_json(indent=2) + "\n")
    summary = write_run_outputs(open_run(Path(run_dir)), refusal_judge=refusal_judge, attacks=attacks)
    return summary, attacks
