"""CLI command ``serve``: flags -> ``ServeConfig`` -> the guard server, until Ctrl-C."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from safeforge.cli._app import app


@app.command()
def serve(
    target: Annotated[str, typer.Option(help="Upstream: openai:MODEL (with --base-url), hf:PATH, mock, …")],
    base_url: Annotated[
        list[str] | None, typer.Option(help="Upstream OpenAI-compatible endpoint (repeatable: replicas)")
    ] = None,
    api_key_env: Annotated[str, typer.Option(help="Env var holding the upstream API key")] = "OPENAI_API_KEY",
    critic: Annotated[
        list[str] | None,
        typer.Option(
            help="Critic judge spec, hf:PATH for a reward model (repeatable: mean); default: critic"
        ),
    ] = None,
    n: Annotated[int, typer.Option(help="Candidates drawn per request")] = 4,
    temperature: Annotated[float, typer.Option(help="Sampling temperature of the candidates")] = 1.0,
    host: Annotated[str, typer.Option(help="Address to bind; anything but loopback needs --token-env")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(help="Port (0 picks a free one)")] = 8000,
    token_env: Annotated[
        str | None, typer.Option(help="Env var holding the bearer token clients must send")
    ] = None,
    run_dir: Annotated[
        Path | None, typer.Option(help="Run store of every decision (default: runs/serve-TIMESTAMP)")
    ] = None,
    max_tokens: Annotated[int, typer.Option(help="Largest max_tokens a client may ask for")] = 1024,
    max_body_bytes: Annotated[int, typer.Option(help="Largest request body")] = 1 << 20,
    concurrency: Annotated[int, typer.Option(help="Requests in flight before 429")] = 64,
    timeout: Annotated[float, typer.Option(help="Whole-request deadline in seconds (then 502)")] = 60.0,
) -> None:
    """Serve an OpenAI-compatible guard: best of N candidates under a safety critic."""
    from pydantic import ValidationError

    from safeforge.errors import SafeforgeError, explain
    from safeforge.serve import GuardServer, ServeConfig, serve_forever

    fields: dict[str, Any] = {
        "target": target,
        "base_url": (base_url[0] if len(base_url) == 1 else tuple(base_url)) if base_url else None,
        "api_key_env": api_key_env,
        "critic": tuple(critic) if critic else None,
        "n": n,
        "temperature": temperature,
        "host": host,
        "port": port,
        "token_env": token_env,
        "run_dir": run_dir,
        "max_tokens": max_tokens,
        "max_body_bytes": max_body_bytes,
        "concurrency": concurrency,
        "timeout_s": timeout,
    }
    try:
        cfg = ServeConfig.model_validate({k: v for k, v in fields.items() if v is not None})
    except ValidationError as exc:
        raise SafeforgeError(f"serve: {explain(exc)}") from None

    def announce(server: GuardServer) -> None:
        critic_name = server.guard.critic_name if server.guard is not None else "?"
        auth = f"bearer token from ${cfg.token_env}" if cfg.token_env else "no token (loopback only)"
        typer.echo(
            f"safeforge serve: {server.base_url} -> {cfg.target} · n = {cfg.n} · critic: {critic_name} · "
            f"{auth} · decisions in {cfg.run_dir} · Ctrl-C stops",
            err=True,
        )

    serve_forever(cfg, announce)


__all__ = ["serve"]
