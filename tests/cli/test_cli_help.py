"""`safeforge --version` and help text that reads like a man page: no typer type labels
(``<bool>``, ``<list[str]>``) and no ``{run_dir}`` placeholders, on every command."""

from __future__ import annotations

import re
import sys

import pytest
import typer
from typer.core import TyperGroup

import safeforge
from safeforge.cli import app, main
from safeforge.cli._app import plain_help


def _cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", ["safeforge", *args])
    monkeypatch.setenv("COLUMNS", "100")
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out + err


def _commands() -> list[list[str]]:
    """Every command path, e.g. ["scan"], ["probes", "list"], walked from the built app."""
    plain_help(app)
    root = typer.main.get_command(app)
    paths: list[list[str]] = [[]]

    def walk(group: TyperGroup, prefix: list[str]) -> None:
        for name, cmd in group.commands.items():
            paths.append([*prefix, name])
            if isinstance(cmd, TyperGroup):
                walk(cmd, [*prefix, name])

    assert isinstance(root, TyperGroup)
    walk(root, [])
    return paths


def test_version(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _cli(monkeypatch, capsys, "--version")
    assert code == 0
    assert out.strip() == f"safeforge {safeforge.__version__}"


def test_every_help_page_is_free_of_type_labels_and_placeholders(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = _commands()
    assert ["scan"] in paths
    assert ["gate"] in paths
    assert ["probes", "list"] in paths
    for path in paths:
        code, out = _cli(monkeypatch, capsys, *path, "--help")
        assert code == 0, (path, out)
        where = " ".join(path) or "safeforge"
        assert "Usage:" in out, where
        assert "<bool>" not in out, where
        assert "<list[" not in out, where
        assert not re.search(r"\{[a-z_]+\}", out), where
    _, gate_help = _cli(monkeypatch, capsys, "gate", "--help")
    assert "gate [OPTIONS] RUN_DIR" in gate_help
    _, scan_help = _cli(monkeypatch, capsys, "scan", "--help")
    assert re.search(r"--dataset\s+TEXT", scan_help)
    assert re.search(r"--expect\s+refuse\|comply\|abstain", scan_help)


def test_a_named_command_is_built_alone_and_everything_else_sees_the_whole_app(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from safeforge.cli._app import only_named

    before = (list(app.registered_commands), list(app.registered_groups))
    scan = only_named(app, ["scan", "--target", "mock"])
    assert [c.callback.__name__ for c in scan.registered_commands if c.callback] == ["scan"]
    assert scan.registered_groups == []
    judges = only_named(app, ["judges", "list"])
    assert [g.name for g in judges.registered_groups] == ["judges"]
    assert judges.registered_commands == []
    for args in ([], ["--help"], ["--version"], ["scna"]):
        assert only_named(app, args) is app
    assert (app.registered_commands, app.registered_groups) == before  # the shared app is untouched
    code, out = _cli(monkeypatch, capsys, "scna")
    assert code == 2
    assert "Did you mean 'scan'" in out
    code, out = _cli(monkeypatch, capsys, "judges", "list")
    assert code == 0
    assert "cascade" in out
