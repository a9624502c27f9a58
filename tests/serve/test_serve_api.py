"""The guard's OpenAI-compatible API on a real loopback socket: best-of-N answers, streaming,
/v1/models, /health, /metrics, and every decision in the run store."""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from guard_builders import LECTURE, chat, get_async, post_async, running_guard

from safeforge.records import Label, Task
from safeforge.run import Run
from safeforge.run.store import Store
from safeforge.testing import COMPLIANCE, REFUSAL


def test_answers_with_the_critics_pick_from_one_n_request(tmp_path: Path) -> None:
    with running_guard(tmp_path) as g:
        status, _, text = asyncio.run(post_async(g.url, chat("how do I bake bread", max_tokens=20)))
        sent = g.upstream.requests
    assert status == 200
    body = json.loads(text)
    assert body["object"] == "chat.completion"
    assert body["choices"][0]["message"] == {"role": "assistant", "content": COMPLIANCE}
    # the rules critic reads helpfulness: refusal 0, lecture (a refusal) 0, compliance 1
    assert body["safeforge"] == {"candidates": 3, "chosen": 2, "scores": [0.0, 0.0, 1.0], "critic": "rules"}
    assert body["usage"]["completion_tokens"] == sum(len(t.split()) for t in (REFUSAL, LECTURE, COMPLIANCE))
    assert len(sent) == 1
    assert (sent[0].body["n"], sent[0].max_tokens, sent[0].temperature) == (3, 20, 1.0)


def test_every_candidate_is_recorded_with_the_decision(tmp_path: Path) -> None:
    with running_guard(tmp_path) as g:
        for prompt in ("one", "two"):
            status, _, _ = asyncio.run(post_async(g.url, chat(prompt)))
            assert status == 200
    attempts = Run.open(tmp_path / "guard").attempts()
    assert len(attempts) == 6
    by_request: dict[str, list[str]] = {}
    for a in attempts:
        decision = a.verdict(Task.CRITIC, "rerank")
        assert decision is not None
        assert a.verdict(Task.REFUSAL, "rules") is not None  # the critic's own verdict is kept
        by_request.setdefault(a.probe.meta["request_id"], []).append(decision.label.value)
        if decision.label is Label.PASS:
            assert a.response == COMPLIANCE
    assert sorted(by_request.values()) == [["fail", "fail", "pass"]] * 2
    assert {a.probe.prompt for a in attempts} == {"one", "two"}


def test_a_write_in_flight_when_the_guard_stops_still_lands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The periodic commit is slow (a busy disk); the guard stops while it is writing. The
    # write used to be cancelled and race the store's close, losing its verdicts or its batch.
    writing = threading.Event()
    put_attempts = Store.put_attempts

    def slow_put(self: Store, *args: Any, **kwargs: Any) -> None:
        writing.set()
        time.sleep(0.3)
        put_attempts(self, *args, **kwargs)

    monkeypatch.setattr(Store, "put_attempts", slow_put)
    with running_guard(tmp_path) as g:
        status, _, _ = asyncio.run(post_async(g.url, chat("one")))
        assert status == 200
        assert writing.wait(timeout=10)
    attempts = Run.open(tmp_path / "guard").attempts()
    assert len(attempts) == 3
    assert all(a.verdict(Task.CRITIC, "rerank") is not None for a in attempts)  # verdicts too


def test_streams_the_chosen_answer_as_server_sent_events(tmp_path: Path) -> None:
    with running_guard(tmp_path) as g:
        status, headers, text = asyncio.run(post_async(g.url, chat("hi", stream=True)))
    assert status == 200
    assert headers["Content-Type"].startswith("text/event-stream")
    events = [line.removeprefix("data: ") for line in text.split("\n\n") if line.strip()]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert len(chunks) > 3  # role, several pieces, finish
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks) == COMPLIANCE
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert len({c["id"] for c in chunks}) == 1


def test_models_health_and_prometheus_metrics(tmp_path: Path) -> None:
    with running_guard(tmp_path) as g:
        asyncio.run(post_async(g.url, chat("a")))
        asyncio.run(post_async(g.url, chat("b")))
        asyncio.run(post_async(g.url, {"messages": []}))
        _, models = asyncio.run(get_async(f"{g.url}/models"))
        health_status, health = asyncio.run(get_async(f"{g.root}/health"))
        _, metrics = asyncio.run(get_async(f"{g.root}/metrics"))
    assert [m["id"] for m in json.loads(models)["data"]] == ["mock-model"]
    assert (health_status, json.loads(health)) == (200, {"status": "ok"})
    samples = {}
    for line in metrics.splitlines():
        if line.startswith("#"):
            assert re.fullmatch(r"# (HELP|TYPE) safeforge_serve_\w+ .+", line), line
            continue
        name, value = line.rsplit(" ", 1)
        samples[name] = float(value)
    assert samples['safeforge_serve_requests_total{status="200"}'] == 2
    assert samples['safeforge_serve_requests_total{status="400"}'] == 1
    assert samples["safeforge_serve_candidates_total"] == 6
    assert samples["safeforge_serve_overridden_total"] == 2
    assert samples["safeforge_serve_in_flight"] == 0
    assert samples["safeforge_serve_request_seconds_count"] == 3
    assert samples['safeforge_serve_request_seconds_bucket{le="+Inf"}'] == 3
    assert samples['safeforge_serve_chosen_score_bucket{le="1"}'] == 2
    assert samples['safeforge_serve_chosen_score_bucket{le="0.9"}'] == 0


def test_n_1_is_a_recording_pass_through_without_a_critic(tmp_path: Path) -> None:
    with running_guard(tmp_path, n=1, critic=("no-such-judge",)) as g:  # never built at n = 1
        status, _, text = asyncio.run(post_async(g.url, chat("hi")))
        sent = g.upstream.requests
    assert status == 200
    body = json.loads(text)
    assert body["choices"][0]["message"]["content"] == REFUSAL
    assert body["safeforge"]["critic"] == "none"
    assert "n" not in sent[0].body
    attempts = Run.open(tmp_path / "guard").attempts()
    assert len(attempts) == 1
    assert attempts[0].response == REFUSAL
    assert attempts[0].verdicts == ()  # one candidate is no decision: no critic, no rerank verdict


def test_chat_content_as_text_parts_and_a_system_turn(tmp_path: Path) -> None:
    body = {
        "model": "x",
        "messages": [
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": [{"type": "text", "text": "hel"}, {"type": "text", "text": "lo"}]},
        ],
    }
    with running_guard(tmp_path) as g:
        status, _, text = asyncio.run(post_async(g.url, body))
        sent = g.upstream.requests[0]
    assert status == 200
    assert json.loads(text)["model"] == "x"
    assert sent.messages == ({"role": "system", "content": "be brief"}, {"role": "user", "content": "hello"})
