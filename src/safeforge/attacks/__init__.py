"""Attacker-driven attacks: an attacker model against the target, over many turns.

Static probes (``safeforge.probes``) send fixed prompts; here an attacker model (any target
spec) writes the prompts, reads the target's answers and the judges' ratings, and tries again:
PAIR-style refinement (``pair``), TAP-style tree search with off-topic pruning (``tap``) and
Crescendo-style escalation over one conversation (``crescendo``). Every turn is an ordinary
attempt in the run store, beside a ``conversations`` row (conversation id, turn, parent), so a
killed attack resumes with nothing repeated and reports, exports and judges like a scan.

``run_attack(AttackConfig.build(ScanConfig(...), attacker=..., methods=[...]))`` or
``safeforge attack``; ``summarize_attack(run_dir)`` gives ASR per method with its interval,
turns to success and cost.
"""

from __future__ import annotations

from safeforge.attacks._base import ATTACKS, AttackMethod, Budget, Goal, Settings, StopReason, shipped_prompt

for _name in ("pair", "tap", "crescendo"):
    ATTACKS.lazy(_name, f"safeforge.attacks.{_name}:{_name}")

from safeforge.attacks.config import AttackConfig, select_goals  # noqa: E402
from safeforge.attacks.engine import attack_async, run_attack  # noqa: E402
from safeforge.attacks.outputs import ATTACKS_FILE, write_attack_outputs  # noqa: E402
from safeforge.attacks.summary import is_attack_run, summarize_attack  # noqa: E402

__all__ = [
    "ATTACKS",
    "ATTACKS_FILE",
    "AttackConfig",
    "AttackMethod",
    "Budget",
    "Goal",
    "Settings",
    "StopReason",
    "attack_async",
    "is_attack_run",
    "run_attack",
    "select_goals",
    "shipped_prompt",
    "summarize_attack",
    "write_attack_outputs",
]
