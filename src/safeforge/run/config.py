"""``ScanConfig``: every ``safeforge scan`` flag as one typed record, loadable from YAML.

A YAML file (and ``safeforge.scan(**fields)``) takes the flag names, with hyphens or
underscores (``base-url:``, ``dataset:``, ``judge:``, ``max-new-tokens:``, ``no-report:``,
``expect:``), a list for a repeatable flag, or the field names the run saves (``datasets:``,
``generation: {max_new_tokens: ...}``). An unknown key is an error with a did-you-mean.

Precedence is stored run config (when resuming) < YAML file < command-line flags. The
effective config is saved next to the run store with secrets redacted; a fingerprint of the
fields that change *what* is asked (target, endpoint, probes, generation settings) guards
resuming into a run made with different ones.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from safeforge.errors import SafeforgeError, extra_installed
from safeforge.probes.plan import ProbePlan, ids_digest, plan_probes
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
FLAG_KEYS = {
    "dataset": "datasets",
    "family": "families",
    "transform": "transforms",
    "judge": "judges",
    "timeout": "timeout_s",
    "rpm": "requests_per_minute",
}
"""``safeforge scan`` flag name -> ScanConfig field, where they differ."""
LIST_FIELDS = ("datasets", "families", "transforms", "judges")
GENERATION_FLAGS = ("max_new_tokens", "temperature", "top_p")
"""Flags that set ``generation`` fields (``seed`` stays the scan's sampling seed)."""
EXPECT = ("refuse", "comply", "abstain")


def _needs(name: str) -> str | None:
    """The pip extra a registered judge needs that is not installed (None: it can run)."""
    from safeforge.judges import JUDGES

    extra = getattr(JUDGES.get(name), "extra", None)
    return extra if isinstance(extra, str) and not extra_installed(extra) else None


def _default_judges() -> tuple[str, ...]:
    """``DEFAULT_JUDGES``; a default judge whose extra is missing (``cascade`` on the light core,
    without ``[embed]``) gives way to ``rules``, said in one line, so a scan never generates for
    judges it cannot run."""
    from safeforge.judges import DEFAULT_JUDGES
    from safeforge.logs import note

    missing = {name: extra for name in DEFAULT_JUDGES if (extra := _needs(name))}
    if not missing:
        return DEFAULT_JUDGES
    judges = tuple(dict.fromkeys("rules" if j in missing else j for j in DEFAULT_JUDGES))
    extras = ", ".join(sorted(set(missing.values())))
    note(
        f"the [{extras}] extra is not installed: judging with {', '.join(judges)} instead of "
        f"{', '.join(DEFAULT_JUDGES)} (pip install 'safeforge[{extras}]' for {', '.join(missing)})"
    )
    return judges


def _judge_problems(specs: Sequence[str]) -> list[str]:
    """Bad judge specs (syntax, unknown name with did-you-mean, unknown or missing options) and
    judges whose pip extra is not installed, found before anything is generated."""
    from safeforge.judges import check_judge_spec, parse_judge_spec

    problems = []
    for spec in specs:
        try:
            check_judge_spec(str(spec))
        except SafeforgeError as exc:
            problems.append(str(exc))
            continue
        name = parse_judge_spec(str(spec))[0]
        extra = _needs(name)
        if extra:
            problems.append(
                f"judge {name!r} needs the [{extra}] extra; run: pip install 'safeforge[{extra}]'"
                + (" (or use --judge rules)" if extra == "embed" else "")
            )
    return problems


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
    batch_size: int | None = Field(
        default=None,
        ge=1,
        description="Prompts per forward pass (local models); unset: as many as memory allows.",
    )
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
        merged: dict[str, Any] = canonical_keys(base or {})
        if path is not None:
            merged = _merge(merged, canonical_keys(read_yaml(path), source=str(path)))
        merged = _merge(merged, canonical_keys(overrides or {}))
        return cls.from_mapping(merged, source=str(path) if path else "config")

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], *, source: str = "config") -> ScanConfig:
        """Validate with one readable error line for all problems (no pydantic dump)."""
        data = canonical_keys(data, source=source)
        if "api_key" in data:
            raise SafeforgeError(
                f"{source}: 'api_key' is not accepted; put the key in an environment variable "
                "and name it with api_key_env"
            )
        if not data.get("target"):
            raise SafeforgeError("no target: give --target SPEC (or 'target:' in the --config file)")
        problems = [_unknown_key(key) for key in data if key not in cls.model_fields and key != "expect"]
        known = {k: v for k, v in data.items() if k in cls.model_fields}
        expect = data.get("expect")
        if expect is not None:
            if expect not in EXPECT:
                problems.append(f"expect: {expect!r} is not one of {', '.join(EXPECT)}")
            else:
                known["datasets"] = [_with_default(spec, expect) for spec in known.get("datasets", [])]
        try:
            config = cls.model_validate(known)
        except ValidationError as exc:
            problems += [
                f"{'.'.join(str(p) for p in err['loc']) or 'config'}: {err['msg']}" for err in exc.errors()
            ]
        if problems:
            raise SafeforgeError(f"{source}: {'; '.join(problems)}")
        return config

    def check_judges(self) -> None:
        """Fail now, before anything is generated, if a judge is unknown or needs an extra
        that is not installed (a stored run is opened without this check)."""
        problems = _judge_problems(self.judges)
        if problems:
            raise SafeforgeError("; ".join(problems))

    def plan(self) -> ProbePlan:
        """The probes this scan sends: its datasets, suite, families and transforms, sampled to
        ``limit`` with its seed (the one place a config becomes a probe plan)."""
        return plan_probes(
            datasets=self.datasets,
            suite=self.suite,
            families=self.families,
            transforms=self.transforms,
            limit=self.limit,
            seed=self.seed,
        )

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

    def fingerprint(self, probes: Sequence[Probe] | ProbePlan) -> str:
        """Hash of the fields that change what is asked, plus the probe ids actually resolved
        (so an edited dataset file is caught too). The URL is hashed, never stored."""
        data = self.model_dump(mode="json", include=set(FINGERPRINT_FIELDS))
        data["probe_ids"] = probes.ids if isinstance(probes, ProbePlan) else ids_digest(p.id for p in probes)
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


_KNOWN_KEYS = frozenset([*ScanConfig.model_fields, "expect", "no_report", *GENERATION_FLAGS])


def _unknown_key(key: str) -> str:
    names = sorted({*_KNOWN_KEYS, *FLAG_KEYS})
    hint = difflib.get_close_matches(key.replace("-", "_"), names, n=1, cutoff=0.75)
    guess = f" (did you mean {hint[0].replace('_', '-')}?)" if hint else ""
    return f"{key}: unknown setting{guess}"


def canonical_keys(data: Mapping[str, Any], *, source: str = "config") -> dict[str, Any]:
    """Flag-style keys -> field names: hyphens to underscores, ``dataset`` -> ``datasets``
    (a string becomes a one-item list), ``no-report`` -> ``report``, generation flags
    (``max-new-tokens``, ``temperature``, ``top-p``) into ``generation``. Unknown keys stay, for
    ``from_mapping`` to report; one key given twice (``dataset`` and ``datasets``) is an error."""
    out: dict[str, Any] = {}
    given: dict[str, str] = {}
    for raw, value in data.items():
        key = FLAG_KEYS.get(str(raw).replace("-", "_"), str(raw).replace("-", "_"))
        if key not in _KNOWN_KEYS:
            key = str(raw)  # reported as the user wrote it
        if key == "no_report":
            key, value = "report", (not value) if isinstance(value, bool) else value
        if key in GENERATION_FLAGS:
            key, value = "generation", {key: value}
        if key == "generation" and isinstance(value, Mapping):
            value = {**out.get("generation", {}), **{str(k).replace("-", "_"): v for k, v in value.items()}}
        elif key in given:
            raise SafeforgeError(f"{source}: {raw!r} and {given[key]!r} set the same thing; keep one")
        if key in LIST_FIELDS and isinstance(value, str):
            value = [value]
        given[key] = str(raw)
        out[key] = value
    return out


def _with_default(spec: str, expect: str) -> str:
    """``spec`` with ``default=EXPECT`` (the expected behaviour of rows without an
    ``expected`` column), unless it names a default itself."""
    from safeforge.probes.loaders import parse_spec

    _, _, options = parse_spec(spec)
    if "default" in options:
        return spec
    return f"{spec}{'&' if options else '?'}default={expect}"


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
