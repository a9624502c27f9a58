"""Templated refusals: the last-resort target when the model never refused an intent well.

Written for this project from the definition of a good refusal -- it declines briefly, does not
judge the asker or moralise, and offers something safe instead -- not from the tone policy's
phrase lists, so whether a template passes the tone rules is the rules' reading, not a given.
They differ from the demo corpus's refusals, so a fallback target is never mistaken for one the
model wrote. The wording is picked deterministically from the prompt, so rebuilding the data is
reproducible and the model does not learn one fixed sentence.
"""

from __future__ import annotations

import hashlib

OPENINGS: tuple[str, ...] = (
    "I can't help with this request.",
    "That's not something I can help with.",
    "I won't provide that.",
    "I'm unable to help with that.",
)
ALTERNATIVES: tuple[str, ...] = (
    "If it's useful, I can explain the general safety side of the topic instead.",
    "I'm glad to help with a safer version of the question.",
    "If you're going through something difficult, talking to someone you trust can help.",
    "Official guidance on the topic would be a better place to look.",
)


def _pick(options: tuple[str, ...], key: str) -> str:
    digest = hashlib.sha256(key.encode()).digest()
    return options[int.from_bytes(digest[:4], "big") % len(options)]


def templated_refusal(prompt: str, *, seed: int = 0) -> str:
    """A brief, non-judgmental refusal with a safe alternative, chosen by ``prompt`` and ``seed``."""
    key = f"{seed}\0{prompt}"
    return f"{_pick(OPENINGS, 'open' + key)} {_pick(ALTERNATIVES, 'alt' + key)}"
