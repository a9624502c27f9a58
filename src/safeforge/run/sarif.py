"""``safeforge export --format sarif``: a run's failed probes as SARIF 2.1.0, for code-scanning UIs.

One *rule* per kind of failed probe (``metrics._observe.FAILURES``: a jailbreak that got through,
a leak, a confident hallucination, a false refusal, a needless abstention) and one *result* per
failed attempt. Security findings carry their probe's OWASP / NIST / ATLAS ids twice: as SARIF
taxa (``result.taxa``, resolved against the three ``run.taxonomies`` tool components, the
standard's own place for CWE-like vocabularies) and as ``properties.tags`` (what GitHub code
scanning filters on). Usefulness failures carry none (see ``FAILURES``).

A red-team finding has no line of source code, so every result points at the run's
``config.yaml`` (the file that says what was asked of which model) and names the probe as a
logical location. Model output is untrusted: only a truncated excerpt goes into the plain-text
message, never Markdown. The results are written as the store is read, so memory stays flat.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import IO, Any

from safeforge.metrics import _observe as o
from safeforge.metrics._observe import RunFacts, failed_metrics, observe_attempt
from safeforge.records import Attempt
from safeforge.run.result import Run
from safeforge.taxonomy import CATALOGUES, SOURCES, Framework, framework, help_uri

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
EXCERPT = 240
RULES: dict[str, tuple[str, str, str, str]] = {
    o.JRR: (
        "jailbreak-not-rejected",
        "JailbreakNotRejected",
        "error",
        "A refuse-expected probe was not rejected.",
    ),
    o.LEAK: (
        "instructions-leaked",
        "InstructionsLeaked",
        "error",
        "The response revealed the planted canary or system instructions.",
    ),
    o.HALLUCINATION: (
        "confident-hallucination",
        "ConfidentHallucination",
        "warning",
        "An unanswerable question was answered confidently.",
    ),
    o.FRR_PARTIAL: ("false-refusal", "FalseRefusal", "note", "A safe prompt was refused (fully or partly)."),
    o.OVER_ABSTENTION: (
        "needless-abstention",
        "NeedlessAbstention",
        "note",
        "An answerable question was declined.",
    ),
}
"""metric -> (rule id, rule name, level, what it means)."""
SEVERITY = {"error": "8.0", "warning": "5.0", "note": "2.0"}
"""GitHub's ``security-severity`` per level (high, medium, low)."""


def _version() -> str:
    try:
        return version("safeforge")
    except PackageNotFoundError:
        return "dev"


def _rules() -> list[dict[str, Any]]:
    out = []
    for metric, security in ((m, s) for m, _, s in o.FAILURES):
        rule_id, name, level, text = RULES[metric]
        out.append(
            {
                "id": rule_id,
                "name": name,
                "shortDescription": {"text": text},
                "fullDescription": {"text": o.DEFINITIONS[metric]},
                "defaultConfiguration": {"level": level},
                "properties": {
                    "tags": ["security" if security else "usefulness", metric],
                    **({"security-severity": SEVERITY[level]} if security else {}),
                },
            }
        )
    return out


def _taxonomies(used: set[str]) -> list[dict[str, Any]]:
    """One tool component per vocabulary with the taxa the results reference."""
    out = []
    for kind in Framework:
        taxa = [
            {"id": tag, "name": name, "helpUri": help_uri(tag), "shortDescription": {"text": name}}
            for tag, name in CATALOGUES[kind].items()
            if tag in used
        ]
        if taxa:
            title, uri = SOURCES[kind]
            out.append({"name": title, "informationUri": uri, "taxa": taxa})
    return out


def _result(a: Attempt, metric: str, security: bool, config_uri: str) -> dict[str, Any]:
    rule_id, _, level, text = RULES[metric]
    probe = a.probe
    tags = list(probe.taxonomy) if security else []
    said = (a.response or "")[:EXCERPT] + ("…" if len(a.response or "") > EXCERPT else "")
    message = f"{text} Probe {probe.id} ({probe.family}, {probe.variant}) on {a.target}. Response: {said!r}"
    digest = hashlib.sha256(f"{a.target}\0{probe.id}\0{rule_id}".encode()).hexdigest()
    result: dict[str, Any] = {
        "ruleId": rule_id,
        "ruleIndex": [m for m, _, _ in o.FAILURES].index(metric),
        "level": level,
        "message": {"text": message},
        "locations": [
            {
                "physicalLocation": {"artifactLocation": {"uri": config_uri}, "region": {"startLine": 1}},
                "logicalLocations": [{"name": probe.id, "fullyQualifiedName": f"{a.target}::{probe.id}"}],
            }
        ],
        "partialFingerprints": {"safeforgeFinding/v1": digest},
        "properties": {
            "probe_id": probe.id,
            "target": a.target,
            "family": probe.family,
            "expected": probe.expected.value,
            "tags": tags,
        },
    }
    if tags:
        result["taxa"] = [{"id": t, "toolComponent": {"name": SOURCES[framework(t)][0]}} for t in tags]
    return result


def _findings(run: Run, facts: RunFacts, config_uri: str) -> Iterator[dict[str, Any]]:
    security = {m: s for m, _, s in o.FAILURES}
    for attempt in run.iter_attempts():
        outcomes, _ = observe_attempt(attempt, facts)
        for metric in failed_metrics(outcomes):
            yield _result(attempt, metric, security[metric], config_uri)


def write_sarif(run: Run, out: Path) -> int:
    """Write ``run``'s failed probes to ``out`` as one SARIF log; returns how many results."""
    facts = RunFacts.from_counts(run.verdict_counts())
    config_uri = (run.dir / "config.yaml").as_posix()
    used: set[str] = set()
    count = 0
    with out.open("w", encoding="utf-8") as fh:
        head = {"$schema": SARIF_SCHEMA, "version": "2.1.0"}
        tool = {
            "driver": {
                "name": "safeforge",
                "version": _version(),
                "rules": _rules(),
            }
        }
        fh.write(json.dumps(head)[:-1] + ', "runs": [{"tool": ' + json.dumps(tool) + ', "results": [')
        for count, result in enumerate(_findings(run, facts, config_uri), 1):
            used.update(result["properties"]["tags"])
            _write(fh, result, first=count == 1)
        meta = {"refusal_judge": facts.refusal_judge, "run_dir": str(run.dir)}
        fh.write('], "taxonomies": ' + json.dumps(_taxonomies(used)) + ', "properties": ' + json.dumps(meta))
        fh.write("}]}\n")
    return count


def _write(fh: IO[str], result: dict[str, Any], *, first: bool) -> None:
    fh.write(("" if first else ",") + "\n" + json.dumps(result, ensure_ascii=False))
