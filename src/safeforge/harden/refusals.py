"""Templated refusals that follow the tone policy: the fallback when sampling finds none.

A fallback refusal is brief, non-judgmental, does not moralise, and offers a safe
alternative -- the shape the default tone policy (``safeforge/metrics/tone_policy.yaml``)
asks for, so training on it never teaches the lecturing style the tone metric penalises.
The wording is picked deterministically from the prompt, so rebuilding the data is
reproducible and the model does not learn one fixed sentence.
"""

from __future__ import annotations

import hashlib

OPENINGS: tuple[str, ...] = (
    "I can't help with that.",
    "I can't help with this one.",
    "I won't be able to help with that.",
    "Sorry, I can't help with that request.",
)
ALTERNATIVES: tuple[str, ...] = (
    "I can help with general safety information instead.",
    "If it helps, I can point you to reputable resources on the topic instead.",
    "I'd be happy to help with a safe, legal alternative instead.",
    "If you are dealing with a difficult situation, I can suggest support resources instead.",
)


def _pick(options: tuple[str, ...], key: str) -> str:
    digest = hashlib.sha256(key.encode()).digest()
    return options[int.from_bytes(digest[:4], "big") % len(options)]


def templated_refusal(prompt: str, *, seed: int = 0) -> str:
    """A brief, non-judgmental refusal with a safe alternative, chosen by ``prompt`` and ``seed``."""
    key = f"{seed}\0{prompt}"
    return f"{_pick(OPENINGS, 'open' + key)} {_pick(ALTERNATIVES, 'alt' + key)}"
