"""A self-contained HTML report: inline CSS and one inline SVG interval plot per category.

Rendered with Jinja2 and autoescaping on: transcripts are hostile text and must never
become markup. No script, no external resource.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["render_html"]


def _plot(c: Mapping[str, Any]) -> str:
    """An interval plot: axis 0-100 %, threshold line, interval bar, point estimate."""
    width, left, right = 320, 10, 310

    def x(v: float) -> float:
        return left + (right - left) * max(0.0, min(1.0, float(v)))

    colour = {"vulnerable": "#b00020", "not-vulnerable": "#1b5e20"}.get(c["verdict"], "#8a6d00")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="34" role="img" '
        f'aria-label="interval">'
        f'<line x1="{left}" y1="14" x2="{right}" y2="14" stroke="#ccc"/>'
        f'<line x1="{x(c["threshold"]):.1f}" y1="4" x2="{x(c["threshold"]):.1f}" y2="24" '
        f'stroke="#555" stroke-dasharray="2,2"/>'
        f'<line x1="{x(c["ci_low"]):.1f}" y1="14" x2="{x(c["ci_high"]):.1f}" y2="14" '
        f'stroke="{colour}" stroke-width="6"/>'
        f'<circle cx="{x(c["rate"]):.1f}" cy="14" r="4" fill="#fff" stroke="{colour}"/>'
        f'<text x="{left}" y="32">0%</text><text x="{right - 22}" y="32">100%</text></svg>'
    )


def render_html(report: Mapping[str, Any]) -> str:
    from importlib import resources

    import jinja2
    from markupsafe import Markup

    source = resources.files("aisec.evaluation").joinpath("data/report.html.j2")
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    template = env.from_string(source.read_text("utf-8"))
    return template.render(
        plot=lambda c: Markup(_plot(c)),  # noqa: S704 - built only from numbers and fixed text
        **report,
    )
