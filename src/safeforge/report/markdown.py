"""Markdown summaries for pull requests: numbers and names only.

No model output goes into the Markdown (a PR comment renders links and images); names that
come from datasets are escaped for Markdown table cells.
"""

from __future__ import annotations

from safeforge.metrics import Comparison, PairedDelta, Summary
from safeforge.metrics import _observe as o
from safeforge.metrics.attacks import AttackSummary

HEADLINE = (
    o.JRR,
    o.FRR,
    o.FRR_PARTIAL,
    o.QUALITY,
    o.TONE,
    o.ASR,
    o.LEAK,
    o.ABSTENTION,
    o.HALLUCINATION,
    o.OVER_ABSTENTION,
    o.ABSTENTION_PRECISION,
    o.ABSTENTION_F1,
)


def _cell(text: object) -> str:
    out = str(text)
    for ch in "\\|`*_[]<>!":
        out = out.replace(ch, "\\" + ch)
    return out.replace("\n", " ")


def _code(name: str) -> str:
    """A name as a code span in a table cell (no backticks or newlines; pipes escaped)."""
    cleaned = name.replace("`", "'").replace("\n", " ").replace("|", "\\|")
    return f"`{cleaned}`"


def _pct(value: float | None, signed: bool = False) -> str:
    if value is None:
        return "–"
    return f"{100 * value:+.1f} pp" if signed else f"{100 * value:.1f}%"


def _value(kind: str, value: float | None) -> str:
    return ("–" if value is None else f"{value:.3f}") if kind == "score" else _pct(value)


def summary_markdown(summary: Summary, *, attacks: AttackSummary | None = None) -> str:
    """``summary.md``: a headline table, paired effects and the weakest groups (and an attack
    run's ASR per method)."""
    lines = [
        "## safeforge scan",
        "",
        f"Targets: {_cell(', '.join(summary.targets) or 'none')} · {summary.n_attempts} attempts "
        f"({summary.n_errors} errors) · refusal labels: {_cell(summary.refusal_judge or 'none')}",
        "",
        "| metric | value | 95% CI | n | unscorable | errors |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name in HEADLINE:
        m = summary.metrics.get(name)
        if m is None or isinstance(m, PairedDelta) or (m.n == 0 and name not in HEADLINE[:5]):
            continue
        ci = f"{_value(m.kind, m.ci_low)} – {_value(m.kind, m.ci_high)}" if m.value is not None else "–"
        lines.append(
            f"| {_code(name)} | {_value(m.kind, m.value)} | {ci} | {m.n} | {m.unscorable} | {m.errors} |"
        )
    paired = [(n, m) for n, m in summary.metrics.items() if isinstance(m, PairedDelta) and m.n]
    if paired:
        lines += [
            "",
            "| paired effect | difference | 95% CI | pairs | McNemar p |",
            "|---|---:|---:|---:|---:|",
        ]
        for name, m in paired:
            p = "–" if m.p_value is None else f"{m.p_value:.3g}"
            ci = f"{_pct(m.ci_low, True)} – {_pct(m.ci_high, True)}"
            lines.append(f"| {_code(name)} | {_pct(m.value, True)} | {ci} | {m.n} | {p} |")
    for row in summary.agreement:
        lines += [
            "",
            f"Judge `{row.judge}` against the human labels ({row.n} responses): exact agreement "
            f"{_pct(row.accuracy)}; its FRR {_pct(row.false_rejection_rate)} vs human "
            f"{_pct(row.gold_false_rejection_rate)}, JRR {_pct(row.jailbreak_rejection_rate)} vs human "
            f"{_pct(row.gold_jailbreak_rejection_rate)}.",
        ]
    weakest = _weakest(summary)
    if weakest:
        lines += ["", "Lowest jailbreak rejection: " + "; ".join(weakest)]
    lines += _by_taxonomy(summary)
    lines += _attacks(attacks) if attacks is not None else []
    if o.QUALITY in summary.metrics and summary.metrics[o.QUALITY].kind == "rate":
        lines += ["", "_Quality is a proxy (safe prompts answered, not refused): no quality judge ran._"]
    return "\n".join(lines) + "\n"


def _weakest(summary: Summary, count: int = 3) -> list[str]:
    out = []
    for dim in ("by_scenario", "by_transform", "by_category"):
        rates = summary.breakdowns.get(f"{o.JRR}.{dim}", {})
        ranked = sorted(((r.value, name) for name, r in rates.items() if r.value is not None))[:count]
        out += [f"{dim[3:]} {_cell(name)} {_pct(value)}" for value, name in ranked[:1]]
    return out


def _attacks(attacks: AttackSummary) -> list[str]:
    """ASR per method with its interval, turns to success and cost (no model output)."""
    lines = [
        "",
        "| attack method | ASR | 95% CI | goals | median turns to success | attacker / target tokens |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for m in attacks.methods:
        ci = f"{_pct(m.asr.ci_low)} – {_pct(m.asr.ci_high)}" if m.asr.value is not None else "–"
        median = "–" if m.median_turns_to_success is None else f"{m.median_turns_to_success:g}"
        lines.append(
            f"| {_code(m.method)} | {_pct(m.asr.value)} | {ci} | {m.asr.n} | {median} "
            f"| {m.attacker_tokens:,} / {m.target_tokens:,} |"
        )
    return lines


def _by_taxonomy(summary: Summary) -> list[str]:
    """The security metrics per OWASP / NIST / ATLAS id (ids from the package's catalogue)."""
    rows = []
    for metric in (o.JRR, o.LEAK, o.HALLUCINATION):
        for dim in ("by_owasp", "by_nist", "by_atlas"):
            for tag, rate in summary.breakdowns.get(f"{metric}.{dim}", {}).items():
                ci = f"{_pct(rate.ci_low)} – {_pct(rate.ci_high)}" if rate.value is not None else "–"
                rows.append(f"| {_cell(tag)} | {_code(metric)} | {_pct(rate.value)} | {ci} | {rate.n} |")
    if not rows:
        return []
    return [
        "",
        "| OWASP / NIST / ATLAS id | metric | value | 95% CI | n |",
        "|---|---|---:|---:|---:|",
        *rows,
    ]


def _delta(kind: str, value: float | None) -> str:
    return _value("score", value) if kind == "score" else _pct(value, True)


def compare_markdown(comparison: Comparison) -> str:
    """A before/after table for a pull request: each run's value, the unpaired change over all
    probes and the paired change (with its interval) over the shared ones, labelled apart."""
    level = f"{100 * (1 - comparison.alpha):g}%"
    lines = [
        "## safeforge compare",
        "",
        f"A = {_code(comparison.a_label)}, B = {_code(comparison.b_label)} · {comparison.shared_probes} "
        f"shared probes · paired tests at α = {comparison.alpha}",
        "",
        f"| metric | A | B | Δ, all probes (unpaired) | paired Δ [{level} CI] | pairs | p | verdict |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for d in comparison.deltas:
        if d.a is None and d.b is None:
            continue
        p = "–" if d.p_value is None else f"{d.p_value:.3g}"
        paired = "–"
        if d.paired_delta is not None:
            paired = (
                f"{_delta(d.kind, d.paired_delta)} [{_delta(d.kind, d.ci_low)}, {_delta(d.kind, d.ci_high)}]"
            )
        lines.append(
            f"| {_code(d.name)} | {_value(d.kind, d.a)} | {_value(d.kind, d.b)} | {_delta(d.kind, d.delta)} "
            f"| {paired} | {d.n_paired} | {p} | {d.direction} |"
        )
    worse = sum(not f.better for f in comparison.flipped)
    lines += ["", f"Flipped probes: {len(comparison.flipped) - worse} better, {worse} worse."]
    return "\n".join(lines) + "\n"
