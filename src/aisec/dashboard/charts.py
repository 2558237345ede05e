"""Small inline-SVG charts.

Hand-written rather than matplotlib or a JS library: the pages must be self-contained
(no CDN, no script), light to serve, and these two chart shapes need ~80 lines. Every
label is XML-escaped: it may come from evidence.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

__all__ = ["bar_counts_svg", "chain_svg", "interval_svg"]

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
    """Vertical bars of counts over ordered labels (e.g. alerts per hour); every bar has its
    label as a tooltip, and a few evenly spaced labels are drawn under the axis."""
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
        f'<text x="30" y="{height - 34 - (height - 60):.1f}" text-anchor="end" class="tick">'
        f"{top}</text>"
    )
    ticks = sorted({0, len(points) - 1, *range(0, len(points), max(1, len(points) // 5))})
    for i in ticks:
        tx = 40 + i * (inner / len(points)) + bw / 2
        anchor = "start" if i == 0 else "end" if i == len(points) - 1 else "middle"
        parts.append(
            f'<text x="{tx:.1f}" y="{height - 10}" text-anchor="{anchor}" class="tick">'
            f"{escape(points[i][0])}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


_FILL = {
    "pass": "#e7f6ec",
    "fail": "#fde8e7",
    "unverified": "#fef0c7",
    "inconclusive": "#fef0c7",
    "recorded": "#eef4ff",
}


def chain_svg(chain: Any, *, per_stage: int = 6) -> str:
    """The chain of evidence as lanes: a column per stage, a box per attestation coloured by
    its result, lines from what was read to what read it; a stage with a gap is marked."""
    stages = list(chain.stages)
    col = _W * 1.6 / len(stages)
    width = col * len(stages)
    box_h, gap = 34, 8
    rows = max([1, *(min(per_stage, len(chain.stage_links(s))) for s in stages)])
    height = 46 + rows * (box_h + gap) + 10
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {width:.0f} '
        f'{height}" width="{width:.0f}" height="{height}" class="chart lanes">'
        "<title>Chain of evidence</title>"
    ]
    where: dict[int, tuple[float, float]] = {}
    for i, stage in enumerate(stages):
        x0 = i * col
        state = chain.stage_state(stage)
        colour = "#1f7a3d" if state == "ok" else "#b42318"
        parts.append(
            f'<text x="{x0 + 8:.1f}" y="18" class="chart-title">{escape(stage)}</text>'
            f'<text x="{x0 + 8:.1f}" y="32" class="tick" style="fill:{colour}">'
            f"{escape(state)}</text>"
        )
        links = chain.stage_links(stage)
        for j, link in enumerate(links[:per_stage]):
            y = 42 + j * (box_h + gap)
            result = link.result.value if link.result is not None else "recorded"
            label = escape(f"#{link.index} {link.control.split('/', 1)[-1]}")[:34]
            where[link.index] = (x0 + 6, y + box_h / 2)
            parts.append(
                f'<rect x="{x0 + 6:.1f}" y="{y}" width="{col - 16:.1f}" height="{box_h}" rx="5" '
                f'fill="{_FILL.get(result, "#fff")}" stroke="#9aa4b2">'
                f"<title>{label}: {escape(result)}</title></rect>"
                f'<text x="{x0 + 12:.1f}" y="{y + 14}" class="label">{label}</text>'
                f'<text x="{x0 + 12:.1f}" y="{y + 28}" class="tick">{escape(result)}</text>'
            )
        if len(links) > per_stage:
            parts.append(
                f'<text x="{x0 + 8:.1f}" y="{height - 4}" class="tick">'
                f"+{len(links) - per_stage} more</text>"
            )
    for a, b in chain.edges():
        if a in where and b in where and where[a][0] != where[b][0]:
            (xa, ya), (xb, yb) = where[a], where[b]
            parts.append(
                f'<line x1="{xa + col - 16:.1f}" y1="{ya:.1f}" x2="{xb:.1f}" y2="{yb:.1f}" '
                'stroke="#2453c6" stroke-width="1" opacity="0.6"/>'
            )
    parts.append("</svg>")
    return "".join(parts)
