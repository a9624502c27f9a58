"""The typer application every command module attaches to. Kept import-light: command
bodies import heavy modules (torch, transformers, trl) only when they run.

Help reads like a man page: ``--dataset TEXT`` rather than typer's ``<list[str]>``, flags
without ``<bool>``, arguments as ``RUN_DIR`` rather than ``{run_dir}``. ``plain_help(app)``
gives every registered command (whichever module registered it) the command class that does
this; the console entry point calls it before parsing.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Annotated, Any

import typer
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption
from typer.main import get_command_name
from typer.models import DefaultPlaceholder

import safeforge

_TYPES = {"str": "TEXT", "int": "INT", "float": "NUMBER", "path": "PATH"}


def _metavar(param: TyperOption | TyperArgument, ctx: Any) -> str:
    """A click-style metavar (``TEXT``, ``PATH``, ``sft|dpo``) from typer's ``<list[str]>``."""
    if isinstance(param, TyperArgument):
        return (param.name or "").upper()
    if param.is_flag:
        return ""
    label = param.display_type(ctx).strip("<>")
    while label.startswith("list[") and label.endswith("]"):
        label = label[5:-1]
    label = label.removesuffix(" range")
    return _TYPES.get(label, label)


class _Plain:
    """Shared by the plain command and group classes (a mixin over typer's own)."""

    def _plain_params(self: Any, ctx: Any) -> None:
        for param in self.params:
            if param.metavar is None and isinstance(param, TyperOption | TyperArgument):
                param.metavar = _metavar(param, ctx)

    def get_help_option(self: Any, ctx: Any) -> TyperOption | None:
        option: TyperOption | None = super().get_help_option(ctx)  # type: ignore[misc]
        if option is not None:
            option.metavar = ""
        return option

    def format_help(self: Any, ctx: Any, formatter: Any) -> None:
        self._plain_params(ctx)
        super().format_help(ctx, formatter)  # type: ignore[misc]

    def collect_usage_pieces(self: Any, ctx: Any) -> list[str]:
        self._plain_params(ctx)
        pieces: list[str] = super().collect_usage_pieces(ctx)  # type: ignore[misc]
        return [p.strip("{}") if p.startswith("{") else p for p in pieces]


class PlainCommand(_Plain, TyperCommand):
    """A command whose help shows ``TEXT``/``PATH`` metavars and bare flags."""


class PlainGroup(_Plain, TyperGroup):
    """A group whose help shows bare flags (``--help``, ``--version``)."""


def plain_help(typer_app: typer.Typer) -> None:
    """Give every command and sub-group registered on ``typer_app`` the plain help classes."""
    for info in typer_app.registered_commands:
        if info.cls in (None, TyperCommand):
            info.cls = PlainCommand
    for group in typer_app.registered_groups:
        if group.typer_instance is not None:
            plain_help(group.typer_instance)
            if isinstance(group.cls, DefaultPlaceholder) or group.cls in (None, TyperGroup):
                group.cls = PlainGroup


def only_named(typer_app: typer.Typer, args: Sequence[str]) -> typer.Typer:
    """``typer_app`` with just the command (or group) that ``args`` start with, when they name
    one: typer builds every registered command's parameters from its annotations before it
    parses anything, 40-70 ms per run for the 17 commands, where one is used. Help, a
    misspelt name or no name at all get the whole app."""
    name = args[0] if args else ""
    commands = [
        c
        for c in typer_app.registered_commands
        if (c.name or (get_command_name(c.callback.__name__) if c.callback else "")) == name
    ]
    groups = [g for g in typer_app.registered_groups if g.name == name]
    if not commands and not groups:
        return typer_app
    lean = copy.copy(typer_app)
    lean.registered_commands, lean.registered_groups = commands, groups
    return lean


app = typer.Typer(
    name="safeforge",
    help="Red-team, measure and harden the safety layer of language models.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    cls=PlainGroup,
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"safeforge {safeforge.__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit"),
    ] = False,
) -> None:
    """Red-team, measure and harden the safety layer of language models."""
