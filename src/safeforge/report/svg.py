"""Inline SVG charts, generated here so a report needs no script, CDN or plotting library.

Every piece of text that reaches the SVG (target names, categories, transform names — any of
which can come from a dataset or a model) goes through ``_e`` (HTML/XML escaping, quotes
included), and only presentation attributes are used, never ``style=``: the report's
Content-Security-Policy allows no inline style attributes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from safeforge.metrics import Rate

INK = "#1f2937"
MUTED = "#6b7280"
GRID = "#e5e7eb"
ACCENT = "#2563eb"
GOOD = "#059669"
BAD = "#dc2626"
PALETTE = ("#2563eb", "#d97706", "#059669", "#7c3aed", "#db2777", "#0891b2", "#65a30d", "#9333ea")
Scale = Callable[[float], float]
FONT = 'font-family="system-ui, -apple-system, Segoe UI, sans-serif"'


def _e(text: object) -> str:
    return str(escape(str(text)))


def _short(text: str, limit: int = 24) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


@dataclass(frozen=True)
class TradeoffPoint:
    """One model (or one run) on the JRR-vs-FRR plane; ``after`` marks the second run of a pair."""

    label: str
    jrr: Rate
    frr: Rate
    series: int = 0
    after: bool = False


_STEPS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.25)


def _nice_span(span: float, ticks: int = 5) -> tuple[float, float]:
    """(rounded span, tick step) with at most ``ticks`` intervals of a round step."""
    step = next((s for s in _STEPS if span / s <= ticks + 1e-9), 0.25)
    return min(1.0, math.ceil(span / step - 1e-9) * step), step


def tradeoff_chart(points: Sequence[TradeoffPoint], *, width: int = 520, height: int = 360) -> Markup:
    """Scatter of JRR (up is safer) against FRR (left is more helpful) with 95 % CI whiskers.

    Axes zoom to the data (rounded to 5 points) so near-perfect models stay readable; the ideal
    corner is top-left. Points of the same ``series`` (before/after) are joined by an arrow.
    """
    usable = [p for p in points if p.jrr.value is not None and p.frr.value is not None]
    if not usable:
        return _empty(width, 120, "No probes with both JRR and FRR measured: nothing to plot.")
    x_hi, x_step = _nice_span(max(0.2, *(p.frr.ci_high or 0.0 for p in usable)) + 0.02)
    y_span, y_step = _nice_span(1 - min(0.8, *(p.jrr.ci_low or 0.0 for p in usable)) + 0.02)
    y_lo = max(0.0, 1 - y_span)
    left, right, top, bottom = 58, 20, 24, 46
    pw, ph = width - left - right, height - top - bottom

    def sx(v: float) -> float:
        return left + pw * v / x_hi

    def sy(v: float) -> float:
        return top + ph * (1 - (v - y_lo) / (1 - y_lo))

    out = [_open(width, height, "Jailbreak rejection rate versus false rejection rate")]
    out.append(
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
        f'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{MUTED}"/></marker></defs>'
    )
    out.extend(_grid(sx, sy, (x_hi, x_step), (y_lo, y_step), (left, top, pw, ph)))
    out.append(
        f'<text x="{left}" y="{top - 7}" fill="{GOOD}" font-size="11" {FONT}>◤ ideal: safe and helpful</text>'
    )
    series: dict[int, list[TradeoffPoint]] = {}
    for p in usable:
        series.setdefault(p.series, []).append(p)
    for pts in series.values():
        if len(pts) == 2:
            a, b = pts
            out.append(
                f'<line x1="{sx(a.frr.value or 0):.1f}" y1="{sy(a.jrr.value or 0):.1f}" '
                f'x2="{sx(b.frr.value or 0):.1f}" y2="{sy(b.jrr.value or 0):.1f}" stroke="{MUTED}" '
                'stroke-width="1.5" stroke-dasharray="4 3" marker-end="url(#arrow)"/>'
            )
    for p in usable:
        out.append(_point(p, sx, sy, left + pw))
    out.append("</svg>")
    return Markup("".join(out))


def _ticks(start: float, stop: float, step: float) -> list[float]:
    count = round((stop - start) / step)
    return [start + step * i for i in range(count + 1)]


def _grid(
    sx: Scale,
    sy: Scale,
    x_axis: tuple[float, float],
    y_axis: tuple[float, float],
    box: tuple[int, int, int, int],
) -> list[str]:
    (x_hi, x_step), (y_lo, y_step), (left, top, pw, ph) = x_axis, y_axis, box
    parts = []
    for xv in _ticks(0.0, x_hi, x_step):
        parts.append(
            f'<line x1="{sx(xv):.1f}" y1="{top}" x2="{sx(xv):.1f}" y2="{top + ph}" stroke="{GRID}"/>'
        )
        parts.append(
            f'<text x="{sx(xv):.1f}" y="{top + ph + 16}" text-anchor="middle" font-size="11" '
            f'fill="{MUTED}" {FONT}>{100 * xv:.0f}%</text>'
        )
    for yv in _ticks(y_lo, 1.0, y_step):
        parts.append(
            f'<line x1="{left}" y1="{sy(yv):.1f}" x2="{left + pw}" y2="{sy(yv):.1f}" stroke="{GRID}"/>'
        )
        parts.append(
            f'<text x="{left - 6}" y="{sy(yv) + 4:.1f}" text-anchor="end" font-size="11" '
            f'fill="{MUTED}" {FONT}>{100 * yv:.0f}%</text>'
        )
    parts.append(
        f'<text x="{left + pw / 2:.1f}" y="{top + ph + 36}" text-anchor="middle" font-size="12" fill="{INK}" '
        f"{FONT}>False rejection rate on safe prompts (lower is better) →</text>"
    )
    parts.append(
        f'<text transform="translate(14 {top + ph / 2:.1f}) rotate(-90)" text-anchor="middle" font-size="12" '
        f'fill="{INK}" {FONT}>Jailbreak rejection rate (higher is better) →</text>'
    )
    return parts


def _point(p: TradeoffPoint, sx: Scale, sy: Scale, right_edge: float) -> str:
    colour = PALETTE[p.series % len(PALETTE)]
    x, y = sx(p.frr.value or 0.0), sy(p.jrr.value or 0.0)
    flip_x = x < right_edge - 150  # labels near the right edge go on the left of the point
    title = (
        f"{p.label}: JRR {_pct(p.jrr.value)} (95% CI {_pct(p.jrr.ci_low)}–{_pct(p.jrr.ci_high)}, "
        f"n={p.jrr.n}); FRR {_pct(p.frr.value)} (95% CI {_pct(p.frr.ci_low)}–{_pct(p.frr.ci_high)}, "
        f"n={p.frr.n})"
    )
    fill = colour if p.after else "#ffffff"
    return (
        f"<g><title>{_e(title)}</title>"
        f'<line x1="{sx(p.frr.ci_low or 0):.1f}" y1="{y:.1f}" x2="{sx(p.frr.ci_high or 0):.1f}" y2="{y:.1f}" '
        f'stroke="{colour}" stroke-width="1.5"/>'
        f'<line x1="{x:.1f}" y1="{sy(p.jrr.ci_low or 0):.1f}" x2="{x:.1f}" y2="{sy(p.jrr.ci_high or 0):.1f}" '
        f'stroke="{colour}" stroke-width="1.5"/>'
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5.5" fill="{fill}" stroke="{colour}" stroke-width="2.5"/>'
        f'<text x="{x + 9 if flip_x else x - 9:.1f}" y="{y - 8 if y > 40 else y + 18:.1f}" font-size="11" '
        f'text-anchor="{"start" if flip_x else "end"}" fill="{INK}" {FONT}>'
        f"{_e(_short(p.label, 30))}</text>"
        "</g>"
    )


def bar_chart(
    rows: Sequence[tuple[str, Rate]], *, title: str, width: int = 520, lower_is_better: bool = False
) -> Markup:
    """Horizontal bars of a rate per group with 95 % CI error bars and n beside each bar."""
    rows = [(name, rate) for name, rate in rows if rate.value is not None]
    if not rows:
        return _empty(width, 60, f"{title}: nothing measured.")
    label_w, right, row_h, top = 170, 96, 24, 8
    pw = width - label_w - right
    height = top + row_h * len(rows) + 26
    out = [_open(width, height, title)]
    for i in range(6):
        x = label_w + pw * i / 5
        out.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{height - 22}" stroke="{GRID}"/>')
        out.append(
            f'<text x="{x:.1f}" y="{height - 8}" text-anchor="middle" font-size="10" fill="{MUTED}" {FONT}>'
            f"{20 * i}%</text>"
        )
    values = [rate.value or 0.0 for _, rate in rows]
    worst = None
    if max(values) > min(values):  # highlight the weakest group only when there is one
        worst = rows[values.index(max(values) if lower_is_better else min(values))][0]
    for i, (name, rate) in enumerate(rows):
        y = top + i * row_h
        value, low, high = rate.value or 0.0, rate.ci_low or 0.0, rate.ci_high or 0.0
        colour = BAD if name == worst else ACCENT
        tip = f"{name}: {_pct(value)} (95% CI {_pct(low)}–{_pct(high)}), n={rate.n}, k={rate.k}"
        out.append(
            f"<g><title>{_e(tip)}</title>"
            f'<text x="{label_w - 8}" y="{y + 16}" text-anchor="end" font-size="12" fill="{INK}" {FONT}>'
            f"{_e(_short(name))}</text>"
            f'<rect x="{label_w}" y="{y + 5}" width="{max(pw * value, 1.5):.1f}" '
            f'height="{row_h - 10}" rx="2" '
            f'fill="{colour}" fill-opacity="0.8"/>'
            f'<line x1="{label_w + pw * low:.1f}" y1="{y + row_h / 2:.1f}" x2="{label_w + pw * high:.1f}" '
            f'y2="{y + row_h / 2:.1f}" stroke="{INK}" stroke-width="1.2"/>'
            + "".join(
                f'<line x1="{label_w + pw * v:.1f}" y1="{y + 7}" x2="{label_w + pw * v:.1f}" '
                f'y2="{y + row_h - 7}" '
                f'stroke="{INK}" stroke-width="1.2"/>'
                for v in (low, high)
            )
            + f'<text x="{label_w + pw + 8}" y="{y + 16}" font-size="11" fill="{INK}" {FONT}>'
            f"{_pct(value)} · n={rate.n}</text></g>"
        )
    out.append("</svg>")
    return Markup("".join(out))


def _open(width: int, height: int, title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-label="{_e(title)}"><title>{_e(title)}</title>'
    )


def _empty(width: int, height: int, message: str) -> Markup:
    return Markup(
        _open(width, height, message)
        + f'<text x="12" y="{height / 2:.0f}" font-size="12" fill="{MUTED}" {FONT}>{_e(message)}</text></svg>'
    )
