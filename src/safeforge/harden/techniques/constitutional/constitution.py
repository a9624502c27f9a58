"""The constitution: the principles the helper critiques, revises and judges responses by.

A YAML file (``constitution.yaml`` beside this module is the default) lists principles, each
with a *critique* request, a *revision* request and a *choice* question for AI feedback, and the
kinds of prompt it is sampled for (``harmful``, ``benign``). The default covers harmlessness,
non-evasiveness (Constitutional AI's point: a revision engages with the person and explains,
it does not just refuse) and the project's tone policy. A user's own file is validated here,
so a typo fails with one line naming the field, before any scan runs.
"""

from __future__ import annotations

import hashlib
import random
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from safeforge.errors import SafeforgeError

DEFAULT_CONSTITUTION = Path(__file__).with_name("constitution.yaml")
DEMO_CONSTITUTION = Path(__file__).with_name("demo_constitution.yaml")
"""The same principles in few words, for the demo's tiny self-helper (short context, budget)."""
PromptKind = Literal["harmful", "benign"]


class Principle(BaseModel):
    """One principle: what to look for, how to rewrite, which of two responses is better."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    critique: str = Field(min_length=1, description="Asks the helper to criticise the response.")
    revision: str = Field(min_length=1, description="Asks the helper to rewrite it after the critique.")
    choice: str = Field(min_length=1, description="Asks which of two responses is better.")
    applies_to: tuple[PromptKind, ...] = ("harmful", "benign")

    @field_validator("critique", "revision", "choice")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value.strip()

    @field_validator("applies_to")
    @classmethod
    def _some_kind(cls, value: tuple[PromptKind, ...]) -> tuple[PromptKind, ...]:
        if not value:
            raise ValueError("name at least one of harmful, benign")
        return value


class Constitution(BaseModel):
    """A validated constitution file."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: Literal[1] = 1
    principles: tuple[Principle, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_and_complete(self) -> Constitution:
        ids = [p.id for p in self.principles]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise ValueError(f"principle ids must be unique ({', '.join(twice)} repeated)")
        for kind in ("harmful", "benign"):
            if not any(kind in p.applies_to for p in self.principles):
                raise ValueError(f"no principle applies to {kind} prompts")
        return self

    def for_kind(self, kind: PromptKind) -> tuple[Principle, ...]:
        return tuple(p for p in self.principles if kind in p.applies_to)

    def sample(self, kind: PromptKind, key: str, seed: int) -> Principle:
        """A principle for ``kind``, drawn uniformly but fixed by ``key`` (prompt id, round) and
        ``seed``, so a rebuild asks the same questions."""
        options = self.for_kind(kind)
        return random.Random(f"principle\0{seed}\0{key}").choice(options)

    def fingerprint(self) -> str:
        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()[:12]


def load_constitution(path: Path | None = None) -> Constitution:
    """Read and validate a constitution YAML (default: the bundled one); one clear error line
    for a missing file, bad YAML or a field that does not fit."""
    path = Path(path) if path is not None else DEFAULT_CONSTITUTION
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SafeforgeError(f"cannot read constitution {path}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or type(exc).__name__
        raise SafeforgeError(f"constitution {path} is not valid YAML{where}: {problem}") from None
    try:
        return Constitution.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'file'}: {e['msg']}" for e in exc.errors(include_url=False)
        )
        raise SafeforgeError(f"constitution {path}: {problems}") from None
