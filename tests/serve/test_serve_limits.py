"""The guard's security and limits on a real loopback socket: the bind rule, bearer tokens,
request size, max_tokens, the concurrency limit (429 + Retry-After), upstream failures (502,
never a hang) and the upstream key never leaving the upstream target."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from guard_builders import by_choice, chat, get_async, post_async, running_guard
from typer.testing import CliRunner

from safeforge.cli import app
from safeforge.errors import SafeforgeError
from safeforge.run import Run
from safeforge.serve import GuardServer, ServeConfig, is_loopback
from safeforge.testing import COMPLIANCE, Fault, OpenAIServer


def test_a_non_loopback_bind_without_a_token_is_refused_at_start(tmp_path: Path) -> None:
    for host in ("0.0.0.0", "192.168.1.10", "example.internal", "::"):
        with pytest.raises(SafeforgeError, match=f"refusing to listen on {host} without a token"):
            GuardServer(ServeConfig(target="mock", host=host, run_dir=tmp_path / "g"))
    assert is_loopback("127.0.0.1")
    assert is_loopback("127.8.0.1")
    assert is_loopback("::1")
    assert is_loopback("localhost")
    assert not is_loopback("0.0.0.0")


def test_a_non_loopback_bind_is_allowed_with_a_token(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    cfg = ServeConfig(target="mock", host="0.0.0.0", token_env="SF_GUARD_TOKEN", run_dir=tmp_path / "g")
    with pytest.raises(SafeforgeError, match="SF_GUARD_TOKEN: that environment variable is empty or unset"):
        cfg.check_bind()
    monkeypatch.setenv("SF_GUARD_TOKEN", "tok-123")
    assert cfg.check_bind() == "tok-123"  # checked only, never bound to a public address here


def test_the_cli_refuses_a_public_bind_with_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["serve", "--target", "mock", "--host", "0.0.0.0", "--run-dir", str(tmp_path)]
    )
    assert result.exit_code != 0
    assert "refusing to listen on 0.0.0.0 without a token" in str(result.exception) + result.output
    assert not (tmp_path / "run.sqlite").exists()


def test_with_a_token_requests_without_it_get_401(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SF_GUARD_TOKEN", "s3cret-guard-token")
    with running_guard(tmp_path, token_env="SF_GUARD_TOKEN") as g:
        no_header = asyncio.run(post_async(g.url, chat()))
        wrong = asyncio.run(post_async(g.url, chat(), {"Authorization": "Bearer nope"}))
        right = asyncio.run(post_async(g.url, chat(), {"Authorization": "Bearer s3cret-guard-token"}))
        models = asyncio.run(get_async(f"{g.url}/models"))
        metrics = asyncio.run(get_async(f"{g.root}/metrics"))
        health = asyncio.run(get_async(f"{g.root}/health"))
        upstream_calls = len(g.upstream.requests)
    assert no_header[0] == wrong[0] == 401
    assert json.loads(no_header[2])["error"]["code"] == "invalid_api_key"
    assert right[0] == 200
    assert models[0] == metrics[0] == 401
    assert health[0] == 200  # liveness only, reveals nothing
    assert upstream_calls == 1  # rejected requests never reach the upstream


def test_request_size_max_tokens_and_malformed_bodies(tmp_path: Path) -> None:
    with running_guard(tmp_path, max_body_bytes=2048, max_tokens=64) as g:
        big = asyncio.run(post_async(g.url, chat("x" * 5000)))
        too_many = asyncio.run(post_async(g.url, chat(max_tokens=65)))
        ok = asyncio.run(post_async(g.url, chat(max_tokens=64)))
        n2 = asyncio.run(post_async(g.url, chat(n=2)))
        not_json = asyncio.run(post_async(g.url, None, raw=b"{not json"))
        bad_role = asyncio.run(post_async(g.url, {"messages": [{"role": "tool", "content": "x"}]}))
        calls = len(g.upstream.requests)
    assert big[0] == 413
    assert json.loads(big[2])["error"]["code"] == "request_too_large"
    assert too_many[0] == 400
    assert "between 1 and 64" in json.loads(too_many[2])["error"]["message"]
    assert ok[0] == 200
    assert n2[0] == not_json[0] == bad_role[0] == 400
    assert calls == 1


def test_concurrency_limit_answers_429_with_retry_after(tmp_path: Path) -> None:
    slow = Fault.slow(0.6, text="slow answer")
    with running_guard(tmp_path, lambda _: slow, n=1, concurrency=2) as g:

        async def burst() -> list[tuple[int, dict[str, str], str]]:
            first = [asyncio.create_task(post_async(g.url, chat(f"q{i}"))) for i in range(2)]
            await asyncio.sleep(0.3)  # both are in flight now
            extra = await asyncio.gather(*(post_async(g.url, chat(f"r{i}")) for i in range(2)))
            return [*await asyncio.gather(*first), *extra]

        results = asyncio.run(burst())
    assert [r[0] for r in results] == [200, 200, 429, 429]
    assert results[2][1]["Retry-After"] == "1"
    assert json.loads(results[2][2])["error"]["code"] == "busy"


def test_upstream_errors_and_timeouts_become_502_quickly(tmp_path: Path) -> None:
    with running_guard(tmp_path, lambda _: Fault.server_error(503), max_retries=0) as g:
        status, _, text = asyncio.run(post_async(g.url, chat()))
    assert status == 502
    assert json.loads(text)["error"]["code"] == "upstream_error"
    assert "HTTP 503" in json.loads(text)["error"]["message"]

    with running_guard(tmp_path, lambda _: Fault.slow(1.5), n=1, timeout_s=0.5, max_retries=0) as g:
        started = time.perf_counter()
        status, _, text = asyncio.run(post_async(g.url, chat()))
        elapsed = time.perf_counter() - started
    assert status == 502
    assert json.loads(text)["error"]["code"] == "upstream_timeout"
    assert elapsed < 1.4


def test_an_unreachable_upstream_is_502_not_a_crash(tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/v1"
    with running_guard(tmp_path, base_url=dead, max_retries=0) as g:
        first = asyncio.run(post_async(g.url, chat()))
        second = asyncio.run(post_async(g.url, chat()))
        health = asyncio.run(get_async(f"{g.root}/health"))
    assert first[0] == second[0] == 502
    assert "cannot reach" in json.loads(first[2])["error"]["message"]
    assert health[0] == 200


def test_the_upstream_key_never_reaches_clients_logs_or_the_store(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    key = "sk-upstream-SECRET-0123456789"
    monkeypatch.setenv("SF_TEST_UPSTREAM_KEY", key)
    echoing = Fault(status=500, message=f"bad request from key {key}")  # an upstream that echoes it
    responses = []
    with running_guard(tmp_path, lambda r: echoing if "fail" in r.prompt else "fine", max_retries=0) as g:
        responses.append(asyncio.run(post_async(g.url, chat("fail please"))))
        responses.append(asyncio.run(post_async(g.url, chat("hello"))))
        sent = g.upstream.requests
    assert [r[0] for r in responses] == [502, 200]
    assert key not in responses[0][2]
    assert "***" in responses[0][2]
    assert all(r.body.get("model") == "mock-model" for r in sent)
    stored = b"".join(p.read_bytes() for p in (tmp_path / "guard").rglob("*") if p.is_file())
    assert stored
    assert key.encode() not in stored
    out, err = capfd.readouterr()
    assert key not in out + err


def test_the_serve_command_listens_answers_and_stops_cleanly(tmp_path: Path) -> None:
    upstream = OpenAIServer(by_choice)
    with upstream.running() as upstream_url:
        cmd = [
            sys.executable, "-c", "from safeforge.cli import main; main()", "serve",
            "--target", "openai:mock-model", "--base-url", upstream_url, "--api-key-env", "SF_NONE",
            "--critic", "rules", "--n", "3", "--port", "0", "--run-dir", str(tmp_path / "g"),
        ]  # fmt: skip
        proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
        try:
            assert proc.stderr is not None
            line = proc.stderr.readline()
            match = re.search(r"safeforge serve: (http://127\.0\.0\.1:\d+/v1) -> openai:mock-model", line)
            assert match, line
            assert "critic: rules" in line
            assert "no token" in line
            status, _, text = asyncio.run(post_async(match.group(1), chat("hi")))
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=30)
    assert status == 200
    assert json.loads(text)["choices"][0]["message"]["content"] == COMPLIANCE
    assert proc.returncode == 0
    assert len(Run.open(tmp_path / "g").attempts()) == 3  # flushed on the way out
