"""``mock`` — a scripted target for tests and dry runs (no model, no network).

Spec forms (``mock`` alone means ``mock:refuse``):

==================  ===================================================================
``mock:refuse``     always the same refusal
``mock:comply``     always the same compliant answer
``mock:echo``       ``"echo: <prompt>"`` — shows which prompt produced which answer
``mock:expected``   the ideal model: refuses, complies or abstains as ``probe.expected`` says
``mock:inverse``    the worst model: complies with harmful probes, refuses benign ones
``mock:error``      every probe fails (``Completion.error`` set) — exercises error paths
``mock:FILE``       a JSON or YAML mapping ``{prompt or probe id: response}``; key ``"*"``
                    is the fallback (without one an unmapped probe is an error)
==================  ===================================================================

From Python, ``MockTarget(script)`` takes any ``Probe -> str | Completion`` function or a
mapping, and records every probe id it was asked about in ``calls`` (tests use it to check
that nothing is sent twice).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import yaml

from safeforge.errors import SafeforgeError
from safeforge.records import Completion, Expected, Probe, Usage
from safeforge.targets._base import TargetOptions

REFUSAL = "I'm sorry, but I can't help with that."
COMPLIANCE = "Sure, here is a detailed answer. Step 1: gather what you need. Step 2: follow the procedure."
ABSTENTION = "I don't know; I could not find reliable information to answer that."

Script = Callable[[Probe], "str | Completion"]
MOCK_BATCH = 8
"""Probes per call of a ``mock`` spec unless ``batch_size`` says otherwise."""


def _by_expected(probe: Probe) -> str:
    return {Expected.REFUSE: REFUSAL, Expected.COMPLY: COMPLIANCE, Expected.ABSTAIN: ABSTENTION}[
        probe.expected
    ]


def _inverse(probe: Probe) -> str:
    return REFUSAL if probe.expected is not Expected.REFUSE else COMPLIANCE


SCRIPTS: dict[str, Script] = {
    "refuse": lambda _: REFUSAL,
    "comply": lambda _: COMPLIANCE,
    "echo": lambda p: f"echo: {p.prompt}",
    "expected": _by_expected,
    "inverse": _inverse,
    "error": lambda _: Completion(error="mock failure (mock:error)"),
}


class MockTarget:
    """Answers from a script; optional ``latency_s`` sleeps per call (asyncio, not blocking)."""

    def __init__(
        self,
        script: Script | Mapping[str, str] = SCRIPTS["refuse"],
        *,
        name: str = "refuse",
        latency_s: float = 0.0,
        batch_size: int = 1,
    ) -> None:
        self.id = f"mock:{name}"
        self.batch_size = batch_size
        self.latency_s = latency_s
        self.calls: list[str] = []
        self._script = _from_mapping(script) if isinstance(script, Mapping) else script

    async def generate_async(self, probes: Sequence[Probe]) -> list[Completion]:
        if self.latency_s:
            await asyncio.sleep(self.latency_s)
        out = []
        for probe in probes:
            self.calls.append(probe.id)
            reply = self._script(probe)
            if isinstance(reply, str):
                reply = Completion(
                    text=reply,
                    finish_reason="stop",
                    usage=Usage(
                        prompt_tokens=len(probe.prompt.split()), completion_tokens=len(reply.split())
                    ),
                )
            out.append(reply)
        return out

    async def aclose(self) -> None:
        return None


def _from_mapping(mapping: Mapping[str, str]) -> Script:
    table = {str(k): str(v) for k, v in mapping.items()}

    def script(probe: Probe) -> str | Completion:
        for key in (probe.id, probe.prompt):
            if key in table:
                return table[key]
        if "*" in table:
            return table["*"]
        return Completion(error="mock: no scripted response for this probe")

    return script


def _load_mapping(path: Path) -> Mapping[str, str]:
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (OSError, UnicodeDecodeError, ValueError, yaml.YAMLError) as exc:
        raise SafeforgeError(f"mock script {path}: cannot read it ({type(exc).__name__})") from None
    if not isinstance(data, dict):
        raise SafeforgeError(f"mock script {path}: expected a mapping of prompt -> response")
    return {str(k): str(v) for k, v in data.items()}


def mock(rest: str, options: TargetOptions) -> MockTarget:
    """Factory for ``mock[:SCRIPT]``; see the module docstring for the script names."""
    name = rest or "refuse"
    if name in SCRIPTS:
        return MockTarget(SCRIPTS[name], name=name, batch_size=options.batch_size or MOCK_BATCH)
    path = Path(name)
    if path.suffix.lower() in {".json", ".yaml", ".yml"}:
        if not path.is_file():
            raise SafeforgeError(f"mock script file not found: {path}")
        return MockTarget(_load_mapping(path), name=name, batch_size=options.batch_size or MOCK_BATCH)
    known = ", ".join(SCRIPTS)
    raise SafeforgeError(f"unknown mock script {name!r}; use one of {known}, or a .json/.yaml file")
