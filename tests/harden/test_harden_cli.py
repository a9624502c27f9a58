"""`safeforge harden` / `safeforge demo` on the command line: flags reach the API, bad input
gives one clear error line."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from safeforge.cli import main


def _cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", ["safeforge", *args])
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out + err


def test_harden_rejects_a_remote_target(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, text = _cli(monkeypatch, capsys, "harden", "--target", "openai:gpt-x", "--out", str(tmp_path / "h"))
    assert code == 2
    assert "give --target hf:PATH" in text
    assert "Traceback" not in text


def test_harden_rejects_an_unknown_trainer(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _ = _cli(
        monkeypatch, capsys, "harden", "--target", "hf:x", "--out", str(tmp_path), "--trainer", "ppo"
    )
    assert code != 0


@pytest.mark.parametrize("command", ["harden", "demo"])
def test_help_lists_the_documented_flags(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    code, text = _cli(monkeypatch, capsys, command, "--help")
    assert code == 0
    flags = ("--target", "--technique", "--trainer", "--out") if command == "harden" else ("--out",)
    assert all(flag in text for flag in flags)


@pytest.mark.parametrize(
    ("errors", "testbed_ok", "technique_holds", "code"),
    [
        ([], True, False, 0),  # a technique that does not hold is the demo's finding
        ([], True, True, 0),
        (["uncertainty: out of memory"], True, True, 1),
        ([], False, True, 1),
    ],
)
def test_demo_exits_1_only_for_a_failed_run_or_testbed(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    errors: list[str],
    testbed_ok: bool,
    technique_holds: bool,
    code: int,
) -> None:
    import safeforge.demo

    def fake_run_demo(out: Path, **_: object) -> dict[str, object]:
        return {
            "errors": errors,
            "testbed": [{"name": "overlap", "passed": testbed_ok}],
            "passed": technique_holds and testbed_ok and not errors,
        }

    monkeypatch.setattr(safeforge.demo, "run_demo", fake_run_demo)
    got, _ = _cli(monkeypatch, capsys, "demo", "--out", str(tmp_path / "d"))
    assert got == code


def test_each_demo_technique_gets_its_own_trainer(tmp_path: Path) -> None:
    from safeforge.demo.run import demo_config, technique_config

    cfg = demo_config(tmp_path / "d", tmp_path / "model", technique="all")
    trainers = {
        name: technique_config(cfg, name, quick=False).trainer
        for name in ("rejection-sampling", "reward-shaping", "constitutional")
    }
    assert trainers == {"rejection-sampling": "dpo", "reward-shaping": None, "constitutional": None}
    assert technique_config(cfg, "rejection-sampling", quick=True).trainer is None
