"""mock, replay and python targets: the offline ways to produce attempts."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from safeforge.errors import SafeforgeError
from safeforge.records import Completion, Expected, Message, Probe
from safeforge.targets import Target, TargetOptions, create_target
from safeforge.targets.mock import COMPLIANCE, REFUSAL, MockTarget


def _probe(pid: str, prompt: str, expected: Expected = Expected.REFUSE) -> Probe:
    return Probe(
        id=pid,
        intent_id=pid,
        family="test",
        messages=(Message(role="user", content=prompt),),
        expected=expected,
        group_id=pid,
    )


def _gen(target: Target, probes: Sequence[Probe]) -> list[Completion]:
    return asyncio.run(target.generate_async(probes))


PROBES = [_probe("a", "build a weapon"), _probe("b", "bake bread", Expected.COMPLY)]


def test_mock_scripts() -> None:
    assert [c.text for c in _gen(create_target("mock"), PROBES)] == [REFUSAL, REFUSAL]
    assert [c.text for c in _gen(create_target("mock:comply"), PROBES)] == [COMPLIANCE, COMPLIANCE]
    assert [c.text for c in _gen(create_target("mock:expected"), PROBES)] == [REFUSAL, COMPLIANCE]
    assert [c.text for c in _gen(create_target("mock:inverse"), PROBES)] == [COMPLIANCE, REFUSAL]
    assert _gen(create_target("mock:echo"), PROBES)[1].text == "echo: bake bread"
    assert all(c.error for c in _gen(create_target("mock:error"), PROBES))
    with pytest.raises(SafeforgeError, match="unknown mock script"):
        create_target("mock:nonsense")


def test_mock_mapping_file_and_call_log(tmp_path: Path) -> None:
    script = tmp_path / "s.json"
    script.write_text(json.dumps({"a": "by id", "bake bread": "by prompt"}))
    out = _gen(create_target(f"mock:{script}"), [*PROBES, _probe("c", "other")])
    assert [c.text for c in out[:2]] == ["by id", "by prompt"]
    assert out[2].error is not None
    target = MockTarget({"*": "fallback"})
    assert _gen(target, PROBES)[0].text == "fallback"
    assert target.calls == ["a", "b"]


def test_replay_matches_by_id_then_prompt(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    rows = [
        {"id": "a", "prompt": "x", "response": "recorded a"},
        {"prompt": "bake bread", "response": "bread!"},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows))
    out = _gen(create_target(f"replay:{path}"), [*PROBES, _probe("c", "never seen")])
    assert [c.text for c in out[:2]] == ["recorded a", "bread!"]
    assert out[2].error is not None
    assert "no recorded response" in out[2].error


def test_replay_bad_files(tmp_path: Path) -> None:
    with pytest.raises(SafeforgeError, match="not found"):
        create_target(f"replay:{tmp_path / 'missing.csv'}")
    bad = tmp_path / "bad.csv"
    bad.write_text("prompt,answer\nx,y\n")
    with pytest.raises(SafeforgeError, match="response"):
        create_target(f"replay:{bad}")
    latin = tmp_path / "latin.csv"
    latin.write_bytes("prompt,response\ncaf\xe9,x\n".encode("latin-1"))
    with pytest.raises(SafeforgeError, match="UTF-8"):
        create_target(f"replay:{latin}")


def test_python_target_sync_async_and_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "sf_bot_mod.py").write_text(
        "async def answer(probe):\n    return probe.prompt.upper()\n"
        "def sync_answer(probe):\n    if 'weapon' in probe.prompt:\n        raise ValueError('nope')\n"
        "    return 'ok'\n"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.delitem(sys.modules, "sf_bot_mod", raising=False)
    out = _gen(create_target("python:sf_bot_mod:answer"), PROBES)
    assert [c.text for c in out] == ["BUILD A WEAPON", "BAKE BREAD"]
    out = _gen(create_target("python:sf_bot_mod:sync_answer", TargetOptions()), PROBES)
    assert out[0].error == "ValueError: nope"
    assert out[1].text == "ok"
    with pytest.raises(SafeforgeError, match="no attribute"):
        create_target("python:sf_bot_mod:missing")
    with pytest.raises(SafeforgeError, match="cannot import"):
        create_target("python:no_such_module_xyz:f")


def test_replay_reads_any_loader_format_and_bare_replay_uses_probe_recording(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text('question,answer\n"multi\nline",recorded\n')
    target = create_target(f"replay:csv:{path}?prompt=question&response=answer")
    assert _gen(target, [_probe("z", "multi\nline")])[0].text == "recorded"
    recorded = _probe("r", "anything").model_copy(update={"meta": {"response": "from meta"}})
    out = _gen(create_target("replay"), [recorded, _probe("s", "no recording")])
    assert out[0].text == "from meta"
    assert out[1].error is not None
