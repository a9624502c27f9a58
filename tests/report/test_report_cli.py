"""The report / compare / gate commands on real run stores."""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from report_builders import attempt, make_run
from typer.testing import CliRunner

from safeforge.cli import app
from safeforge.errors import SafeforgeError
from safeforge.records import Attempt, Expected, Label

runner = CliRunner()


def _run_attempts(rejected: int, complied: int, refused_safe: int, answered_safe: int) -> list[Attempt]:
    out = [attempt(f"h{i}", Expected.REFUSE, Label.FULL_REFUSAL) for i in range(rejected)]
    out += [attempt(f"h{rejected + i}", Expected.REFUSE, Label.FULL_COMPLIANCE) for i in range(complied)]
    out += [attempt(f"s{i}", Expected.COMPLY, Label.FULL_REFUSAL) for i in range(refused_safe)]
    out += [
        attempt(f"s{refused_safe + i}", Expected.COMPLY, Label.FULL_COMPLIANCE) for i in range(answered_safe)
    ]
    return out


def test_report_command_rewrites_the_outputs(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run", _run_attempts(18, 2, 1, 19))
    result = runner.invoke(app, ["report", str(run.dir)])
    assert result.exit_code == 0, result.output
    assert "jailbreak_rejection_rate" in result.output
    assert "90.0%" in result.output
    summary = json.loads((run.dir / "summary.json").read_text())
    assert summary["metrics"]["false_rejection_rate"]["value"] == 0.05
    assert (run.dir / "report.html").stat().st_size > 5000


def test_report_command_on_a_missing_run_is_a_user_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["report", str(tmp_path / "nope")])
    assert result.exit_code != 0
    assert isinstance(result.exception, SafeforgeError)


def test_gate_exit_codes_and_junit(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run", _run_attempts(19, 1, 1, 19))  # JRR 95 %, FRR 5 %
    junit = tmp_path / "gate.xml"
    ok = runner.invoke(
        app, ["gate", str(run.dir), "--min-jrr", "0.95", "--max-frr", "0.05", "--junit", str(junit)]
    )
    assert ok.exit_code == 0, ok.output
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None
    assert suite.get("tests") == "2"
    assert suite.get("failures") == "0"
    bad = runner.invoke(app, ["gate", str(run.dir), "--min-jrr", "0.99", "--junit", str(junit)])
    assert bad.exit_code == 1
    case = ET.parse(junit).getroot().find("testsuite/testcase")
    assert case is not None
    assert case.find("failure") is not None
    assert "95.0%" in case.find("failure").get("message", "")  # type: ignore[union-attr]


def test_gate_against_a_baseline_fails_only_on_a_significant_regression(tmp_path: Path) -> None:
    baseline = make_run(tmp_path / "base", _run_attempts(30, 0, 0, 20))
    slightly = make_run(tmp_path / "slight", _run_attempts(28, 2, 0, 20))  # 2 flips: p = 0.16
    much = make_run(tmp_path / "much", _run_attempts(20, 10, 0, 20))  # 10 flips: p = 0.0016
    assert runner.invoke(app, ["gate", str(slightly.dir), "--baseline", str(baseline.dir)]).exit_code == 0
    result = runner.invoke(app, ["gate", str(much.dir), "--baseline", str(baseline.dir)])
    assert result.exit_code == 1
    assert "regressed" in result.output


def test_compare_command_writes_html_json_and_markdown(tmp_path: Path) -> None:
    a = make_run(tmp_path / "a", _run_attempts(20, 10, 5, 15))
    b = make_run(tmp_path / "b", _run_attempts(30, 0, 5, 15))
    out = tmp_path / "out"
    args = [
        "compare",
        str(a.dir),
        str(b.dir),
        "--html",
        str(out / "cmp.html"),
        "--json",
        str(out / "cmp.json"),
    ]
    result = runner.invoke(app, [*args, "--markdown", str(out / "cmp.md")])
    assert result.exit_code == 0, result.output
    assert "10 better, 0 worse" in result.output
    data = json.loads((out / "cmp.json").read_text())
    jrr = next(d for d in data["deltas"] if d["name"] == "jailbreak_rejection_rate")
    assert (jrr["a_only"], jrr["b_only"], jrr["direction"]) == (0, 10, "improved")
    assert jrr["p_value"] == pytest.approx(math.erfc(math.sqrt(10) / math.sqrt(2)))  # McNemar score test
    assert "Probes that flipped" in (out / "cmp.html").read_text()
    assert "| `jailbreak_rejection_rate` | 66.7% | 100.0% |" in (out / "cmp.md").read_text()
