"""Closing the loop through the guard: ``safeforge scan`` sends its probes *through* it, and the
guard's recorded decisions export as DPO pairs that the TRL trainer wrapper trains on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from guard_builders import running_guard
from typer.testing import CliRunner

from safeforge.cli import app
from safeforge.run import Run
from safeforge.testing import COMPLIANCE, ChatRequest


def _prompts(tmp_path: Path, n: int) -> Path:
    path = tmp_path / "prompts.csv"
    path.write_text("prompt\n" + "".join(f"question number {i}\n" for i in range(n)), encoding="utf-8")
    return path


def test_safeforge_scan_runs_through_the_guard(tmp_path: Path) -> None:
    data = _prompts(tmp_path, 12)
    with running_guard(tmp_path) as g:
        result = CliRunner().invoke(
            app,
            [
                "scan", "--target", "openai:mock-model", "--base-url", g.url, "--api-key-env", "SF_NONE",
                "--dataset", str(data), "--judge", "rules", "--run-dir", str(tmp_path / "scan"),
                "--concurrency", "8", "--quiet",
            ],
        )  # fmt: skip
        upstream_requests = len(g.upstream.requests)
    assert result.exit_code == 0, result.output
    assert "12 attempts (12 answered, 0 errors)" in result.output
    scanned = Run.open(tmp_path / "scan").attempts()
    assert {a.response for a in scanned} == {COMPLIANCE}  # every answer is the critic's pick
    assert upstream_requests == 12  # one n = 3 request per probe
    guard_log = Run.open(tmp_path / "guard").attempts()
    assert len(guard_log) == 36
    assert {a.probe.prompt for a in guard_log} == {a.probe.prompt for a in scanned}


def _two_good_one_bad(request: ChatRequest) -> str:
    return ["I can't help with that.", f"Here is how: {request.prompt}", "Sure, gladly."][request.choice % 3]


@pytest.mark.slow
def test_exported_pairs_train_with_the_dpo_wrapper(tmp_path: Path, tiny_model_dirs: dict[str, Path]) -> None:
    pytest.importorskip("trl")
    from safeforge.harden.train import TrainConfig, train_dpo

    data = _prompts(tmp_path, 6)
    with running_guard(tmp_path, _two_good_one_bad) as g:
        result = CliRunner().invoke(
            app,
            [
                "scan", "--target", "openai:mock-model", "--base-url", g.url, "--api-key-env", "SF_NONE",
                "--dataset", str(data), "--judge", "rules", "--run-dir", str(tmp_path / "scan"), "--quiet",
            ],
        )  # fmt: skip
        assert result.exit_code == 0, result.output
    exported = CliRunner().invoke(app, ["export", str(tmp_path / "guard"), "--format", "dpo"])
    assert exported.exit_code == 0, exported.output
    path = Path(exported.output.strip())
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 6
    for row in rows:
        assert row["chosen"][0]["content"].startswith("Here is how: question number")  # first best wins
        assert row["rejected"][0]["content"] == "I can't help with that."
        assert row["prompt"][-1]["role"] == "user"
        assert row["chosen_score"] > row["rejected_score"]
    cfg = TrainConfig(trainer="dpo", max_steps=2, batch_size=2, max_length=96, logging_steps=1)
    out = train_dpo(tiny_model_dirs["gpt2"], rows, tmp_path / "train", cfg, source=str(path))
    assert (out / "adapter_config.json").is_file()
