"""CLI command ``attack``: flags -> ``AttackConfig`` -> ``safeforge.attacks.run_attack``."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from safeforge.cli._app import app
from safeforge.errors import SafeforgeError

if TYPE_CHECKING:
    from safeforge.metrics.attacks import AttackSummary

_RESUME_HELP = (
    "Continue the attack in DIR: stored attacker replies and target answers are never asked again. "
    "The stored config is reused; budgets given now replace the stored ones."
)


def _prompts(specs: list[str] | None) -> dict[str, str]:
    """``METHOD=FILE`` pairs -> method -> the file's text."""
    out: dict[str, str] = {}
    for spec in specs or []:
        method, sep, path = spec.partition("=")
        if not sep or not method or not path:
            raise SafeforgeError(f"--attacker-prompt {spec!r}: expected METHOD=FILE, e.g. pair=my_prompt.txt")
        try:
            out[method.strip()] = Path(path).expanduser().read_text(encoding="utf-8")
        except OSError as exc:
            raise SafeforgeError(
                f"--attacker-prompt {spec!r}: cannot read {path} ({type(exc).__name__})"
            ) from None
    return out


def _stored(resume: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """The scan-side and attack-side config of the attack in ``resume``."""
    from safeforge.run.store import Store, store_path

    if not store_path(resume).is_file():
        raise SafeforgeError(f"nothing to resume: no run store in {resume}")
    with Store(store_path(resume)) as store:
        meta = store.meta()
    if meta.get("kind") != "attack":
        raise SafeforgeError(
            f"{resume} holds a scan, not an attack; resume it with `safeforge scan --resume`"
        )
    scan = {k: v for k, v in meta["config"].items() if k not in {"resume", "force", "run_dir"}}
    return scan, dict(meta["attack"])


@app.command()
def attack(
    target: Annotated[
        str | None, typer.Option(help="Target spec: openai:MODEL, hf:PATH, python:MOD:FN, mock")
    ] = None,
    base_url: Annotated[str | None, typer.Option(help="The target's OpenAI-compatible endpoint")] = None,
    api_key_env: Annotated[
        str | None, typer.Option(help="Env var holding the target's key [OPENAI_API_KEY]")
    ] = None,
    attacker: Annotated[
        str | None, typer.Option(help="The attacker: any target spec, e.g. openai:MODEL")
    ] = None,
    attacker_base_url: Annotated[
        str | None, typer.Option(help="The attacker's OpenAI-compatible endpoint")
    ] = None,
    attacker_api_key_env: Annotated[
        str | None, typer.Option(help="Env var holding the attacker's key [OPENAI_API_KEY]")
    ] = None,
    method: Annotated[
        list[str] | None, typer.Option(help="pair, tap or crescendo (repeatable) [pair]")
    ] = None,
    attacker_prompt: Annotated[
        list[str] | None, typer.Option(help="METHOD=FILE: replace a method's shipped attacker system prompt")
    ] = None,
    dataset: Annotated[
        list[str] | None,
        typer.Option(help="Goals: refuse-expected rows of [FORMAT:]PATH [the built-in intents]"),
    ] = None,
    family: Annotated[
        list[str] | None, typer.Option(help="Goals: a probe family's requests (repeatable)")
    ] = None,
    limit: Annotated[int | None, typer.Option(help="Attack this many goals (seeded sample)")] = None,
    seed: Annotated[int | None, typer.Option(help="Sampling seed [0]")] = None,
    judge: Annotated[
        list[str] | None,
        typer.Option(help="Per-turn judge NAME[?key=value&...] (repeatable) [cascade, leak, abstention]"),
    ] = None,
    prune_judge: Annotated[
        str | None,
        typer.Option(help="TAP's off-topic judge: request_harm, or llm?...&task=request_harm [request_harm]"),
    ] = None,
    max_turns: Annotated[int | None, typer.Option(help="Attacker proposals per goal and method [12]")] = None,
    max_tokens: Annotated[
        int | None, typer.Option(help="Attacker + target tokens per goal and method")
    ] = None,
    max_seconds: Annotated[float | None, typer.Option(help="Active seconds per goal and method")] = None,
    streams: Annotated[int | None, typer.Option(help="PAIR: parallel streams [3]")] = None,
    branching: Annotated[int | None, typer.Option(help="TAP: children per kept node [2]")] = None,
    width: Annotated[int | None, typer.Option(help="TAP: nodes kept per level [3]")] = None,
    backtracks: Annotated[
        int | None, typer.Option(help="Crescendo: refused steps dropped at most [3]")
    ] = None,
    concurrency: Annotated[int | None, typer.Option(help="Goals attacked at once [16]")] = None,
    max_new_tokens: Annotated[int | None, typer.Option(help="Target tokens per answer [256]")] = None,
    timeout: Annotated[float | None, typer.Option(help="Per-request timeout in seconds [60]")] = None,
    run_dir: Annotated[Path | None, typer.Option(help="Run directory [runs/attack-TIMESTAMP]")] = None,
    resume: Annotated[Path | None, typer.Option(metavar="DIR", help=_RESUME_HELP)] = None,
    no_report: Annotated[bool, typer.Option("--no-report", help="Skip attacks.json/report.html")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress lines")] = False,
) -> None:
    """Attack a target with an attacker model (PAIR, TAP, Crescendo), judged turn by turn."""
    from safeforge.attacks import AttackConfig, run_attack, summarize_attack
    from safeforge.run import ScanConfig
    from safeforge.run.config import REDACTED

    scan_base, attack_base = _stored(resume) if resume is not None else ({}, {})
    for stored, key, given, flag in (
        (scan_base, "base_url", base_url, "--base-url"),
        (attack_base, "attacker_base_url", attacker_base_url, "--attacker-base-url"),
    ):
        if REDACTED in str(stored.get(key) or "") and given is None:
            raise SafeforgeError(f"the stored {flag.removeprefix('--')} was redacted; pass {flag} again")
    scan_flags = {
        "target": target,
        "base_url": base_url,
        "api_key_env": api_key_env,
        "datasets": dataset,
        "families": family,
        "limit": limit,
        "seed": seed,
        "judges": judge,
        "concurrency": concurrency,
        "timeout_s": timeout,
        "run_dir": resume or run_dir or Path("runs") / datetime.now(UTC).strftime("attack-%Y%m%d-%H%M%S"),
        "resume": True if resume else None,
        "report": False if no_report else None,
        "generation": {"max_new_tokens": max_new_tokens} if max_new_tokens else None,
    }
    scan_cfg = ScanConfig.load(None, {k: v for k, v in scan_flags.items() if v is not None}, base=scan_base)
    attack_flags = {
        "methods": method,
        "attacker": attacker,
        "attacker_base_url": attacker_base_url,
        "attacker_api_key_env": attacker_api_key_env,
        "prompts": _prompts(attacker_prompt) or None,
        "prune_judge": prune_judge,
        "max_turns": max_turns,
        "max_tokens": max_tokens,
        "max_seconds": max_seconds,
        "streams": streams,
        "branching": branching,
        "width": width,
        "backtracks": backtracks,
    }
    merged = {**attack_base, **{k: v for k, v in attack_flags.items() if v is not None}}
    if not merged.get("attacker"):
        raise SafeforgeError("no attacker: give --attacker SPEC (e.g. openai:MODEL with --attacker-base-url)")
    config = AttackConfig.build(scan_cfg, **merged)
    out = run_attack(config, progress=not quiet)
    if not (out / "run.sqlite").is_file():
        typer.echo(f"nothing stored in {out}")
        return
    print_attack_summary(summarize_attack(out), out)
    typer.echo(f"conversations and turns in {out}")


def print_attack_summary(summary: AttackSummary, out: Path) -> None:
    """One line per method (ASR with its interval over goals, turns to success, cost), and what
    the reader must know to trust it: no harm judge, no usable attacker reply, unfinished goals."""
    for m in summary.methods:
        ci = "" if m.asr.value is None else f" [95% CI {m.asr.ci_low:.1%}, {m.asr.ci_high:.1%}]"
        value = "–" if m.asr.value is None else f"{m.asr.value:.1%}"
        median = (
            ""
            if m.median_turns_to_success is None
            else f", median {m.median_turns_to_success:g} queries to success"
        )
        typer.echo(
            f"{m.method}: ASR {value}{ci} over {m.asr.n} goals ({m.goals - m.finished} unfinished{median}); "
            f"{m.target_queries} target queries, {m.attacker_calls} attacker calls ({m.unusable} unusable, "
            f"{m.pruned} pruned); {m.attacker_tokens:,} attacker + {m.target_tokens:,} target tokens"
        )
        if m.attacker_calls and m.unusable == m.attacker_calls:
            typer.echo(
                f"{m.method}: no attacker reply held a usable prompt (see `note` in the conversations export)"
            )
    if not summary.harm_judged:
        typer.echo(
            "no harm judge ran: success = a full compliance (off-topic answers count too); "
            "add --judge 'embed?task=harm' for a stricter ASR"
        )
    unfinished = sum(not g.finished for g in summary.goals)
    if unfinished:
        typer.echo(
            f"{unfinished} goal(s) unfinished (an endpoint failed or the run was cut short): "
            f"`safeforge attack --resume {out}` carries on"
        )


__all__ = ["app", "attack", "print_attack_summary"]
