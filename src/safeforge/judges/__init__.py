"""Judges: batched, typed verdicts over attempts, each also usable as a TRL reward function.

``create_judge(name, **options)`` builds a registered judge; ``DEFAULT_JUDGES`` is what a scan
runs when no judge is named (cheap and offline). Validation against human labels:
``safeforge judge-eval`` and ``VALIDATION.md`` beside this file.
"""

from __future__ import annotations

from typing import Any

from safeforge.errors import SafeforgeError
from safeforge.judges._base import JUDGES, Judge, JudgeFactory, RewardFn, check_options
from safeforge.judges.reward import as_reward

_BUILTIN = (
    "rules",
    "embed",
    "cascade",
    "llm",
    "reward_model",
    "leak",
    "abstention",
    "gold",
    "request_harm",
    "critic",
)
for _name in _BUILTIN:
    JUDGES.lazy(_name, f"safeforge.judges.factories:{_name}")
JUDGES.lazy("shaped_reward", "safeforge.judges.rewards:shaped_reward")

DEFAULT_JUDGES: tuple[str, ...] = ("cascade", "leak", "abstention")
"""The refusal cascade (rules, then the encoder where unsure), the leak and abstention detectors."""


def create_judge(spec: str, **options: Any) -> Judge:
    """Build a judge from ``NAME`` or ``NAME?key=value&key=value`` (the form ``--judge`` and run
    configs use, e.g. ``llm?target=openai:gpt-4o-mini&base_url=http://127.0.0.1:8000/v1``).
    Numbers in the query become numbers; keyword ``options`` override the query. An unknown or
    missing option is one ``SafeforgeError`` naming the options the judge accepts."""
    name, parsed = parse_judge_spec(spec)
    factory = JUDGES.get(name)
    merged = {**parsed, **options}
    check_options(name, factory, merged)
    return factory(**merged)


def check_judge_spec(spec: str) -> None:
    """Everything ``create_judge`` checks (spec syntax, name, options) without building the
    judge, so a scan can fail on a bad ``--judge`` before it generates anything."""
    name, parsed = parse_judge_spec(spec)
    check_options(name, JUDGES.get(name), parsed)


def parse_judge_spec(spec: str) -> tuple[str, dict[str, Any]]:
    """``NAME?key=value&...`` -> (name, options); numbers in the query become numbers."""
    name, _, query = spec.partition("?")
    parsed: dict[str, Any] = {}
    for pair in filter(None, query.split("&")):
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise SafeforgeError(f"judge spec {spec!r}: expected key=value pairs after '?'")
        parsed[key] = _number(value)
    return name, parsed


def _number(value: str) -> Any:
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return value


__all__ = [
    "DEFAULT_JUDGES",
    "JUDGES",
    "Judge",
    "JudgeFactory",
    "RewardFn",
    "as_reward",
    "check_judge_spec",
    "create_judge",
    "parse_judge_spec",
]
