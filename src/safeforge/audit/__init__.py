"""Reward-model audit: does a reward model (or judge, or reward endpoint) prefer safe responses,
and which cheap features -- politeness, padding, flattery, disclaimers, confidence, obfuscation
-- buy it reward? A reward model with such a bias teaches the policy to game it (reward
hacking). ``safeforge audit-rm`` is the command; ``audit`` the function behind it.
"""

from __future__ import annotations

from safeforge.audit.core import ALPHA, audit
from safeforge.audit.html import render_audit_html
from safeforge.audit.library import BIAS_PROBES, SUBSETS, BiasProbe, safety_pairs
from safeforge.audit.pairs import PairFile, load_pairs
from safeforge.audit.records import AuditReport, BiasResult, Pair, SubsetAccuracy
from safeforge.audit.scorers import Scorer, create_scorer

__all__ = [
    "ALPHA",
    "BIAS_PROBES",
    "SUBSETS",
    "AuditReport",
    "BiasProbe",
    "BiasResult",
    "Pair",
    "PairFile",
    "Scorer",
    "SubsetAccuracy",
    "audit",
    "create_scorer",
    "load_pairs",
    "render_audit_html",
    "safety_pairs",
]
