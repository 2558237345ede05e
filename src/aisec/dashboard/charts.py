"""Small inline-SVG charts.

Hand-written rather than matplotlib or a JS library: the pages must be self-contained
(no CDN, no script), light to serve, and these two chart shapes need ~80 lines. Every
label is XML-escaped: it may come from evidence.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

__all__ = ["bar_counts_svg", "interval_svg"]

_W = 640
_ROW = 26
_LEFT = 190
_RIGHT = 70


def interval_svg(rows: Sequence[dict[str, Any]], *, title: str, axis: str = "rate") -> str:
    """A dot per row with a horizontal bar for its interval, on a 0..1 axis."""
    if not rows:
        return ""
    height = 40 + _ROW * len(rows) + 24
    span = _W - _LEFT - _RIGHT

    def x(v: float) -> float:
        return _LEFT + max(0.0, min(1.0, v)) * span

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {_W} {height}" '
        f'width="{_W}" height="{height}" class="chart"><title>{escape(title)}</title>',
        f'<text x="{_LEFT}" y="18" class="chart-title">{escape(title)}</text>',
    ]
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        tx = x(tick)
        parts.append(
            f'<line x1="{tx:.1f}" y1="28" x2="{tx:.1f}" y2="{height - 22}" class="grid"/>'
            f'<text x="{tx:.1f}" y="{height - 8}" text-anchor="middle" class="tick">'
            f"{tick:.0%}</text>"
        )
    for i, r in enumerate(rows):
        y = 40 + i * _ROW + _ROW / 2
        lo, hi, v = float(r["low"]), float(r["high"]), float(r["value"])
        label = escape(str(r["label"]))[:40]
        note = escape(str(r.get("note", "")))
        parts.append(
            f'<text x="{_LEFT - 8}" y="{y + 4:.1f}" text-anchor="end" class="label">{label}</text>'
            f'<line x1="{x(lo):.1f}" y1="{y:.1f}" x2="{x(hi):.1f}" y2="{y:.1f}" class="ci"/>'
            f'<circle cx="{x(v):.1f}" cy="{y:.1f}" r="4" class="point">'
            f"<title>{label}: {v:.1%} [{lo:.1%}, {hi:.1%}] {note}</title></circle>"
            f'<text x="{_W - _RIGHT + 6}" y="{y + 4:.1f}" class="tick">{v:.0%} '
            f"≤{hi:.0%}</text>"
        )
    parts.append(f'<text x="{_LEFT}" y="{height - 8}" class="tick" dx="-40">{escape(axis)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def bar_counts_svg(points: Sequence[tuple[str, int]], *, title: str) -> str:
    """Vertical bars of counts over ordered labels (e.g. alerts per hour)."""
    if not points:
        return ""
    height = 200
    top = max(c for _, c in points) or 1
    inner = _W - 60
    bw = max(2.0, inner / len(points) - 2)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {_W} {height}" '
        f'width="{_W}" height="{height}" class="chart"><title>{escape(title)}</title>',
        f'<text x="40" y="16" class="chart-title">{escape(title)}</text>',
    ]
    for i, (label, count) in enumerate(points):
        h = (height - 60) * count / top
        bx = 40 + i * (inner / len(points))
        parts.append(
            f'<rect x="{bx:.1f}" y="{height - 30 - h:.1f}" width="{bw:.1f}" height="{h:.1f}" '
            f'class="bar"><title>{escape(label)}: {count}</title></rect>'
        )
    parts.append(
        f'<text x="40" y="{height - 10}" class="tick">{escape(points[0][0])}</text>'
        f'<text x="{_W - 20}" y="{height - 10}" text-anchor="end" class="tick">'
        f"{escape(points[-1][0])}</text></svg>"
    )
    return "".join(parts)
