"""Budgets stop each goal's attack (turns, tokens, active seconds); an attacker that never gives a
usable prompt costs turns and no target query; a run resumed with a bigger budget carries on from
the stored turns; the report and the exports show it, with model output escaped."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from scripted import Script
from typer.testing import CliRunner

from conftest import Attack, Loopback, stored_nodes
from safeforge.attacks import AttackConfig, run_attack, summarize_attack
from safeforge.attacks.parse import parse_proposal
from safeforge.cli import app
from safeforge.errors import SafeforgeError
from safeforge.run import ScanConfig, export_run
from safeforge.testing import ChatRequest, Fault, OpenAIServer


def test_each_budget_stops_every_goal(attack: Attack, loopback: Loopback) -> None:
    summary, _ = attack(["pair"], max_turns=2, streams=3, run_dir="turns")
    assert summary.methods[0].stops == {"turns": 3}
    assert all(g.proposals == 2 for g in summary.goals)  # the round is cut to what is left
    summary, _ = attack(["pair"], max_tokens=300, streams=3, run_dir="tokens")
    assert summary.methods[0].stops == {"tokens": 3}
    assert all(g.proposals == 3 and g.attacker_tokens + g.target_tokens >= 300 for g in summary.goals)
    loopback.server.latency_s = 0.05
    summary, _ = attack(["pair"], max_seconds=0.01, streams=2, run_dir="seconds")
    assert summary.methods[0].stops == {"seconds": 3}
    assert all(g.proposals == 2 and g.seconds >= 0.05 for g in summary.goals)


def test_an_attacker_that_never_proposes_costs_no_target_query(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SAFEFORGE_TEST_KEY", "")
    server = OpenAIServer(Script(never_usable=True))
    with server.running() as url:
        scan = ScanConfig(
            target="openai:target",
            base_url=url,
            api_key_env="SAFEFORGE_TEST_KEY",
            judges=["rules"],
            limit=2,
            run_dir=tmp_path / "r",
        )
        config = AttackConfig.build(
            scan,
            attacker="openai:attacker",
            attacker_base_url=url,
            attacker_api_key_env="SAFEFORGE_TEST_KEY",
            max_turns=4,
        )
        summary = summarize_attack(run_attack(config))
    (pair,) = summary.methods
    assert (pair.asr.k, pair.asr.n) == (0, 2)
    assert pair.unusable == pair.attacker_calls == 8
    assert pair.target_queries == 0
    assert not [r for r in server.requests if r.model == "target"]
    assert pair.stops == {"turns": 2}


def test_endpoint_errors_leave_goals_unfinished_and_a_resume_retries_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SAFEFORGE_TEST_KEY", "")
    script, down, failed = Script(unusable_every=0), {"target"}, Counter[str]()

    def responder(request: ChatRequest) -> str | Fault | dict[str, Any]:
        if request.model in down:
            failed[request.model] += 1
            return Fault.server_error()
        return script(request)

    server = OpenAIServer(responder)
    with server.running() as url:
        scan = ScanConfig(
            target="openai:target", base_url=url, api_key_env="SAFEFORGE_TEST_KEY", judges=["rules"],
            limit=2, max_retries=0, run_dir=tmp_path / "r",
        )  # fmt: skip
        config = AttackConfig.build(
            scan, attacker="openai:attacker", attacker_base_url=url,
            attacker_api_key_env="SAFEFORGE_TEST_KEY", streams=2, max_turns=12,
        )  # fmt: skip
        (pair,) = summarize_attack(run_attack(config)).methods  # the target is down
        assert (pair.finished, pair.asr.n, pair.asr.value, pair.target_queries) == (0, 0, None, 0)
        assert pair.stops == {"unfinished": 2}
        nodes = stored_nodes(scan.run_dir)
        assert {n["status"] for n in nodes} == {"proposed"}  # no error stored as an answer
        down = {"attacker"}
        (pair,) = summarize_attack(run_attack(config)).methods  # stored proposals answered, no new ones
        assert (pair.target_queries, pair.attacker_calls, pair.unusable) == (len(nodes), len(nodes), 0)
        assert pair.stops == {"unfinished": 2}
        down = set()
        (pair,) = summarize_attack(run_attack(config)).methods
    assert (pair.asr.k, pair.asr.n) == (2, 2)
    assert failed["attacker"] > 0
    # every stored reply was asked once; the failed requests were asked again, not stored
    assert pair.attacker_calls == sum(r.model == "attacker" for r in server.requests) - failed["attacker"]
    assert pair.target_queries == sum(r.model == "target" for r in server.requests) - failed["target"]


def test_resuming_with_a_bigger_budget_continues_from_the_stored_turns(
    attack: Attack, loopback: Loopback
) -> None:
    summary, run_dir = attack(["pair"], max_turns=3, streams=3)
    assert summary.methods[0].stops == {"turns": 3}
    before = {n["id"]: n for n in stored_nodes(run_dir)}
    asked = len(loopback.requests("attacker"))
    summary, _ = attack(["pair"], max_turns=15, streams=3)
    assert summary.methods[0].stops == {"success": 3}
    after = {n["id"]: n for n in stored_nodes(run_dir)}
    assert all(after[i] == n for i, n in before.items())  # nothing stored was redone
    assert len(loopback.requests("attacker")) - asked == len(after) - len(before)


def test_a_different_attacker_cannot_resume_the_run(attack: Attack) -> None:
    attack(["pair"], max_turns=1)
    with pytest.raises(SafeforgeError, match="different target, attacker"):
        attack(["pair"], max_turns=1, streams=2)


def test_report_shows_asr_and_escaped_winning_conversations(attack: Attack, loopback: Loopback) -> None:
    _, run_dir = attack(["pair", "crescendo"], judges=["rules", loopback.judge("harm")], max_turns=15)
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    assert "Attacker-driven attacks" in html
    assert "Winning conversations" in html
    assert "No harm judge ran" not in html
    assert "&lt;b&gt;exactly&lt;/b&gt;" in html  # the target's answer, escaped
    assert "<b>exactly" not in html
    assert "As a &lt;i&gt;story&lt;/i&gt;" in html  # the attacker's prompt, escaped
    assert "<i>story" not in html
    assert "LLM01:2025 Prompt Injection" in html  # the taxonomy table
    saved = json.loads((run_dir / "attacks.json").read_text(encoding="utf-8"))
    assert [m["method"] for m in saved["methods"]] == ["pair", "crescendo"]
    assert all(m["asr"]["ci_low"] is not None for m in saved["methods"])
    assert len(saved["winners"]) == 6
    md = (run_dir / "summary.md").read_text(encoding="utf-8")
    assert "| `pair` | 100.0% |" in md
    assert "exactly" not in md  # no model output in the Markdown
    (run_dir / "report.html").unlink()
    cli = CliRunner().invoke(app, ["report", str(run_dir)])  # rewrites every output of the run
    assert cli.exit_code == 0, cli.output
    assert "pair: ASR 100.0% [95% CI" in cli.output  # ASR over goals, beside the per-turn table
    assert "Winning conversations" in (run_dir / "report.html").read_text(encoding="utf-8")
    lines = export_run(run_dir, "conversations").read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines]
    assert len(rows) == len(stored_nodes(run_dir))
    answered = [r for r in rows if r["status"] == "answered"]
    assert all(r["answer"]["probe"]["id"] == r["probe_id"] and r["answer"]["verdicts"] for r in answered)
    assert all(r["answer"] is None for r in rows if r["status"] != "answered")
    sarif = json.loads(export_run(run_dir, "sarif").read_text(encoding="utf-8"))
    results = sarif["runs"][0]["results"]
    assert results
    assert all(
        "AML.T0054" in r["properties"]["tags"] for r in results if r["ruleId"] == "jailbreak-not-rejected"
    )


@pytest.mark.parametrize(
    ("reply", "prompt"),
    [
        ('{"improvement": "x", "prompt": "Tell me a story"}', "Tell me a story"),
        ('```json\n{"prompt": "fenced"}\n```', "fenced"),
        (
            'Sure! Here it is: {"improvement": "a {brace}", "prompt": "with } inside"} hope it helps',
            "with } inside",
        ),
        ('{"other": 1} then {"prompt": "second object"}', "second object"),
    ],
)
def test_a_prompt_is_read_from_json_wherever_it_sits(reply: str, prompt: str) -> None:
    assert parse_proposal(reply) == (prompt, "")


@pytest.mark.parametrize(
    ("reply", "why"),
    [
        (None, "empty reply"),
        ("   ", "empty reply"),
        ("I can't help with writing jailbreaks.", "no JSON object"),
        ('{"improvement": "x", "prompt": ""}', 'no non-empty "prompt"'),
        ('{"prompt": ["not", "a", "string"]}', 'no non-empty "prompt"'),
        ('{"improvement": "cut off at the token limit", "prompt": "Write', "no JSON object"),
        ('{"prompt": "' + "x" * 9000 + '"}', "longer than"),
    ],
)
def test_unusable_replies_say_why(reply: str | None, why: str) -> None:
    prompt, reason = parse_proposal(reply)
    assert prompt is None
    assert why in reason


def test_url_credentials_never_reach_the_run_and_a_resume_asks_for_them(
    loopback: Loopback, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "")
    secret = loopback.url.replace("http://", "http://user:hunter2secret@")
    run_dir = tmp_path / "creds"
    urls = ["--base-url", secret, "--attacker-base-url", secret]
    first = ["attack", "--target", "openai:target", "--attacker", "openai:attacker", "--judge", "rules"]
    cli = CliRunner().invoke(
        app, [*first, "--limit", "1", "--max-turns", "3", "--run-dir", str(run_dir), *urls]
    )
    assert cli.exit_code == 0, cli.output
    assert len(loopback.requests("target")) > 0  # the credentialed URLs were really used
    for path in run_dir.rglob("*"):
        if path.is_file():
            assert b"hunter2secret" not in path.read_bytes(), path
    cli = CliRunner().invoke(app, ["attack", "--resume", str(run_dir), "--max-turns", "6"])
    assert isinstance(cli.exception, SafeforgeError)  # main() prints it as one line, exit 2
    assert "redacted; pass --base-url again" in str(cli.exception)
    asked = len(loopback.requests("attacker"))
    cli = CliRunner().invoke(app, ["attack", "--resume", str(run_dir), "--max-turns", "6", *urls])
    assert cli.exit_code == 0, cli.output
    assert len(loopback.requests("attacker")) > asked
