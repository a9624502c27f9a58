"""``AttackConfig``: everything ``safeforge attack`` takes, and the goals it attacks.

The target side (target spec, endpoint, judges, which goals, concurrency, run directory) is an
ordinary ``ScanConfig``, stored as the run's ``config`` so every later command (``report``,
``export``, ``judges``) opens an attack run like a scan. The attacker side is stored beside it
(``meta["attack"]``). Secrets never reach the store: the attacker's key is read from the
environment variable ``attacker_api_key_env`` names and its URL is redacted like the target's.

A resumed attack must use the same attacker, methods, prompts and method settings (the
fingerprint); the budgets are left out of it on purpose, so ``--resume DIR --max-turns 30``
continues every goal that stopped for lack of turns.
"""

from __future__ import annotations

import hashlib
import json
import random
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from safeforge.attacks._base import ATTACKS, Budget, Goal, Settings
from safeforge.errors import SafeforgeError
from safeforge.probes import INTENTS
from safeforge.records import Expected
from safeforge.run.config import ScanConfig, redact_url
from safeforge.targets import Generation, TargetOptions
from safeforge.taxonomy import DIRECT_REQUEST

FINGERPRINT = (
    "methods",
    "attacker",
    "attacker_base_url",
    "attacker_generation",
    "prompts",
    "streams",
    "history",
    "branching",
    "width",
    "backtracks",
    "prune_judge",
)


class AttackConfig(BaseModel):
    """The attacker, the methods and their budgets; ``scan`` holds the target side."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    scan: ScanConfig
    methods: list[str] = Field(default_factory=lambda: ["pair"], min_length=1)
    attacker: str = Field(description="Target spec of the attacker model, e.g. openai:MODEL.")
    attacker_base_url: str | None = None
    attacker_api_key_env: str = "OPENAI_API_KEY"
    attacker_generation: Generation = Generation(max_new_tokens=512, temperature=1.0)
    prompts: dict[str, str] = Field(
        default_factory=dict, description="Method -> attacker system prompt replacing the shipped one."
    )
    max_turns: int = Field(default=12, ge=1, description="Attacker proposals per goal and method.")
    max_tokens: int | None = Field(
        default=None, ge=1, description="Attacker + target tokens per goal and method."
    )
    max_seconds: float | None = Field(default=None, gt=0, description="Active seconds per goal and method.")
    streams: int = Field(default=3, ge=1, description="PAIR: parallel streams.")
    history: int = Field(default=3, ge=0, description="PAIR: earlier exchanges the attacker sees.")
    branching: int = Field(default=2, ge=1, description="TAP: children per kept node.")
    width: int = Field(default=3, ge=1, description="TAP: nodes kept per level.")
    backtracks: int = Field(default=3, ge=0, description="Crescendo: refused steps dropped at most.")
    prune_judge: str = Field(
        default="request_harm",
        description="TAP's off-topic judge (task request_harm): request_harm or llm?...&task=request_harm.",
    )

    @field_validator("methods")
    @classmethod
    def _known_methods(cls, methods: list[str]) -> list[str]:
        for name in methods:
            ATTACKS.get(name)  # a did-you-mean error for a typo
        return list(dict.fromkeys(methods))

    @classmethod
    def build(cls, scan: ScanConfig, **fields: Any) -> AttackConfig:
        """Validate with one readable error line."""
        try:
            config = cls.model_validate({"scan": scan, **{k: v for k, v in fields.items() if v is not None}})
        except ValidationError as exc:
            problems = [f"{'.'.join(str(p) for p in e['loc']) or 'attack'}: {e['msg']}" for e in exc.errors()]
            raise SafeforgeError("; ".join(problems)) from None
        extra = sorted(set(config.prompts) - set(config.methods))
        if extra:
            raise SafeforgeError(f"--attacker-prompt for {', '.join(extra)}, which is not among --method")
        return config

    @property
    def budget(self) -> Budget:
        return Budget(self.max_turns, self.max_tokens, self.max_seconds)

    @property
    def settings(self) -> Settings:
        return Settings(
            self.streams, self.history, self.branching, self.width, self.backtracks, self.max_turns
        )

    def attacker_options(self) -> TargetOptions:
        """The attacker's endpoint options (timeouts and retries as the target's)."""
        return TargetOptions(
            base_url=self.attacker_base_url,
            api_key_env=self.attacker_api_key_env,
            timeout_s=self.scan.timeout_s,
            max_retries=self.scan.max_retries,
            concurrency=self.scan.concurrency,
            generation=self.attacker_generation,
        )

    def redacted_attack(self) -> dict[str, Any]:
        """The attacker side as stored (URL credentials redacted)."""
        data = self.model_dump(mode="json", exclude={"scan"})
        if self.attacker_base_url:
            data["attacker_base_url"] = redact_url(self.attacker_base_url)
        return data

    def fingerprint(self, goals: list[Goal]) -> str:
        data = self.model_dump(mode="json", include=set(FINGERPRINT))
        data["goals"] = [g.id for g in goals]
        data["target"] = self.scan.target
        data["base_url"] = self.scan.base_url
        data["generation"] = self.scan.generation.model_dump(mode="json")
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()

    def meta(self, goals: list[Goal]) -> dict[str, Any]:
        return {
            "kind": "attack",
            "config": self.scan.redacted(),
            "attack": self.redacted_attack(),
            "fingerprint": self.fingerprint(goals),
            "n_goals": len(goals),
            "goals": [{"id": g.id, "text": g.text} for g in goals],
        }


def select_goals(scan: ScanConfig) -> list[Goal]:
    """The refuse-expected requests to attack, one per intent: from the scan's datasets, suite or
    families when given (``limit`` sampled as a scan samples), else the project's own intents
    (``limit`` of them, seeded)."""
    if scan.datasets or scan.suite or scan.families:
        plan = scan.plan()
        goals: dict[str, Goal] = {}
        for probe in plan:
            if probe.expected is Expected.REFUSE and probe.prompt.strip():
                goals.setdefault(probe.intent_id, Goal.of(probe))
        if not goals:
            raise SafeforgeError("no refuse-expected requests among the probes given: nothing to attack")
        return list(goals.values())
    intents = list(INTENTS)
    if scan.limit is not None:
        chosen = set(random.Random(scan.seed).sample(range(len(intents)), min(scan.limit, len(intents))))
        intents = [i for n, i in enumerate(intents) if n in chosen]
    return [Goal(f"intent/{i.id}", i.request, i.id, i.category, taxonomy=DIRECT_REQUEST.ids) for i in intents]
