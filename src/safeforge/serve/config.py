"""``ServeConfig``: every ``safeforge serve`` flag as one typed record, and the bind rule.

The guard binds 127.0.0.1 unless told otherwise, and any other address needs a bearer token
(``--token-env NAME``: the token is read from that environment variable, never from a flag,
so it stays out of shell history, logs and the run store). Without one the server refuses to
start: a best-of-N guard in front of a model is an open relay to that model otherwise.
"""

from __future__ import annotations

import ipaddress
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from safeforge.errors import SafeforgeError
from safeforge.rerank import DEFAULT_CRITIC
from safeforge.run.config import redact_url
from safeforge.targets import Generation, TargetOptions

LOOPBACK = "127.0.0.1"


def _default_run_dir() -> Path:
    return Path("runs") / f"serve-{datetime.now(UTC):%Y%m%d-%H%M%S}"


class ServeConfig(BaseModel):
    """What ``safeforge serve`` runs; the CLI flags map onto these fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    target: str = Field(description="Upstream target spec: openai:MODEL (with base_url), hf:PATH, …")
    base_url: str | tuple[str, ...] | None = None
    api_key_env: str = Field(default="OPENAI_API_KEY", description="Env var holding the upstream key.")
    critic: tuple[str, ...] = Field(default=DEFAULT_CRITIC, description="Critic judge specs (mean score).")
    n: int = Field(default=4, ge=1, le=64, description="Candidates drawn per request.")
    temperature: float = Field(default=1.0, ge=0.0, description="Sampling temperature of the candidates.")
    top_p: float = Field(default=1.0, gt=0.0, le=1.0)
    host: str = LOOPBACK
    port: int = Field(default=8000, ge=0, le=65535, description="0 picks a free port.")
    token_env: str | None = Field(default=None, description="Env var holding the bearer token clients send.")
    run_dir: Path = Field(default_factory=_default_run_dir, description="Run store of every decision.")
    max_body_bytes: int = Field(default=1 << 20, ge=1024, description="Larger request bodies get 413.")
    max_tokens: int = Field(default=1024, ge=1, description="A client's max_tokens above this gets 400.")
    default_max_tokens: int = Field(default=256, ge=1, description="max_tokens when the client sends none.")
    concurrency: int = Field(default=64, ge=1, description="Requests in flight; more get 429.")
    timeout_s: float = Field(default=60.0, gt=0, description="Whole-request deadline; past it, 502.")
    max_retries: int = Field(default=1, ge=0, description="Upstream retries on 429/5xx within the deadline.")
    batch_size: int = Field(default=8, ge=1, description="Prompts per forward pass (local upstreams).")

    def token(self) -> str | None:
        """The bearer token from ``token_env`` (None when no token is configured)."""
        if self.token_env is None:
            return None
        value = os.environ.get(self.token_env, "")
        if not value:
            raise SafeforgeError(f"--token-env {self.token_env}: that environment variable is empty or unset")
        return value

    def check_bind(self) -> str | None:
        """Refuse a non-loopback bind without a token; returns the token (or None)."""
        token = self.token()
        if token is None and not is_loopback(self.host):
            raise SafeforgeError(
                f"refusing to listen on {self.host} without a token: anyone who can reach it could use "
                "the upstream model; pass --token-env NAME (clients send 'Authorization: Bearer <token>') "
                f"or bind {LOOPBACK}"
            )
        return token

    def generation(self, max_tokens: int | None = None) -> Generation:
        """The candidates' sampling settings (a client's ``max_tokens`` where it sent one)."""
        return Generation(
            max_new_tokens=max_tokens or self.default_max_tokens,
            temperature=self.temperature,
            top_p=self.top_p,
        )

    def target_options(self) -> TargetOptions:
        return TargetOptions(
            base_url=self.base_url,
            api_key_env=self.api_key_env,
            timeout_s=self.timeout_s,
            max_retries=self.max_retries,
            concurrency=self.concurrency * self.n,
            batch_size=self.batch_size,
            generation=self.generation(),
        )

    def redacted(self) -> dict[str, Any]:
        """The config as stored with the run (URL credentials removed; no token, only its env name)."""
        data = self.model_dump(mode="json")
        if isinstance(self.base_url, str):
            data["base_url"] = redact_url(self.base_url)
        elif self.base_url is not None:
            data["base_url"] = [redact_url(u) for u in self.base_url]
        return data


def is_loopback(host: str) -> bool:
    """``localhost`` or an address in 127.0.0.0/8 or ::1."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
