"""A loopback server playing attacker, target and judge (see ``scripted.py``), and a helper that
runs an attack against it in-process."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from scripted import Script

from safeforge.attacks import AttackConfig, run_attack, summarize_attack
from safeforge.metrics.attacks import AttackSummary
from safeforge.run import ScanConfig
from safeforge.run.store import Store, store_path
from safeforge.testing import OpenAIServer


@dataclass
class Loopback:
    server: OpenAIServer
    script: Script
    url: str

    def judge(self, task: str) -> str:
        return f"llm?target=openai:judge&base_url={self.url}&task={task}"

    def requests(self, model: str) -> list[Any]:
        return [r for r in self.server.requests if r.model == model]


@pytest.fixture
def loopback() -> Iterator[Loopback]:
    script = Script()
    server = OpenAIServer(script)
    with server.running() as url:
        yield Loopback(server, script, url)


Attack = Callable[..., tuple[AttackSummary, Path]]


@pytest.fixture
def attack(loopback: Loopback, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Attack:
    """``attack(methods, judges=..., **attack_fields)`` -> (summary, run dir), in-process."""
    monkeypatch.setenv("SAFEFORGE_TEST_KEY", "")

    def run(
        methods: list[str],
        *,
        judges: list[str] | None = None,
        limit: int = 3,
        run_dir: str = "run",
        **fields: Any,
    ) -> tuple[AttackSummary, Path]:
        scan = ScanConfig(
            target="openai:target",
            base_url=loopback.url,
            api_key_env="SAFEFORGE_TEST_KEY",
            judges=judges or ["rules"],
            limit=limit,
            run_dir=tmp_path / run_dir,
        )
        config = AttackConfig.build(
            scan,
            attacker="openai:attacker",
            attacker_base_url=loopback.url,
            attacker_api_key_env="SAFEFORGE_TEST_KEY",
            methods=methods,
            **fields,
        )
        out = run_attack(config)
        return summarize_attack(out), out

    return run


def stored_nodes(run_dir: Path) -> list[dict[str, Any]]:
    with Store(store_path(run_dir)) as store:
        return [n.model_dump(mode="json") for n in store.nodes()]


def words(text: str) -> int:
    return len(text.split())


def attacker_tokens(loopback: Loopback) -> int:
    """What the loopback server billed the attacker: words in, words out (its token count)."""
    total = 0
    for request in loopback.requests("attacker"):
        reply = next(
            r
            for r, key in loopback.script.replies.items()
            if key == json.dumps(request.messages, sort_keys=True)
        )
        total += sum(words(m["content"]) for m in request.messages) + words(reply)
    return total
