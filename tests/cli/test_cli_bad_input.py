"""Bad input never prints a traceback: malformed CSV/JSONL/JSON/YAML, unknown keys, formats and
columns, bad target/judge/transform specs, empty and binary files each give a non-zero exit,
exactly one ``error:`` line naming the problem, and no run directory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from safeforge.cli import main

CLI = [sys.executable, "-c", "from safeforge.cli import main; main()"]
GOOD = "prompt,expected\nhow do I bake bread?,comply\n"
FILES: dict[str, bytes] = {
    "good.csv": GOOD.encode(),
    "quote.csv": b'prompt\n"unterminated quote\nnext row\n',
    "badexp.csv": b"prompt,expected\nhi,maybe\n",
    "nocol.csv": b"question\nhi\n",
    "empty.csv": b"",
    "binary.csv": bytes(range(256)) * 4,
    "bad.jsonl": b'{"prompt": "a"}\n{"prompt": \n',
    "list.jsonl": b'["not", "an", "object"]\n',
    "arr.json": b"[1, 2]",
    "image.jsonl": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    "bad.yaml": b"target: [unclosed\n",
    "list.yaml": b"- target\n- mock\n",
    "typo.yaml": b"target: mock\nconcurency: 3\n",
    "binary.yaml": bytes(range(128, 256)),
    "twice.yaml": b"target: mock\ndataset: good.csv\ndatasets: [good.csv]\n",
    "badvalue.yaml": b"target: mock\nconcurrency: lots\n",
}
D = ["--dataset", "good.csv"]
CASES: dict[str, tuple[list[str], str]] = {
    "csv unbalanced quote": (["--dataset", "quote.csv"], "malformed CSV"),
    "csv bad expected": (["--dataset", "badexp.csv"], "use refuse, comply or abstain"),
    "csv no prompt column": (["--dataset", "nocol.csv"], "no 'prompt' column (columns: question)"),
    "csv mapped column missing": (["--dataset", "good.csv?prompt=question"], "no 'question' column"),
    "unknown dataset option": (["--dataset", "good.csv?colour=red"], "unknown"),
    "unknown dataset format": (["--dataset", "advbnch:good.csv"], "did you mean advbench?"),
    "empty file": (["--dataset", "empty.csv"], "no rows"),
    "binary file": (["--dataset", "binary.csv"], "not valid UTF-8"),
    "binary jsonl": (["--dataset", "image.jsonl"], "not valid UTF-8"),
    "jsonl broken line": (["--dataset", "bad.jsonl"], "bad.jsonl:2: invalid JSON"),
    "jsonl not objects": (["--dataset", "list.jsonl"], "expected a JSON object per line"),
    "json array of numbers": (["--dataset", "arr.json"], "expected an array of JSON objects"),
    "missing file": (["--dataset", "nope.csv"], "not found"),
    "yaml syntax": ([*D, "--config", "bad.yaml"], "cannot read YAML"),
    "yaml not a mapping": ([*D, "--config", "list.yaml"], "expected a mapping"),
    "yaml unknown key": ([*D, "--config", "typo.yaml"], "did you mean concurrency?"),
    "yaml binary": ([*D, "--config", "binary.yaml"], "cannot read YAML"),
    "yaml key twice": (["--config", "twice.yaml"], "set the same thing"),
    "yaml bad value": ([*D, "--config", "badvalue.yaml"], "concurrency"),
    "missing config": ([*D, "--config", "nope.yaml"], "config file not found"),
    "unknown target": ([*D, "--target", "nosuch:x"], "unknown target 'nosuch'"),
    "empty target": ([*D, "--target", ":"], "empty target spec"),
    "openai without model": ([*D, "--target", "openai:"], "needs a model name"),
    "hf missing dir": ([*D, "--target", "hf:does/not/exist"], "not found"),
    "python bad module": ([*D, "--target", "python:no_such_mod:fn"], "cannot import"),
    "replay without responses": ([*D, "--target", "replay:good.csv"], "no 'response' column"),
    "bare replay without responses": ([*D, "--target", "replay"], "columns: prompt, expected"),
    "unknown judge": ([*D, "--judge", "cascde"], "did you mean cascade"),
    "judge spec syntax": ([*D, "--judge", "rules?oops"], "expected key=value"),
    "judge unknown option": ([*D, "--judge", "rules?colour=1"], "has no option colour"),
    "unknown transform": ([*D, "--transform", "base46"], "unknown transform 'base46'"),
    "unknown family": ([*D, "--family", "politenes"], "unknown probe 'politenes'"),
    "unknown suite": (["--suite", "quik"], "unknown suite 'quik'"),
    "bad concurrency": ([*D, "--concurrency", "0"], "concurrency"),
}


@pytest.fixture
def inputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name, data in FILES.items():
        (tmp_path / name).write_bytes(data)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _args(case: str) -> list[str]:
    args, _ = CASES[case]
    target = [] if "--target" in args else ["--target", "mock"]
    return ["scan", *target, *args, "--run-dir", "run", "-q"]


def _check(code: int, out: str, err: str, expected: str, cwd: Path) -> None:
    assert code not in (0, None), out + err
    assert "Traceback" not in out + err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: "), err
    assert expected in lines[0]
    assert not (cwd / "run").exists()


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_one_clear_line(
    case: str, inputs: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "argv", ["safeforge", *_args(case)])
    code: int | str | None = 0
    try:
        main()
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    _check(int(code or 0), out, err, CASES[case][1], inputs)


def test_bad_input_from_the_console_script_has_no_traceback(inputs: Path) -> None:
    """The same through a real process (what a user's shell sees), for a few kinds."""
    for case in ("yaml unknown key", "binary file", "unknown judge", "replay without responses"):
        done = subprocess.run(
            [*CLI, *_args(case)], cwd=inputs, capture_output=True, text=True, timeout=120, env=os.environ
        )
        _check(done.returncode, done.stdout, done.stderr, CASES[case][1], inputs)


def test_harden_refuses_a_percentage_threshold_before_any_work(
    inputs: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(
        sys, "argv", ["safeforge", "harden", "--target", "hf:m", "--out", "run", "--min-jrr", "95"]
    )
    with pytest.raises(SystemExit) as info:
        main()
    out, err = capsys.readouterr()
    _check(int(info.value.code or 0), out, err, "did you mean 0.95?", inputs)
