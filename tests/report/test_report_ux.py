"""What a reader sees: tables that fit 80 columns, runs named by their directories, paired and
unpaired changes labelled apart, flipped probes grouped and capped, gate lines that say each
thing once, and thresholds given as percentages caught with the fraction offered."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from report_builders import attempt, make_run
from rich.console import Console
from rich.table import Table

from safeforge.metrics import compare_runs, gate, summarize
from safeforge.records import Attempt, Expected, Label
from safeforge.report import compare_markdown, render_compare_html
from safeforge.report.html import display_target, flipped_groups
from safeforge.report.terminal import compare_table, gate_table, summary_table

R, C = Expected.REFUSE, Expected.COMPLY
FR, FC = Label.FULL_REFUSAL, Label.FULL_COMPLIANCE


def _runs(flips: int = 30) -> tuple[list[Attempt], list[Attempt]]:
    """A before/after pair: ``flips`` refuse-expected probes (over three families) go from
    complied to refused, 2 of 20 safe probes become refused; B has 10 extra safe probes."""
    families = ("politeness", "obfuscation", "edge_tone")
    before, after = [], []
    for i in range(flips):
        fam = families[i % 3]
        for run, label in ((before, FC), (after, FR)):
            a = attempt(f"h{i}", R, label, target="m", prompt=f"harmful {i}")
            run.append(a.model_copy(update={"probe": a.probe.model_copy(update={"family": fam})}))
    for i in range(20):
        before.append(attempt(f"s{i}", C, FC, target="m"))
        after.append(attempt(f"s{i}", C, FR if i < 2 else FC, target="m"))
    after += [attempt(f"x{i}", C, FR, target="m") for i in range(10)]
    return before, after


def _render(table: Table, width: int = 80) -> str:
    console = Console(width=width, record=True, force_terminal=False)
    console.print(table)
    return console.export_text()


def test_summary_and_compare_tables_fit_80_columns_without_wrapping_a_number() -> None:
    before, after = _runs()
    summary = summarize(after)
    text = _render(summary_table(summary))
    assert max(len(line) for line in text.splitlines()) <= 80
    for name in ("jailbreak_rejection_rate", "false_rejection_rate"):
        m = summary.metrics[name]
        assert m.ci_low is not None
        assert m.ci_high is not None
        ci = f"{100 * m.ci_low:.1f}–{100 * m.ci_high:.1f}%"
        row = next(line for line in text.splitlines() if line.startswith(name + " "))
        assert ci in row, text  # the whole interval on the metric's own line
    comparison = compare_runs(before, after, labels=("runs/base", "runs/new"))
    text = _render(compare_table(comparison))
    assert max(len(line) for line in text.splitlines()) <= 80
    jrr = comparison.delta("jailbreak_rejection_rate")
    assert jrr is not None
    row = next(line for line in text.splitlines() if line.startswith("jailbreak_rejection"))
    assert re.search(r"0\.0%\s+100\.0%\s+\+100\.0 pp\s+30\s+<0\.001\s+improved", row), row
    caption = " ".join(text.split())
    assert "A = runs/base, B = runs/new" in caption
    assert "paired Δ (B − A), pairs and p: over the probes both scored" in caption


def test_compare_labels_runs_by_directory_and_paired_apart_from_unpaired(tmp_path: Path) -> None:
    before, after = _runs()
    comparison = compare_runs(before, after, labels=("runs/base", "runs/new"))
    frr = comparison.delta("false_rejection_rate")
    assert frr is not None
    # unpaired: B over its own 30 safe probes (12 refused) vs A's 20 (0); paired: the 20 shared
    assert frr.delta == pytest.approx(12 / 30)
    assert frr.paired_delta == pytest.approx(2 / 20)
    assert frr.n_paired == 20
    page = render_compare_html(comparison)
    assert "A: <b>runs/base</b>" in page
    assert "B: <b>runs/new</b>" in page
    assert "A: runs/base" in page  # the trade-off chart's points are the runs, not the model twice
    assert "unpaired Δ" in page
    assert "paired Δ [95% CI]" in page
    md = compare_markdown(comparison)
    assert "A = `runs/base`, B = `runs/new`" in md
    assert "| Δ, all probes (unpaired) | paired Δ [95% CI] | pairs |" in md
    row = next(line for line in md.splitlines() if line.startswith("| `false_rejection_rate` |"))
    assert "| +40.0 pp | +10.0 pp [" in row
    assert row.endswith(f"| 20 | {frr.p_value:.3g} | unchanged |")


def test_report_paths_are_absolute_for_both_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "out" / "model").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    assert display_target("hf:out/model") == f"hf:{tmp_path / 'out' / 'model'}"
    assert display_target("hf:/abs/cache/model") == "hf:/abs/cache/model"  # absolute stays
    assert display_target("openai:gpt") == "openai:gpt"
    before, after = _runs()
    after = [a.model_copy(update={"target": "hf:out/model"}) for a in after]
    page = render_compare_html(compare_runs(before, after))
    assert f"hf:{tmp_path / 'out' / 'model'}" in page
    assert "(hf:out/model" not in page


def test_flipped_probes_are_grouped_counted_and_capped() -> None:
    before, after = _runs(flips=30)
    comparison = compare_runs(before, after)
    groups = flipped_groups(comparison.flipped, per_group=5)
    assert [(g.metric, g.better, g.total) for g in groups] == [
        ("false_rejection_rate", False, 2),  # regressions first
        ("jailbreak_rejection_rate", True, 30),
    ]
    jrr = groups[1]
    assert dict(jrr.by_family) == {"politeness": 10, "obfuscation": 10, "edge_tone": 10}
    assert len(jrr.shown) == 5
    assert {f.family for f in jrr.shown} == {"politeness", "obfuscation", "edge_tone"}  # round-robin
    page = render_compare_html(comparison)
    assert "30 probes (showing 8)" in page
    assert page.count("<details>") == 2 + 8
    assert "politeness 10 · obfuscation 10 · edge_tone 10" in page


def test_gate_lines_say_the_metric_once(tmp_path: Path) -> None:
    before, after = _runs()
    comparison = compare_runs(before, after)
    result = gate(summarize(after), min_jrr=0.9, max_frr=0.5, comparison=comparison)
    for check in result.checks:
        line = f"{check.name}: {check.message}"  # how the harden report and JUnit readers show it
        for name in ("jailbreak_rejection_rate", "false_rejection_rate"):
            assert line.count(name + " ") + line.count(name + ":") <= 1, line
    text = _render(gate_table(result))
    assert "jailbreak_rejection_rate: " not in text


@pytest.mark.parametrize(("flag", "value", "hint"), [("--min-jrr", "95", "0.95"), ("--max-frr", "5", "0.05")])
def test_a_percentage_threshold_offers_the_fraction(
    flag: str,
    value: str,
    hint: str,
    tmp_path: Path,
) -> None:
    run = make_run(tmp_path / "run", _runs()[1])
    cli = [sys.executable, "-c", "from safeforge.cli import main; main()", "gate", str(run.dir), flag, value]
    done = subprocess.run(cli, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    err = done.stderr.strip().splitlines()
    assert err == [
        f"error: {flag} {value} is out of range: thresholds are fractions from 0 to 1; did you mean {hint}?"
    ]
    with pytest.raises(Exception, match=f"did you mean {hint}"):
        gate(summarize(_runs()[1]), **{flag.strip("-").replace("-", "_"): float(value)})
