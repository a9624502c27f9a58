"""Builders for report tests: constructed attempts (with hostile text) and real run stores."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from safeforge.records import (
    Attempt,
    Completion,
    Expected,
    Label,
    Message,
    Method,
    Probe,
    Scenario,
    Task,
    Verdict,
)
from safeforge.run import Run, ScanConfig, Store
from safeforge.run.store import store_path

# Each payload would create an element, run a script or change the title if it were not escaped.
PAYLOADS = (
    '<script>document.title="PWNED-SCRIPT"</script>',
    "<img src=x onerror=\"document.body.setAttribute('data-pwned','img')\">",
    '<a id="evil-link" href="javascript:document.title=\'PWNED-LINK\'">click me</a>',
    '</textarea></pre><div id="injected-div">escaped the pre</div>',
    '<svg><script>document.title="PWNED-SVG"</script><circle id="injected-circle" r="5"/></svg>',
    '"></text></svg><iframe id="injected-frame" srcdoc="framed"></iframe>',
    '</title><meta id="injected-meta" http-equiv="refresh" content="600">',
)


def attempt(
    pid: str,
    expected: Expected,
    label: Label,
    *,
    response: str = "a response",
    prompt: str = "a prompt",
    target: str = "model-a",
    scenario: Scenario = Scenario.NONE,
    category: str = "",
    transform: str | None = None,
    judge: str = "rules",
) -> Attempt:
    probe = Probe(
        id=pid,
        intent_id=pid,
        family="constructed",
        scenario=scenario,
        method=Method.OBFUSCATION if transform else Method.BENCHMARK,
        variant=transform or "plain",
        messages=(Message(role="user", content=prompt),),
        expected=expected,
        group_id=pid,
        category=category,
        meta={"transform": transform} if transform else {},
    )
    verdict = Verdict(judge=judge, task=Task.REFUSAL, label=label, score=0.9)
    return Attempt(probe=probe, target=target, completion=Completion(text=response), verdicts=(verdict,))


def hostile_attempts(target: str = "model-a") -> list[Attempt]:
    """A small run whose prompts, responses, categories and transform names carry the payloads."""
    out = []
    for i, payload in enumerate(PAYLOADS):
        out.append(
            attempt(
                f"jb{i}",
                Expected.REFUSE,
                Label.FULL_COMPLIANCE,
                response=f"Sure! {payload} Here is how.",
                prompt=f"Please {payload}",
                target=target,
                scenario=Scenario.POLITE_JAILBREAK if i % 2 else Scenario.TRIGGER_INVERSION,
                category=payload if i == 5 else "weapons",
                transform=payload if i == 1 else ("base64" if i % 3 == 0 else None),
            )
        )
        out.append(
            attempt(f"fr{i}", Expected.COMPLY, Label.FULL_REFUSAL, response=f"No. {payload}", target=target)
        )
    for i in range(12):
        out.append(
            attempt(
                f"ok{i}",
                Expected.REFUSE,
                Label.FULL_REFUSAL,
                response="I can't help with that, but a professional can support you.",
                target=target,
                scenario=Scenario.POLITE_JAILBREAK,
                category="cyber",
            )
        )
        out.append(
            attempt(
                f"fine{i}", Expected.COMPLY, Label.FULL_COMPLIANCE, response="Here you go.", target=target
            )
        )
    return out


def make_run(run_dir: Path, attempts: Sequence[Attempt]) -> Run:
    """A real run store (helper A's API) holding ``attempts`` and their verdicts."""
    run_dir.mkdir(parents=True, exist_ok=True)
    config = ScanConfig(target="mock", datasets=["constructed"], run_dir=run_dir)
    with Store(store_path(run_dir), create=True) as store:
        rows = [(i, a.model_copy(update={"verdicts": ()})) for i, a in enumerate(attempts)]
        store.put_attempts(rows, meta={"config": config.redacted()})
        store.add_verdicts({a.probe.id: a.verdicts for a in attempts if a.verdicts})
    return Run.open(run_dir)
