"""A scan without a terminal prints a plain progress line every few seconds."""

from __future__ import annotations

import time

import pytest

from safeforge.run.progress import LineProgress
from safeforge.run.runner import _progress


def test_line_progress_prints_periodic_lines_and_a_last_one(capsys: pytest.CaptureFixture[str]) -> None:
    with LineProgress(every_s=0.05) as progress:
        task = progress.add_task("scan mock", total=200)
        for _ in range(10):
            progress.advance(task, 10)
            time.sleep(0.03)
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) >= 3
    assert all(line.startswith("scan mock: ") for line in lines)
    assert "ETA" in lines[0]
    assert lines[-1].startswith("scan mock: 100/200 (50.0%)")


def test_a_short_run_stays_quiet(capsys: pytest.CaptureFixture[str]) -> None:
    with LineProgress(every_s=10) as progress:
        progress.advance(progress.add_task("scan mock", total=2), 2)
    assert capsys.readouterr().err == ""


def test_without_a_terminal_the_scan_gets_line_progress() -> None:
    assert isinstance(_progress(None), LineProgress)  # pytest's captured stderr is no terminal
    assert _progress(False) is None
    shown = _progress(True)
    assert shown is not None
    assert not isinstance(shown, LineProgress)
