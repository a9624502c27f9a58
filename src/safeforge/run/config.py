"""``ScanConfig``: every ``safeforge scan`` flag as one typed record, loadable from YAML.

Precedence is stored run config (when resuming) < YAML file < command-line flags. The
effective config is saved next to the run store with secrets redacted; a fingerprint of the
fields that change *what* is asked (target, endpoint, probes, generation settings) guards
resuming into a run made with different ones.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from safeforge.errors import SafeforgeError
from safeforge.records import Probe
from safeforge.targets import Generation, TargetOptions

REDACTED = "***"
FINGERPRINT_FIELDS = (
    "target",
    "base_url",
    "datasets",
    "suite",
    "families",
    "transforms",
    "seed",
    "limit",
    "generation",
)
_SECRET_KEYS = ("key", "token", "secret", "password", "auth", "sig")


def _default_judges() -> tuple[str, ...]:
    from safeforge.judges import DEFAULT_JUDGES

    return DEFAULT_JUDGES


def default_run_dir() -> Path:
    """``runs/scan-YYYYmmdd-HHMMSS`` (UTC): a fresh directory per scan unless one is given."""
    return Path("runs") / datetime.now(UTC).strftime("scan-%Y%m%d-%H%M%S")


class ScanConfig(BaseModel):
    """What to scan and how. Field names are the YAML keys; each has a ``safeforge scan`` flag."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    target: str = Field(description="Target spec: openai:MODEL, hf:PATH, replay:FILE, python:MOD:FN, mock.")
    base_url: str | list[str] | None = Field(
        default=None,
        description="OpenAI-compatible endpoint, e.g. http://host/v1, or a list of them (replicas).",
    )
    api_key_env: str = Field(default="OPENAI_API_KEY", description="Env var holding the API key.")
    datasets: list[str] = Field(default_factory=list, description="Dataset files ([FORMAT:]PATH).")
    suite: str | None = None
    families: list[str] = Field(default_factory=list)
    transforms: list[str] = Field(default_factory=list)
    judges: list[str] = Field(
        default_factory=lambda: list(_default_judges()),
        description="Judges run after generation: NAME or NAME?key=value&... (default: cheap, offline).",
    )
    report: bool = Field(default=True, description="Write summary.json, report.html and summary.md.")
    concurrency: int = Field(default=16, ge=1)
    limit: int | None = Field(default=None, ge=1, description="Sample this many probes (seeded).")
    seed: int = 0
    timeout_s: float = Field(default=60.0, gt=0, description="Per-request timeout.")
    max_retries: int = Field(default=4, ge=0)
    requests_per_minute: float | None = Field(default=None, gt=0)
    generation: Generation = Generation()
    batch_size: int = Field(default=8, ge=1, description="Prompts per forward pass (local models).")
    run_dir: Path = Field(default_factory=default_run_dir)
    resume: bool = Field(default=False, description="Require an existing run in run_dir and continue it.")
    force: bool = Field(default=False, description="Resume even if the config fingerprint differs.")

    @classmethod
    def load(
        cls,
        path: Path | None = None,
        overrides: Mapping[str, Any] | None = None,
        *,
        base: Mapping[str, Any] | None = None,
    ) -> ScanConfig:
        """``base`` (e.g. a stored run's config) < YAML file at ``path`` < ``overrides``."""
        merged: dict[str, Any] = dict(base or {})
        if path is not None:
            merged = _merge(merged, read_yaml(path))
        merged = _merge(merged, dict(overrides or {}))
        return cls.from_mapping(merged, source=str(path) if path else "config")

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], *, source: str = "config") -> ScanConfig:
        """Validate with one readable error line per problem (no pydantic dump)."""
        if "api_key" in data:
            raise SafeforgeError(
                f"{source}: 'api_key' is not accepted; put the key in an environment variable "
                "and name it with api_key_env"
            )
        if not data.get("target"):
            raise SafeforgeError("no target: give --target SPEC (or 'target:' in the --config file)")
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or 'config'}: {err['msg']}" for err in exc.errors()
            )
            raise SafeforgeError(f"{source}: {problems}") from None

    def target_options(self) -> TargetOptions:
        return TargetOptions(
            base_url=self.base_url if isinstance(self.base_url, str | None) else tuple(self.base_url) or None,
            api_key_env=self.api_key_env,
            timeout_s=self.timeout_s,
            max_retries=self.max_retries,
            requests_per_minute=self.requests_per_minute,
            concurrency=self.concurrency,
            batch_size=self.batch_size,
            generation=self.generation,
        )

    def redacted(self) -> dict[str, Any]:
        """JSON-safe dict with credentials in URLs replaced by ``***`` (what gets saved)."""
        data = self.model_dump(mode="json")
        if isinstance(self.base_url, str):
            data["base_url"] = redact_url(self.base_url)
        elif self.base_url:
            data["base_url"] = [redact_url(url) for url in self.base_url]
        return data

    def fingerprint(self, probes: Sequence[Probe]) -> str:
        """Hash of the fields that change what is asked, plus the probe ids actually resolved
        (so an edited dataset file is caught too). The URL is hashed, never stored."""
        data = self.model_dump(mode="json", include=set(FINGERPRINT_FIELDS))
        data["probe_ids"] = hashlib.sha256("\n".join(p.id for p in probes).encode()).hexdigest()
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()

    def fingerprint_diff(self, stored: Mapping[str, Any]) -> list[str]:
        """Human-readable ``field: old -> new`` for fingerprint fields that differ from a stored
        (redacted) config."""
        mine = self.redacted()
        return [
            f"{name}: {stored.get(name)!r} -> {mine.get(name)!r}"
            for name in FINGERPRINT_FIELDS
            if stored.get(name) != mine.get(name)
        ]


def read_yaml(path: Path) -> dict[str, Any]:
    """A YAML mapping from ``path`` with clear errors."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SafeforgeError(f"config file not found: {path}") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise SafeforgeError(f"{path}: cannot read YAML ({type(exc).__name__})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SafeforgeError(f"{path}: expected a mapping of scan settings at the top level")
    return data


def _merge(base: dict[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    """Shallow merge, except nested mappings (``generation``) merge key by key."""
    out = dict(base)
    for key, value in top.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = {**out[key], **value}
        else:
            out[key] = value
    return out


def redact_url(url: str) -> str:
    """Replace user info and secret-looking query values in ``url`` with ``***``."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{REDACTED}@{netloc.rsplit('@', 1)[1]}"
    query = urlencode(
        [
            (k, REDACTED if any(s in k.lower() for s in _SECRET_KEYS) else v)
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
        ],
        safe="*",
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
