"""The loopback OpenAI-compatible server other tests rely on: real sockets, scripted faults."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

from safeforge.testing import REFUSAL, Fault, OpenAIServer, echo, fail_first, serve


async def _post_async(base_url: str, prompt: str, key: str | None = None) -> tuple[int, dict, dict]:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    body = {"model": "m", "messages": [{"role": "user", "content": prompt}]}
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{base_url}/chat/completions", json=body, headers=headers) as resp,
    ):
        return resp.status, await resp.json(), dict(resp.headers)


def test_thread_server_answers_and_records_requests() -> None:
    server = OpenAIServer(echo)
    with server.running() as base_url:
        assert base_url.startswith("http://127.0.0.1:")
        status, data, _ = asyncio.run(_post_async(base_url, "hello there"))
    assert status == 200
    assert data["choices"][0]["message"]["content"] == "echo: hello there"
    assert data["usage"]["completion_tokens"] == 3
    assert [r.prompt for r in server.requests] == ["hello there"]


def test_fail_first_then_answer_with_retry_after() -> None:
    responder = fail_first(1, Fault.rate_limited(retry_after=0.25))
    with serve(responder) as base_url:
        first = asyncio.run(_post_async(base_url, "p"))
        second = asyncio.run(_post_async(base_url, "p"))
    assert first[0] == 429
    assert first[2]["Retry-After"] == "0.25"
    assert second[0] == 200


def test_wrong_key_gets_401_and_right_key_200() -> None:
    with serve(api_key="sk-right") as base_url:
        assert asyncio.run(_post_async(base_url, "p", key="sk-wrong"))[0] == 401
        status, data, _ = asyncio.run(_post_async(base_url, "p", key="sk-right"))
    assert status == 200
    assert data["choices"][0]["message"]["content"] == REFUSAL


def test_async_server_slow_fault_delays_reply() -> None:
    async def main() -> float:
        async with OpenAIServer(lambda r: Fault.slow(0.3)) as base_url:
            start = time.perf_counter()
            status, _, _ = await _post_async(base_url, "p")
            assert status == 200
            return time.perf_counter() - start

    assert asyncio.run(main()) >= 0.3


def test_server_runs_as_its_own_process(tmp_path: Path) -> None:
    port_file = tmp_path / "url"
    proc = subprocess.Popen(
        [sys.executable, "-m", "safeforge.testing", "--port-file", str(port_file), "--responder", "echo"],
        stdout=subprocess.DEVNULL,
    )
    try:
        for _ in range(200):
            if port_file.exists():
                break
            time.sleep(0.05)
        base_url = port_file.read_text()
        status, data, _ = asyncio.run(_post_async(base_url, "x"))
        assert status == 200
        assert data["choices"][0]["message"]["content"] == "echo: x"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_responder_may_return_a_whole_body() -> None:
    body = {"choices": [{"message": {"role": "assistant", "content": "x"}, "logprobs": {"content": []}}]}
    with serve(lambda r: body) as base_url:
        status, data, _ = asyncio.run(_post_async(base_url, "p"))
    assert status == 200
    assert data == body
