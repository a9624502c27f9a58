"""ScanConfig: YAML loading, flag precedence, validation errors and secret redaction."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from safeforge.errors import SafeforgeError
from safeforge.records import Expected, Message, Probe
from safeforge.run import ScanConfig, redact_url, scan


def test_yaml_then_flags_override(tmp_path: Path) -> None:
    path = tmp_path / "scan.yaml"
    path.write_text(
        "target: openai:m\nbase_url: http://127.0.0.1:9/v1\nconcurrency: 4\n"
        "generation:\n  max_new_tokens: 32\n  temperature: 0.7\n"
    )
    cfg = ScanConfig.load(path, {"concurrency": 64, "generation": {"temperature": 0.0}})
    assert cfg.target == "openai:m"
    assert cfg.concurrency == 64
    assert cfg.generation.max_new_tokens == 32  # kept from the file
    assert cfg.generation.temperature == 0.0  # overridden by the flag
    assert cfg.target_options().concurrency == 64


def test_bad_yaml_values_are_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "scan.yaml"
    path.write_text("target: mock\nconcurrency: 0\nno_such_setting: 1\n")
    with pytest.raises(SafeforgeError) as info:
        ScanConfig.load(path)
    message = str(info.value)
    assert "concurrency" in message
    assert "no_such_setting" in message
    assert "\n" not in message
    path.write_text("target: mock\napi_key: sk-123\n")
    with pytest.raises(SafeforgeError, match="api_key_env"):
        ScanConfig.load(path)
    with pytest.raises(SafeforgeError, match="not found"):
        ScanConfig.load(tmp_path / "missing.yaml")


def test_redaction_of_url_credentials() -> None:
    url = "https://alice:s3cret@api.example.com/v1?api_key=abc123&region=eu&token=t0k"
    redacted = redact_url(url)
    assert "s3cret" not in redacted
    assert "abc123" not in redacted
    assert "t0k" not in redacted
    assert "region=eu" in redacted
    assert redacted.startswith("https://***@api.example.com/v1?")


def test_saved_config_and_store_hold_no_secret(tmp_path: Path) -> None:
    data = tmp_path / "d.jsonl"
    data.write_text('{"prompt": "hi"}\n')
    secret_url = "http://bob:pa55word@127.0.0.1:1/v1?key=zzz999"
    cfg = ScanConfig(target="mock", base_url=secret_url, datasets=[str(data)], run_dir=tmp_path / "r")
    run = scan(cfg, progress=False)
    saved = yaml.safe_load((run.dir / "config.yaml").read_text())
    assert saved["target"] == "mock"
    for path in run.dir.iterdir():
        blob = path.read_bytes()
        assert b"pa55word" not in blob
        assert b"zzz999" not in blob


def test_fingerprint_tracks_what_is_asked() -> None:
    probe = Probe(
        id="a",
        intent_id="a",
        family="f",
        messages=(Message(role="user", content="x"),),
        expected=Expected.REFUSE,
        group_id="a",
    )
    base = ScanConfig(target="mock", datasets=["d.csv"])
    same = base.model_copy(update={"concurrency": 99, "run_dir": Path("elsewhere")})
    assert base.fingerprint([probe]) == same.fingerprint([probe])
    other = base.model_copy(update={"seed": 1})
    assert base.fingerprint([probe]) != other.fingerprint([probe])
    assert base.fingerprint([probe]) != base.fingerprint([probe.model_copy(update={"id": "b"})])


def test_base_url_may_be_a_list_redacted_and_fingerprinted(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(
        "target: openai:m\nbase_url:\n  - http://bob:pa55@127.0.0.1:1/v1\n  - http://127.0.0.1:2/v1?key=zz9\n"
    )
    cfg = ScanConfig.load(config)
    assert cfg.target_options().base_url == (
        "http://bob:pa55@127.0.0.1:1/v1",
        "http://127.0.0.1:2/v1?key=zz9",
    )
    saved = cfg.redacted()["base_url"]
    assert saved == ["http://***@127.0.0.1:1/v1", "http://127.0.0.1:2/v1?key=***"]
    single = cfg.model_copy(update={"base_url": "http://bob:pa55@127.0.0.1:1/v1"})
    assert single.target_options().base_url == "http://bob:pa55@127.0.0.1:1/v1"
    assert single.fingerprint([]) != cfg.fingerprint([])
    assert any(line.startswith("base_url:") for line in single.fingerprint_diff(cfg.redacted()))
