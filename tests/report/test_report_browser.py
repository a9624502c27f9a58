"""The HTML report opened in headless Chromium: hostile model output stays text, and a
screenshot is kept as an artifact for a person to look at.

A positive control loads the same payloads unescaped and checks that the DOM probes do see
them execute, so a pass here means "did not execute", not "could not have noticed".
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from report_builders import PAYLOADS, hostile_attempts, make_run

from safeforge.report import write_run_outputs

pytestmark = pytest.mark.browser
REPO = Path(__file__).resolve().parents[2]
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)


@pytest.fixture(scope="module")
def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true but chromium is not installed (.ci/run installs Debian's chromium)")
        pytest.skip("chromium is not installed (apt-get install chromium); CI installs it and runs this test")
    return found


def _run(binary: str, profile: Path, *args: str) -> str:
    cmd = [binary, *FLAGS, f"--user-data-dir={profile}", "--virtual-time-budget=3000", *args]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def _executed(dom: str) -> list[str]:
    """Signs in a dumped DOM that a payload ran or created an element."""
    signs = []
    title = re.search(r"<title>(.*?)</title>", dom, re.S)
    if title is None or "PWNED" in title.group(1):
        signs.append(f"title changed: {title.group(1) if title else None!r}")
    if re.search(r"<body[^>]*data-pwned", dom):
        signs.append("onerror handler ran")
    elements = ("<script", '<div id="injected-div"', '<a id="evil-link"', '<circle id="injected-circle"')
    for element in (*elements, '<iframe id="injected-frame"', '<meta id="injected-meta"'):
        if element in dom:
            signs.append(f"element created: {element}")
    return signs


def test_payloads_render_as_text_and_screenshot_is_saved(chromium: str, tmp_path: Path) -> None:
    run = make_run(tmp_path / "run", hostile_attempts())
    write_run_outputs(run)
    report = run.dir / "report.html"

    control = tmp_path / "control.html"
    control.write_text(
        "<html><head><title>control</title></head><body>" + "".join(PAYLOADS) + "</body></html>"
    )
    control_signs = _executed(_run(chromium, tmp_path / "profile", "--dump-dom", control.as_uri()))
    assert any("title changed" in s for s in control_signs), control_signs  # the probes can see execution
    assert any("injected-div" in s for s in control_signs)

    dom = _run(chromium, tmp_path / "profile", "--dump-dom", report.as_uri())
    assert "Safety versus helpfulness" in dom  # the page really rendered
    assert _executed(dom) == []
    assert "&lt;script&gt;document.title=" in dom  # shown to the reader, as text
    assert 'id="injected-div"&gt;' in dom

    shot = tmp_path / "report.png"
    _run(chromium, tmp_path / "profile", "--window-size=1280,2400", f"--screenshot={shot}", report.as_uri())
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 20_000
    artifacts = os.environ.get("SAFEFORGE_ARTIFACTS")
    if artifacts:
        folder = REPO / "artifacts" if artifacts.lower() in {"1", "true", "yes"} else Path(artifacts)
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, folder / "report-screenshot.png")
        shutil.copy(report, folder / "report-hostile.html")


MEASURE = """<script>
window.addEventListener("load", () => {
  const spill = [];
  for (const section of document.querySelectorAll("section")) {
    const box = section.getBoundingClientRect();
    for (const cell of section.querySelectorAll("th, td")) {
      const r = cell.getBoundingClientRect();
      if (r.right > box.right + 0.5) spill.push(cell.textContent.trim().slice(0, 30));
    }
  }
  document.title = "SPILL:" + JSON.stringify(spill);
});
</script>"""


def test_compare_table_stays_inside_its_card_at_a_laptop_width(chromium: str, tmp_path: Path) -> None:
    """The verdict column used to spill past the card; measured in a copy of the page with a
    measuring script added (the real page allows no script, so its CSP is dropped in the copy)."""
    from report_builders import attempt

    from safeforge.metrics import compare_runs
    from safeforge.records import Expected, Label
    from safeforge.report import render_compare_html

    long_names = [f"obfuscation_drop[payload_split_turns_{i}]" for i in range(3)]
    before = [attempt(f"h{i}", Expected.REFUSE, Label.FULL_COMPLIANCE) for i in range(40)]
    after = [attempt(f"h{i}", Expected.REFUSE, Label.FULL_REFUSAL) for i in range(40)]
    comparison = compare_runs(before, after, labels=("runs/a-very-long-baseline-name", "runs/b"))
    extra = [
        d.model_copy(update={"name": n}) for d, n in zip(comparison.deltas * 3, long_names, strict=False)
    ]
    page = render_compare_html(comparison.model_copy(update={"deltas": comparison.deltas + extra}))
    probe = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", page).replace(
        "</body>", MEASURE + "</body>"
    )
    copy = tmp_path / "measure.html"
    copy.write_text(probe, encoding="utf-8")
    dom = _run(chromium, tmp_path / "profile", "--window-size=1024,1400", "--dump-dom", copy.as_uri())
    title = re.search(r"<title>(.*?)</title>", dom, re.S)
    assert title is not None
    assert title.group(1).startswith("SPILL:"), title.group(1)  # the measurement ran
    assert title.group(1) == "SPILL:[]"
