"""Library chatter goes to a log file, not the console: warnings raised inside transformers & co.,
and TRL's per-step ``{'loss': ...}`` dicts (a real 2-step SFT run on a tiny model)."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from safeforge import logs


def test_library_warnings_are_held_then_written_to_the_log(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    logs.route_library_logs()
    lib_file = str(tmp_path / "site-packages" / "transformers" / "modeling_utils.py")
    warnings.warn_explicit("`old_api` is deprecated", FutureWarning, lib_file, 12)
    warnings.warn_explicit("your own warning", UserWarning, str(tmp_path / "mine.py"), 3)
    assert "deprecated" not in capsys.readouterr().err  # held, not printed
    log = tmp_path / "run" / "library.log"
    logs.route_library_logs(log)
    text = log.read_text()
    assert "WARNING py.warnings" in text
    assert "FutureWarning: `old_api` is deprecated" in text
    assert "your own warning" not in text  # not a library's: left to Python's usual handling


def test_a_library_logging_on_the_root_logger_is_routed_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import logging

    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [])  # as in a fresh process: nobody configured logging
    log = tmp_path / "library.log"
    logs.route_library_logs(log)
    lib_file = str(tmp_path / "site-packages" / "onnxruntime" / "quantization" / "quantize.py")
    root.handle(logging.LogRecord("root", logging.WARNING, lib_file, 1, "run pre-processing", None, None))
    root.handle(logging.LogRecord("root", logging.WARNING, str(tmp_path / "app.py"), 1, "mine", None, None))
    err = capsys.readouterr().err
    assert "pre-processing" not in err
    assert "WARNING:root:mine" in err  # anyone else's root warning prints as basicConfig would
    assert "run pre-processing" in log.read_text()


def test_notes_are_said_once_and_dropped_when_the_command_fails(capsys: pytest.CaptureFixture[str]) -> None:
    logs.defer_notes()
    logs.note("assumed X")
    logs.note("assumed X")
    assert capsys.readouterr().err == ""
    logs.flush_notes()
    assert capsys.readouterr().err == "note: assumed X\n"
    logs.defer_notes()
    logs.note("assumed Y")
    logs.flush_notes(discard=True)
    logs.note("now")  # no longer deferred
    assert capsys.readouterr().err == "note: now\n"


@pytest.mark.slow
def test_trainer_metrics_go_to_the_log_not_the_console(
    tiny_model_dirs: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("trl")
    from safeforge.harden import TrainConfig, train_sft

    chat = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "I can't help."}]
    rows = [{"messages": chat} for _ in range(4)]
    cfg = TrainConfig(max_steps=2, batch_size=2, max_length=32, logging_steps=1)
    train_sft(tiny_model_dirs["qwen2"], rows, tmp_path / "out", cfg)
    out, err = capsys.readouterr()
    assert "'loss'" not in out + err
    assert "{'train_runtime'" not in out + err
    assert "train: step 2/2" in err  # no terminal: a progress line instead of a bar
    log = (tmp_path / "out" / "train.log").read_text()
    metrics = [line for line in log.splitlines() if " metrics " in line]
    assert len(metrics) == 3  # two logging steps and the end-of-training summary
    assert '"loss":' in metrics[0]
    assert '"train_runtime":' in metrics[-1]
