"""The typer application every command module attaches to. Kept import-light: command
bodies import heavy modules (torch, transformers, trl) only when they run."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="safeforge",
    help="Red-team, measure and harden the safety layer of language models.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
