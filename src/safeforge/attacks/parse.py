"""Reading a prompt out of an attacker's reply, which is untrusted and often not what was asked.

The shipped prompts ask for one JSON object with a ``"prompt"`` string. Attackers wrap it in a
code fence, put prose around it, refuse to play, or stop mid-object at their token limit; a
reply without a usable prompt is recorded as ``unusable`` (with the reason), counted in the
summary and never sent to the target. Nothing in the reply is executed.
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_PROMPT_CHARS = 8000
_FENCE = re.compile(r"^```[a-zA-Z]*\s*|\s*```\s*$")


def _objects(text: str) -> list[dict[str, Any]]:
    """JSON objects in ``text``: the whole (unfenced) text, else each ``{`` that starts one."""
    decoder = json.JSONDecoder()
    stripped = _FENCE.sub("", text.strip())
    found: list[dict[str, Any]] = []
    try:
        whole = json.loads(stripped)
    except json.JSONDecodeError:
        whole = None
    if isinstance(whole, dict):
        return [whole]
    for match in re.finditer(r"\{", text):
        try:
            obj, _ = decoder.raw_decode(text, match.start())
        except json.JSONDecodeError:
            continue
        if isinstance(obj, dict):
            found.append(obj)
    return found


def parse_proposal(text: str | None) -> tuple[str | None, str]:
    """(the prompt, "") from a usable reply, else (None, why it is unusable)."""
    if not text or not text.strip():
        return None, "empty reply"
    objects = _objects(text)
    if not objects:
        return None, "no JSON object in the reply"
    for obj in objects:
        prompt = obj.get("prompt")
        if isinstance(prompt, str) and prompt.strip():
            if len(prompt) > MAX_PROMPT_CHARS:
                return None, f"prompt longer than {MAX_PROMPT_CHARS} characters"
            return prompt.strip(), ""
    return None, 'no non-empty "prompt" string in the JSON'
