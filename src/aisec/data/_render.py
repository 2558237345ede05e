"""Audit report renderers: text (rich), self-contained HTML with inline SVG, flagged-row CSV.

The HTML has no script and loads nothing: every value is escaped by Jinja2's autoescape
and the plots are inline SVG. The CSV neutralises cells a spreadsheet would run as a
formula (a leading ``=``, ``+``, ``-``, ``@``, tab or carriage return gets a ``'``).
"""

from __future__ import annotations

import csv
from typing import Any, TextIO

from jinja2 import Environment
from rich.console import Console
from rich.table import Table as RichTable

__all__ = ["render_html", "render_text", "safe_cell", "write_flagged_csv"]

_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """A cell value that no spreadsheet will evaluate."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA) else text


def write_flagged_csv(report: dict[str, Any], out: TextIO) -> int:
    writer = csv.writer(out)
    writer.writerow(["id", "row", "source", "checks", "scores"])
    for r in report["flagged_rows"]:
        writer.writerow(
            [
                safe_cell(r["id"]),
                r["row"],
                safe_cell(r["source"]),
                ";".join(c["check"] for c in r["checks"]),
                ";".join(f"{c['score']:g}" for c in r["checks"]),
            ]
        )
    return len(report["flagged_rows"])


def render_text(report: dict[str, Any], console: Console) -> None:
    ds = report["dataset"]
    console.print(
        f"data audit of {ds['path']} ({ds['rows']} rows, {ds['columns']} columns) {ds['digest']}",
        markup=False,
    )
    console.print(f"overall risk {report['risk']['overall']:.2f}", markup=False)
    checked = report.get("rows_checked")
    if checked:
        console.print(
            f"rows checked: all {checked['rows']} by " + ", ".join(checked["every_row"]) + "; "
            f"{', '.join(checked['model_based']['checks'])}: {checked['model_based']['note']}",
            markup=False,
        )
    t = RichTable(title="sources, riskiest first")
    for col in ("rank", "source", "rows", "risk", "95% CI", "main components", "flags"):
        t.add_column(col)
    for s in report["sources"]:
        comps = sorted(
            (
                (k, v["rate"], v.get("contribution", 0.0))
                for k, v in s["components"].items()
                if v.get("rate")
            ),
            key=lambda kv: -kv[2],
        )[:3]
        t.add_row(
            str(s["rank"]),
            s["name"],
            str(s["rows"]),
            f"{s['risk']:.2f}",
            f"{s['ci'][0]:.2f}-{s['ci'][1]:.2f}",
            ", ".join(f"{k} {v:.1%} (+{w:.2f})" for k, v, w in comps) or "-",
            ", ".join(s["components"]["provenance"]["flags"]) or "-",
        )
    console.print(t)
    console.print(
        "rows flagged by check: " + ", ".join(f"{k} {v}" for k, v in report["checks"].items() if v),
        markup=False,
    )
    for t in report["triggers"]:
        cond = " and ".join(f"{c['column']} = {c['value']}" for c in t["conditions"])
        console.print(
            f"trigger in {t['source']}: {cond} -> label {t['label']} ({t['rows']} rows)",
            markup=False,
        )
    for g in report.get("gross_errors", [])[:10]:
        console.print(
            f"gross error: {g['id']} {g['column']}={g['value']:g} (median {g['median']:g}, "
            f"robust z {g['robust_z']:.1f}): {g['cause']}",
            markup=False,
        )
    for d in report["drift"]:
        if d["drifted"]:
            console.print(
                f"drift: {d['column']} [{d.get('kind', '')}] {', '.join(d.get('why', []))} "
                f"({d['test']} p_adj={d.get('p_adjusted', d['p_value']):.3g}, "
                f"effect={d.get('effect', 0.0):.3f}, psi={d['psi']:.3f})",
                markup=False,
            )
    for s in report["sources"]:
        for c in s["controls"]:
            console.print(f"control for {s['name']}: {c}", markup=False)
    for note in report["skipped"]:
        console.print(f"skipped: {note}", markup=False)


def _bars_svg(
    items: list[tuple[str, float, float, float]],
    *,
    shown: list[str] | None = None,
    width: int = 560,
) -> str:
    """Horizontal bars 0..1 with an interval whisker: (label, value, low, high).

    ``shown`` replaces the number printed after each bar (counts instead of shares).
    """
    row, left, plot = 26, 140, width - 160
    height = row * len(items) + 30
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        'role="img" font-family="sans-serif" font-size="12">'
    ]
    for i, (label, value, low, high) in enumerate(items):
        y = 10 + i * row
        parts.append(f'<text x="{left - 6}" y="{y + 14}" text-anchor="end">{_esc(label)}</text>')
        parts.append(
            f'<rect x="{left}" y="{y + 3}" width="{value * plot:.1f}" height="14" '
            'fill="#c0392b" opacity="0.75"/>'
        )
        x0, x1 = left + low * plot, left + high * plot
        parts.append(
            f'<line x1="{x0:.1f}" x2="{x1:.1f}" y1="{y + 10}" y2="{y + 10}" stroke="#222"/>'
            f'<line x1="{x0:.1f}" x2="{x0:.1f}" y1="{y + 5}" y2="{y + 15}" stroke="#222"/>'
            f'<line x1="{x1:.1f}" x2="{x1:.1f}" y1="{y + 5}" y2="{y + 15}" stroke="#222"/>'
        )
        text = shown[i] if shown else f"{value:.2f}"
        parts.append(f'<text x="{left + plot + 6}" y="{y + 14}">{_esc(text)}</text>')
    axis_y = 10 + len(items) * row
    parts.append(
        f'<line x1="{left}" x2="{left + plot}" y1="{axis_y}" y2="{axis_y}" stroke="#999"/>'
    )
    parts.extend(
        f'<text x="{left + tick * plot:.1f}" y="{axis_y + 14}" text-anchor="middle">{tick:g}</text>'
        for tick in (0, 0.5, 1)
    )
    parts.append("</svg>")
    return "".join(parts)


def _esc(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>aisec data audit: {{ ds.path }}</title>
<style>body{font-family:sans-serif;margin:2em;max-width:60em}table{border-collapse:collapse}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}.high{color:#c0392b}</style>
</head><body>
<h1>Data audit</h1>
<p>{{ ds.path }} &mdash; {{ ds.rows }} rows, {{ ds.columns }} columns,
<code>{{ ds.digest }}</code></p>
<p>Overall risk <b>{{ "%.2f"|format(report.risk.overall) }}</b>.
{% if report.rows_checked %}Every one of {{ report.rows_checked.rows }} rows checked by
{{ report.rows_checked.every_row|join(", ") }};
{{ report.rows_checked.model_based.checks|join(", ") }}:
{{ report.rows_checked.model_based.note }}.{% endif %}</p>
<h2>Risk per source (95% interval)</h2>
{{ risk_svg|safe }}
<table><tr><th>rank</th><th>source</th><th>rows</th><th>risk</th><th>interval</th>
<th>provenance flags</th><th>controls</th></tr>
{% for s in report.sources %}<tr><td>{{ s.rank }}</td><td>{{ s.name }}</td><td>{{ s.rows }}</td>
<td>{{ "%.2f"|format(s.risk) }}</td>
<td>{{ "%.2f"|format(s.ci[0]) }}&ndash;{{ "%.2f"|format(s.ci[1]) }}</td>
<td>{{ s.components.provenance.flags|join(", ") }}</td>
<td><ul>{% for c in s.controls %}<li>{{ c }}</li>{% endfor %}</ul></td></tr>
{% endfor %}</table>
<h2>Rows flagged by check</h2>
{{ checks_svg|safe }}
{% if report.drift %}<h2>Drift against the reference</h2><table>
<tr><th>column</th><th>test</th><th>statistic</th><th>p</th><th>PSI</th><th>drifted</th></tr>
{% for d in report.drift %}<tr><td>{{ d.column }}</td><td>{{ d.test }}</td>
<td>{{ d.statistic }}</td>
<td>{{ d.p_value }}</td><td>{{ d.psi }}</td><td>{{ "yes" if d.drifted else "no" }}</td></tr>
{% endfor %}</table>{% endif %}
<h2>Findings</h2><table><tr><th>id</th><th>severity</th><th>detail</th><th>maps to</th></tr>
{% for f in report.findings %}<tr><td>{{ f.id }}</td><td>{{ f.severity }}</td>
<td>{{ f.detail }}</td><td>{{ (f.mappings.atlas + f.mappings.owasp_llm + f.mappings.saif
 + f.mappings.nist_ai_rmf)|join(", ") }}</td></tr>
{% endfor %}</table>
<h2>First flagged rows</h2><table><tr><th>id</th><th>source</th><th>checks</th></tr>
{% for r in report.flagged_rows[:50] %}<tr><td>{{ r.id }}</td><td>{{ r.source }}</td>
<td>{% for c in r.checks %}{{ c.check }} ({{ "%.2f"|format(c.score) }}) {% endfor %}</td></tr>
{% endfor %}</table>
</body></html>
"""


def render_html(report: dict[str, Any]) -> str:
    env = Environment(autoescape=True)
    risk = [(s["name"], s["risk"], s["ci"][0], s["ci"][1]) for s in report["sources"]]
    top = max([1, *report["checks"].values()])
    checks = [(k, v / top, v / top, v / top) for k, v in report["checks"].items()]
    return env.from_string(_TEMPLATE).render(
        report=report,
        ds=report["dataset"],
        risk_svg=_bars_svg(risk),
        checks_svg=_bars_svg(checks, shown=[str(v) for v in report["checks"].values()]),
    )
