"""JUnit XML for the gate, so CI systems show each check as a test case."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from safeforge.metrics import GateResult


def junit_xml(result: GateResult, suite: str = "safeforge.gate") -> str:
    """One ``<testsuite>`` with a ``<testcase>`` per check; failed checks carry ``<failure>``."""
    failures = sum(not c.passed for c in result.checks)
    root = ET.Element("testsuites", tests=str(len(result.checks)), failures=str(failures))
    node = ET.SubElement(
        root, "testsuite", name=suite, tests=str(len(result.checks)), failures=str(failures), errors="0"
    )
    for check in result.checks:
        case = ET.SubElement(node, "testcase", classname=suite, name=check.name)
        if check.passed:
            ET.SubElement(case, "system-out").text = check.message
        else:
            ET.SubElement(case, "failure", message=check.message, type="threshold").text = check.message
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def write_junit(result: GateResult, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(junit_xml(result), encoding="utf-8")
