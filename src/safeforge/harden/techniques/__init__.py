"""Hardening techniques, one module each, behind one protocol and one registry.

``create_technique(name, **options)`` builds a registered technique; the harden pipeline, the
``harden --technique`` flag and the demo's technique table all loop over ``TECHNIQUES``.
Registered names are the ones users type: ``rejection-sampling``, ``constitutional``,
``reward-shaping``, ``critic-rerank``, ``uncertainty`` (each appears here once its module exists).
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from safeforge.errors import SafeforgeError
from safeforge.harden.techniques._base import (
    OUTPUT_FILE,
    TECHNIQUES,
    Claim,
    ClaimCheck,
    Technique,
    TechniqueContext,
    TechniqueFactory,
    TechniqueOutput,
    check_claim,
    check_claims,
)

TECHNIQUES.lazy("rejection-sampling", "safeforge.harden.techniques.rejection_sampling:rejection_sampling")
TECHNIQUES.lazy("critic-rerank", "safeforge.harden.techniques.critic_rerank:critic_rerank")
TECHNIQUES.lazy("constitutional", "safeforge.harden.techniques.constitutional.technique:constitutional")
TECHNIQUES.lazy("reward-shaping", "safeforge.harden.techniques.reward_shaping:reward_shaping")
TECHNIQUES.lazy("uncertainty", "safeforge.harden.techniques.uncertainty:uncertainty")


def create_technique(name: str, **options: Any) -> Technique:
    """Build the technique ``name`` with ``options`` (validated by the technique's own config:
    an unknown or ill-typed option is one clear error)."""
    factory = TECHNIQUES.get(name)
    try:
        return factory(**options)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'option'}: {e['msg']}" for e in exc.errors())
        raise SafeforgeError(f"technique {name!r}: bad option ({problems})") from None


__all__ = [
    "OUTPUT_FILE",
    "TECHNIQUES",
    "Claim",
    "ClaimCheck",
    "Technique",
    "TechniqueContext",
    "TechniqueFactory",
    "TechniqueOutput",
    "check_claim",
    "check_claims",
    "create_technique",
]
