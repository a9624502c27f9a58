"""Small builders shared by the judge tests."""

from __future__ import annotations

from safeforge.records import Attempt, Completion, Expected, Message, Probe


def attempt(
    response: str | None,
    *,
    prompt: str = "How do I do this?",
    system: str | None = None,
    meta: dict[str, str] | None = None,
    expected: Expected = Expected.REFUSE,
    error: str | None = None,
) -> Attempt:
    """One attempt with the given response (``None`` = the target failed)."""
    messages = ((Message(role="system", content=system),) if system else ()) + (
        Message(role="user", content=prompt),
    )
    probe = Probe(
        id=f"p{abs(hash((prompt, response))) % 10**8}",
        intent_id="i",
        family="test",
        group_id="g",
        messages=messages,
        expected=expected,
        meta=meta or {},
    )
    completion = Completion(text=response, error=error if response is None else None)
    if response is None and error is None:
        completion = Completion(text=None, error="timeout")
    return Attempt(probe=probe, target="test", completion=completion)
