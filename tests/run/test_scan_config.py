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


def test_yaml_takes_the_flag_names_hyphen_or_underscore_and_lists(tmp_path: Path) -> None:
    path = tmp_path / "scan.yaml"
    path.write_text(
        "target: openai:m\nbase-url: http://127.0.0.1:9/v1\ndataset: a.csv\n"
        "judge: [rules, leak]\ntransform:\n  - base64\nmax-new-tokens: 12\ntemperature: 0.3\n"
        "no-report: true\nrpm: 600\ntimeout: 5\nmax_retries: 1\nrun-dir: out\n"
    )
    cfg = ScanConfig.load(path, {"transforms": ["rot13"]})
    assert cfg.base_url == "http://127.0.0.1:9/v1"
    assert cfg.datasets == ["a.csv"]  # a string is a one-item list
    assert cfg.judges == ["rules", "leak"]
    assert cfg.transforms == ["rot13"]  # the flag (field name) overrides the file's flag name
    assert (cfg.generation.max_new_tokens, cfg.generation.temperature) == (12, 0.3)
    assert cfg.report is False
    assert (cfg.requests_per_minute, cfg.timeout_s, cfg.max_retries) == (600, 5, 1)
    assert cfg.run_dir == Path("out")
    assert cfg.seed == 0  # 'seed' stays the sampling seed, not generation.seed


def test_unknown_keys_get_a_did_you_mean_with_the_other_problems(tmp_path: Path) -> None:
    path = tmp_path / "scan.yaml"
    path.write_text("target: mock\nconcurency: 3\nmax-new-token: 4\ntemperature: -1\n")
    with pytest.raises(SafeforgeError) as info:
        ScanConfig.load(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ")
    assert "concurency: unknown setting (did you mean concurrency?)" in message
    assert "max-new-token: unknown setting (did you mean max-new-tokens?)" in message
    assert "generation.temperature" in message
    path.write_text("target: mock\ndataset: a.csv\ndatasets: [b.csv]\n")
    with pytest.raises(SafeforgeError, match="'datasets' and 'dataset' set the same thing"):
        ScanConfig.load(path)


def test_python_api_takes_the_same_names(tmp_path: Path) -> None:
    data = tmp_path / "d.csv"
    data.write_text("prompt,expected\nhow to bake bread,comply\n")
    run = scan(target="mock:comply", dataset=str(data), judge="rules", run_dir=tmp_path / "r", no_report=True)
    assert run.config.datasets == [str(data)]
    assert run.config.judges == ["rules"]
    assert not (run.dir / "report.html").exists()
    with pytest.raises(SafeforgeError, match="did you mean concurrency"):
        scan(target="mock", dataset=str(data), concurency=2)


def test_expect_sets_the_default_of_rows_without_an_expected_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "benign.csv"
    data.write_text("prompt\nhow do I bake bread?\nwhat is a prime number?\n")
    mapped = tmp_path / "q.csv"
    mapped.write_text("question\nhi\n")
    cfg = ScanConfig.from_mapping(
        {"target": "mock", "dataset": [str(data), f"{mapped}?prompt=question"], "expect": "comply"}
    )
    assert cfg.datasets == [f"{data}?default=comply", f"{mapped}?prompt=question&default=comply"]
    run = scan(cfg.model_copy(update={"run_dir": tmp_path / "r", "judges": ["rules"]}), progress=False)
    assert {a.probe.expected for a in run.attempts()} == {Expected.COMPLY}
    assert "note:" not in capsys.readouterr().err  # nothing was assumed
    with pytest.raises(SafeforgeError, match="expect: 'maybe' is not one of refuse, comply, abstain"):
        ScanConfig.from_mapping({"target": "mock", "datasets": [str(data)], "expect": "maybe"})
    # without --expect the assumption is said, with the way to change it
    scan(target="mock", datasets=[str(data)], run_dir=tmp_path / "r2", judges=["rules"], progress=False)
    err = capsys.readouterr().err
    assert "no 'expected' column, so all 2 rows are taken as should-refuse" in err
    assert "--expect comply" in err


def test_light_core_falls_back_to_rules_before_generating(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from safeforge.run import config as config_module

    monkeypatch.setattr(config_module, "extra_installed", lambda extra: extra != "embed")
    cfg = ScanConfig(target="mock")
    assert "cascade" not in cfg.judges
    assert cfg.judges[0] == "rules"
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("note: the [embed] extra is not installed: judging with rules, leak, abstention")
    # asking for an encoder judge explicitly fails before anything is generated or stored
    data = tmp_path / "d.csv"
    data.write_text("prompt,expected\nhi,comply\n")
    explicit = ScanConfig(target="mock", datasets=[str(data)], judges=["cascade"], run_dir=tmp_path / "r")
    with pytest.raises(SafeforgeError, match=r"needs the \[embed\] extra; run: pip install"):
        scan(explicit, progress=False)
    assert not (tmp_path / "r").exists()
