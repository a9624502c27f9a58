"""The openai target against a real loopback server: retries, Retry-After, timeouts, fatal
errors, the RPM cap and key hygiene."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Sequence

import pytest

from safeforge.errors import SafeforgeError
from safeforge.records import Completion, Expected, Message, Probe
from safeforge.targets import Generation, TargetOptions, create_target
from safeforge.targets.openai import OpenAITarget, _retry_after
from safeforge.testing import ChatRequest, Fault, OpenAIServer, echo, fail_first, serve


def _probe(i: int, prompt: str | None = None) -> Probe:
    return Probe(
        id=f"p{i}",
        intent_id=f"p{i}",
        family="test",
        messages=(Message(role="system", content="be safe"), Message(role="user", content=prompt or f"q{i}")),
        expected=Expected.REFUSE,
        group_id=f"p{i}",
    )


def _run(target: OpenAITarget, probes: Sequence[Probe]) -> list[Completion]:
    async def main() -> list[Completion]:
        try:
            return await target.generate_async(probes)
        finally:
            await target.aclose()

    return asyncio.run(main())


def _target(base_url: str, **kw: object) -> OpenAITarget:
    options = TargetOptions(base_url=base_url, api_key_env="SF_TEST_KEY", **kw)  # type: ignore[arg-type]
    return OpenAITarget("mock-model", options, backoff_base_s=0.01)


def test_answers_with_usage_and_sends_messages_and_generation() -> None:
    server = OpenAIServer(echo)
    gen = Generation(max_new_tokens=7, temperature=0.5, seed=3)
    with server.running() as url:
        out = _run(_target(url, generation=gen), [_probe(1, "hello world")])
    assert out[0].text == "echo: hello world"
    assert out[0].error is None
    assert out[0].retries == 0
    assert out[0].finish_reason == "stop"
    assert out[0].usage.completion_tokens == 3
    sent = server.requests[0]
    assert sent.messages[0] == {"role": "system", "content": "be safe"}
    assert (sent.max_tokens, sent.temperature, sent.body["seed"]) == (7, 0.5, 3)


def test_transient_500_then_success_counts_retries() -> None:
    with serve(fail_first(2, Fault.server_error())) as url:
        out = _run(_target(url, max_retries=4), [_probe(i) for i in range(5)])
    assert [c.retries for c in out] == [2] * 5
    assert all(c.text == f"echo: q{i}" for i, c in enumerate(out))


def test_429_retry_after_is_honoured() -> None:
    with serve(fail_first(1, Fault.rate_limited(retry_after=0.4))) as url:
        start = time.perf_counter()
        out = _run(_target(url), [_probe(1)])
        elapsed = time.perf_counter() - start
    assert out[0].text == "echo: q1"
    assert out[0].retries == 1
    assert elapsed >= 0.4  # backoff alone would have waited ~0.01 s


def test_slow_past_timeout_becomes_error_with_retry_count() -> None:
    def responder(request: ChatRequest) -> str | Fault:
        return Fault.slow(1.0) if request.prompt == "slow" else "fast"

    with serve(responder) as url:
        out = _run(_target(url, timeout_s=0.2, max_retries=2), [_probe(1, "slow"), _probe(2, "ok")])
    assert out[0].error is not None
    assert "timed out" in out[0].error
    assert out[0].retries == 2
    assert out[0].text is None
    assert out[1].text == "fast"
    assert out[1].retries == 0


def test_exhausted_retries_record_last_error() -> None:
    with serve(lambda r: Fault.server_error(503)) as url:
        out = _run(_target(url, max_retries=1), [_probe(1)])
    assert out[0].error is not None
    assert "HTTP 503" in out[0].error
    assert out[0].retries == 1


def test_400_is_not_retried() -> None:
    with serve(lambda r: Fault(status=400, message="context too long")) as url:
        out = _run(_target(url), [_probe(1)])
    assert out[0].retries == 0
    assert out[0].error is not None
    assert "context too long" in out[0].error


def test_wrong_key_aborts_without_echoing_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SF_TEST_KEY", "sk-wrong-secret-123")
    with serve(api_key="sk-right") as url, pytest.raises(SafeforgeError, match="HTTP 401") as info:
        _run(_target(url), [_probe(i) for i in range(8)])
    assert "sk-wrong-secret-123" not in str(info.value)
    assert "SF_TEST_KEY" in str(info.value)


def test_right_key_is_sent_as_bearer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SF_TEST_KEY", "sk-right")
    with serve(api_key="sk-right") as url:
        assert _run(_target(url), [_probe(1)])[0].error is None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unreachable_endpoint_aborts_fast_without_credentials_in_message() -> None:
    url = f"http://user:hunter2@127.0.0.1:{_free_port()}/v1?api_key=hunter3"
    start = time.perf_counter()
    with pytest.raises(SafeforgeError, match="cannot reach") as info:
        _run(_target(url), [_probe(i) for i in range(4)])
    assert time.perf_counter() - start < 5
    assert "hunter" not in str(info.value)


def test_unknown_model_404_aborts_before_any_success() -> None:
    not_found = Fault(status=404, message="model not found")
    with serve(lambda r: not_found) as url, pytest.raises(SafeforgeError, match="model name"):
        _run(_target(url), [_probe(1)])


def test_rpm_cap_spaces_requests() -> None:
    with serve() as url:
        start = time.perf_counter()
        _run(_target(url, requests_per_minute=600, concurrency=8), [_probe(i) for i in range(4)])
        elapsed = time.perf_counter() - start
    assert elapsed >= 0.3  # 4 starts 0.1 s apart


def test_concurrency_is_bounded() -> None:
    in_flight = 0
    peak = 0

    class Counting(OpenAIServer):
        async def _chat(self, request):  # type: ignore[no-untyped-def]
            nonlocal in_flight, peak
            in_flight += 1
            peak = max(peak, in_flight)
            try:
                return await super()._chat(request)
            finally:
                in_flight -= 1

    server = Counting(latency_s=0.05)
    with server.running() as url:
        out = _run(_target(url, concurrency=3), [_probe(i) for i in range(12)])
    assert all(c.error is None for c in out)
    assert peak == 3


def test_spec_factory_and_missing_key_without_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(SafeforgeError, match="OPENAI_API_KEY"):
        create_target("openai:gpt-x")
    with pytest.raises(SafeforgeError, match="model name"):
        create_target("openai:", TargetOptions(base_url="http://127.0.0.1:1/v1"))
    target = create_target("openai:m", TargetOptions(base_url="http://u:pw@127.0.0.1:1/v1?key=s"))
    assert target.id == "openai:m"


def test_retry_after_parsing() -> None:
    assert _retry_after("2.5") == 2.5
    assert _retry_after(None) is None
    assert _retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert _retry_after("soon") is None


def _two_url_target(url_a: str, url_b: str, **kw: object) -> OpenAITarget:
    options = TargetOptions(base_url=(url_a, url_b), api_key_env="SF_TEST_KEY", **kw)  # type: ignore[arg-type]
    return OpenAITarget("mock-model", options, backoff_base_s=0.01)


def test_several_urls_share_the_load_under_one_concurrency_limit() -> None:
    a, b = OpenAIServer(echo, latency_s=0.2), OpenAIServer(echo, latency_s=0.2)
    with a.running() as url_a, b.running() as url_b:
        start = time.perf_counter()
        out = _run(_two_url_target(url_a, url_b, concurrency=2), [_probe(i) for i in range(6)])
        elapsed = time.perf_counter() - start
    assert [c.text for c in out] == [f"echo: q{i}" for i in range(6)]
    assert len(a.requests) == len(b.requests) == 3  # least-in-flight alternates between them
    # 2 in flight overall, 0.2 s each: 3 rounds; a limit per URL (4 in flight) would take 0.4 s
    assert elapsed >= 0.6


def test_a_url_answering_500_is_routed_around() -> None:
    bad, good = OpenAIServer(lambda r: Fault.server_error()), OpenAIServer(echo)
    with bad.running() as url_bad, good.running() as url_good:
        out = _run(
            _two_url_target(url_bad, url_good, max_retries=1, concurrency=4), [_probe(i) for i in range(20)]
        )
    assert [c.text for c in out] == [f"echo: q{i}" for i in range(20)]
    assert len(bad.requests) > 0  # it was tried ...
    assert len(good.requests) == 20  # ... and each failure there was retried on the other URL
    assert all(
        c.retries == (1 if f"q{i}" in {r.prompt for r in bad.requests} else 0) for i, c in enumerate(out)
    )


def test_several_urls_fail_fast_only_when_none_is_reachable() -> None:
    dead = "http://127.0.0.1:9/v1"  # port 9 (discard): nothing listens there
    with serve(echo) as url:
        out = _run(_two_url_target(dead, url), [_probe(i) for i in range(4)])
    assert [c.text for c in out] == [f"echo: q{i}" for i in range(4)]
    with pytest.raises(SafeforgeError, match="cannot reach"):
        _run(_two_url_target(dead, "http://127.0.0.1:9/v2"), [_probe(1)])
