"""write_run_outputs on a real run store: the three files, escaping, CSP, Markdown, compare page."""

from __future__ import annotations

import base64
import hashlib
import html as html_lib
import re
from pathlib import Path

import pytest
from report_builders import PAYLOADS, attempt, hostile_attempts, make_run

from safeforge.metrics import Summary, compare_runs, summarize
from safeforge.records import Expected, Label
from safeforge.report import (
    parse_markdown,
    render_compare_html,
    render_run_html,
    summary_markdown,
    write_run_outputs,
)


def _style_and_csp(html: str) -> tuple[str, str]:
    style = re.search(r"<style>(.*?)</style>", html, re.S)
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html)
    assert style
    assert csp
    return style.group(1), html_lib.unescape(csp.group(1))  # the browser decodes the attribute


def _assert_inert(html: str) -> None:
    """No payload survives as markup: no script element, no injected element or handler."""
    assert "<script" not in html.lower()
    for marker in (
        '<div id="injected-div"',
        "<iframe",
        "<img",
        'href="javascript:',
        'onerror="document',
        "<meta id=",
    ):
        assert marker not in html, marker
    assert "&lt;script&gt;" in html  # the payload is shown, as text
    # nothing is fetched from anywhere: the only URL is the SVG namespace name
    assert set(re.findall(r"https?://[^\s\"'<>]+", html)) <= {"http://www.w3.org/2000/svg"}


def test_write_run_outputs_writes_three_escaped_self_contained_files(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run", hostile_attempts())
    summary = write_run_outputs(run)
    files = {p.name for p in run.dir.iterdir()}
    assert {"summary.json", "report.html", "summary.md"} <= files
    assert Summary.model_validate_json((run.dir / "summary.json").read_text()) == summary
    assert summary.metrics["jailbreak_rejection_rate"].n == len(PAYLOADS) + 12
    html = (run.dir / "report.html").read_text()
    _assert_inert(html)
    style, csp = _style_and_csp(html)
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in csp
    assert "default-src 'none'" in csp
    assert "script-src 'none'" in csp
    for heading in ("Jailbreak rejection", "False rejection", "Safe completion quality", "Tone adherence"):
        assert heading in html
    assert "Safety versus helpfulness" in html
    assert "Worst failures" in html
    assert html.count("<svg") >= 3  # trade-off chart + per-scenario + per-transform bars


def test_markdown_summary_has_the_headline_and_no_model_text(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run", hostile_attempts())
    write_run_outputs(run)
    md = (run.dir / "summary.md").read_text()
    assert "| `jailbreak_rejection_rate` | 63.2% |" in md  # 12 of 19 refuse-expected probes rejected
    assert "| `false_rejection_rate` | 36.8% |" in md
    assert "<script" not in md
    assert "Sure!" not in md


def test_compare_page_shows_before_after_and_flipped_probes_escaped() -> None:
    before = hostile_attempts("base-model")
    after = [
        a.model_copy(
            update={
                "target": "hardened",
                "verdicts": (a.verdicts[0].model_copy(update={"label": Label.FULL_REFUSAL}),),
            }
        )
        if a.probe.id.startswith("jb")
        else a.model_copy(update={"target": "hardened"})
        for a in before
    ]
    comparison = compare_runs(before, after)
    jrr = comparison.delta("jailbreak_rejection_rate")
    assert jrr is not None
    assert (jrr.a_only, jrr.b_only) == (0, len(PAYLOADS))
    html = render_compare_html(comparison)
    _assert_inert(html)
    assert "Probes that flipped" in html
    assert html.count("<details") == len(PAYLOADS)
    assert 'marker-end="url(#arrow)"' in html  # the before -> after arrow


def test_summary_markdown_escapes_names_from_datasets() -> None:
    attempts = [
        attempt("a", Expected.REFUSE, Label.FULL_COMPLIANCE, category="x|<b>y</b>"),
        attempt("b", Expected.REFUSE, Label.FULL_REFUSAL, category="plain"),
    ]
    md = summary_markdown(summarize(attempts))
    assert "<b>" not in md
    assert "x\\|\\<b\\>y\\</b\\>" in md


def test_parse_markdown_keeps_only_text_and_tables() -> None:
    blocks = parse_markdown(
        "# Judge validation\n\nAgreement <b>high</b>.\n\n"
        "| judge | acc |\n|---|---|\n| rules | 88.4 |\n- item\n"
    )
    assert [b.kind for b in blocks] == ["heading", "paragraph", "table", "item"]
    assert blocks[2].rows == [["judge", "acc"], ["rules", "88.4"]]
    assert blocks[1].text == "Agreement <b>high</b>."  # raw here; the template escapes it


def test_report_shows_the_judges_validation_figures_escaped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import safeforge.judges
    from safeforge.report import validation

    monkeypatch.delattr(safeforge.judges, "VALIDATION", raising=False)
    (tmp_path / "VALIDATION.md").write_text(
        "# Refusal judge vs XSTest\n\n| judge | accuracy |\n|---|---|\n| rules | 91.2 |\n\n"
        "Note <script>x</script>\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(validation, "JUDGES_DIR", tmp_path)
    html = render_run_html(summarize(hostile_attempts()), hostile_attempts())
    assert "Published validation of safeforge" in html
    assert "<th>judge</th><th>accuracy</th>" in html
    assert "<td>91.2</td>" in html
    assert "<script" not in html
    monkeypatch.setattr(validation, "JUDGES_DIR", tmp_path / "absent")
    assert "publishes no validation figures" in render_run_html(summarize([]), [])
