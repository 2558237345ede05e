"""The validation report as one self-contained HTML page with inline SVG plots.

The plots are hand-written SVG (matplotlib is not a dependency of aisec): robustness vs
budget, membership ROC on log axes, extraction fidelity vs queries per option, group bars.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Sequence
from typing import Any

__all__ = ["render_html"]

_W, _H, _M = 420, 260, 40
_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")


def _esc(x: Any) -> str:
    return html.escape(str(x), quote=True)


def _chart(
    title: str,
    series: Sequence[tuple[str, Sequence[tuple[float, float]]]],
    *,
    xlabel: str,
    ylabel: str,
    logx: bool = False,
    logy: bool = False,
    diagonal: bool = False,
) -> str:
    pts = [p for _, s in series for p in s]
    if not pts:
        return ""

    def tx(v: float) -> float:
        return math.log10(max(v, 1e-4)) if logx else v

    def ty(v: float) -> float:
        return math.log10(max(v, 1e-4)) if logy else v

    xs, ys = [tx(p[0]) for p in pts], [ty(p[1]) for p in pts]
    x0, x1 = min(xs), max(xs)
    y0, y1 = (min(ys), max(ys)) if logy else (0.0, max(1.0, max(ys)))
    x1, y1 = (x1 if x1 > x0 else x0 + 1), (y1 if y1 > y0 else y0 + 1)

    def sx(v: float) -> float:
        return _M + (tx(v) - x0) / (x1 - x0) * (_W - 2 * _M)

    def sy(v: float) -> float:
        return _H - _M - (ty(v) - y0) / (y1 - y0) * (_H - 2 * _M)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_W}" height="{_H}" role="img">',
        f"<title>{_esc(title)}</title>",
        f'<text x="{_W / 2}" y="16" text-anchor="middle" font-size="13">{_esc(title)}</text>',
        f'<line x1="{_M}" y1="{_H - _M}" x2="{_W - _M}" y2="{_H - _M}" stroke="#333"/>',
        f'<line x1="{_M}" y1="{_M}" x2="{_M}" y2="{_H - _M}" stroke="#333"/>',
        f'<text x="{_W / 2}" y="{_H - 8}" text-anchor="middle" font-size="11">'
        f"{_esc(xlabel)}{' (log)' if logx else ''}</text>",
        f'<text x="12" y="{_H / 2}" font-size="11" transform="rotate(-90 12 {_H / 2})" '
        f'text-anchor="middle">{_esc(ylabel)}{" (log)" if logy else ""}</text>',
    ]
    for v, anchor in ((x0, "start"), (x1, "end")):
        label = f"{10**v:g}" if logx else f"{v:g}"
        xpos = _M if anchor == "start" else _W - _M
        parts.append(
            f'<text x="{xpos}" y="{_H - _M + 14}" font-size="10" '
            f'text-anchor="{anchor}">{label}</text>'
        )
    if diagonal:
        lo = max(10**x0 if logx else x0, 1e-4)
        hi = 10**x1 if logx else x1
        parts.append(
            f'<line x1="{sx(lo):.1f}" y1="{sy(lo):.1f}" x2="{sx(hi):.1f}" '
            f'y2="{sy(hi):.1f}" stroke="#aaa" stroke-dasharray="4"/>'
        )
    for i, (name, s) in enumerate(series):
        colour = _COLOURS[i % len(_COLOURS)]
        path = " ".join(f"{sx(a):.1f},{sy(b):.1f}" for a, b in s)
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{path}"/>')
        parts.append(
            f'<text x="{_W - _M + 2}" y="{_M + 14 * i}" font-size="10" '
            f'fill="{colour}">{_esc(name)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _bars(title: str, groups: Sequence[tuple[str, float, float, float]]) -> str:
    """Bars with interval whiskers: (label, value, low, high) in [0, 1]."""
    if not groups:
        return ""
    bw = (_W - 2 * _M) / len(groups)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_W}" height="{_H}" role="img">',
        f'<text x="{_W / 2}" y="16" text-anchor="middle" font-size="13">{_esc(title)}</text>',
        f'<line x1="{_M}" y1="{_H - _M}" x2="{_W - _M}" y2="{_H - _M}" stroke="#333"/>',
    ]
    h = _H - 2 * _M
    for i, (label, v, lo, hi) in enumerate(groups):
        x = _M + i * bw + bw * 0.15
        parts.append(
            f'<rect x="{x:.1f}" y="{_H - _M - v * h:.1f}" width="{bw * 0.7:.1f}" '
            f'height="{v * h:.1f}" fill="{_COLOURS[i % len(_COLOURS)]}"/>'
        )
        cx = x + bw * 0.35
        parts.append(
            f'<line x1="{cx:.1f}" y1="{_H - _M - lo * h:.1f}" x2="{cx:.1f}" '
            f'y2="{_H - _M - hi * h:.1f}" stroke="#000"/>'
        )
        parts.append(
            f'<text x="{cx:.1f}" y="{_H - _M + 14}" font-size="10" '
            f'text-anchor="middle">{_esc(label)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def render_html(report: Any) -> str:
    """A standalone page; every value from the run is escaped (names come from user data)."""
    body = [
        f"<h1>Model validation: {_esc(report.target_name)}</h1>",
        f"<p>{_esc(report.target_kind)} <code>{_esc(report.model_digest)}</code> — result "
        f"<b>{_esc(report.result.value)}</b></p>",
    ]
    if report.membership:
        body.append(
            "<h2>Membership inference</h2><table><tr><th>attack</th><th>AUC</th>"
            "<th>TPR@1%FPR</th><th>TPR@0.1%FPR</th></tr>"
        )
        for a in report.membership.attacks:
            m = a.metrics
            body.append(
                f"<tr><td>{_esc(a.name)}</td><td>{_esc(m['auc'].text())}</td><td>"
                f"{_esc(m['tpr_at_1pct_fpr'].text())}</td><td>"
                f"{_esc(m['tpr_at_01pct_fpr'].text())}</td></tr>"
            )
        body.append("</table>")
        body.append(
            _chart(
                "Membership ROC",
                [(a.name, [p for p in a.roc if p[0] > 0]) for a in report.membership.attacks],
                xlabel="FPR",
                ylabel="TPR",
                logx=True,
                logy=True,
                diagonal=True,
            )
        )
    if report.extraction:
        body.append(
            "<h2>Extraction cost per hardening option</h2><table><tr><th>option</th>"
            "<th>queries to fidelity</th><th>legit AUC</th><th>ECE</th>"
            "<th>decision agreement</th><th>gateway hardening</th></tr>"
        )
        for o in report.extraction:
            q = o.queries_to_fidelity
            gw = o.option.gateway_hardening()
            qs = str(q) if q is not None else f"&gt;{o.curve[-1][0]}"
            where = json.dumps(gw) if gw is not None else "model server"
            body.append(
                f"<tr><td>{_esc(o.option.name)}</td><td>{qs}</td><td>{o.legit_auc:.3f}</td>"
                f"<td>{o.legit_ece:.3f}</td><td>{o.legit_agreement:.3f}</td>"
                f"<td>{_esc(where)}</td></tr>"
            )
        body.append("</table>")
        body.append(
            _chart(
                "Extraction fidelity vs queries",
                [
                    (o.option.name, [(float(q), e.value) for q, e in o.curve])
                    for o in report.extraction
                ],
                xlabel="queries",
                ylabel="fidelity",
                logx=True,
            )
        )
    if report.evasion:
        e = report.evasion
        body.append(f"<h2>Evasion ({_esc(e.attack)})</h2>")
        body.append(
            _chart(
                "Attack success vs perturbation budget",
                [
                    ("success", [(b, est.value) for b, est in e.budgets]),
                    ("upper 95%", [(b, est.high) for b, est in e.budgets]),
                ],
                xlabel="budget",
                ylabel="success rate",
            )
        )
    for fr in report.fairness:
        body.append(
            f"<h2>Fairness by {_esc(fr.feature)}</h2><p>DP difference "
            f"{_esc(fr.demographic_parity_difference.text())}, EO difference "
            f"{_esc(fr.equalized_odds_difference.text())}</p>"
        )
        body.append(
            _bars(
                "Selection rate by group",
                [
                    (g.group, g.selection_rate.value, g.selection_rate.low, g.selection_rate.high)
                    for g in fr.groups
                ],
            )
        )
    if report.findings:
        body.append("<h2>Findings</h2><ul>")
        body += [
            f"<li>{_esc(f.id)} {_esc(f.severity.value)}: {_esc(f.detail)}</li>"
            for f in report.findings
        ]
        body.append("</ul>")
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>aisec model validate"
        "</title><style>body{font-family:sans-serif;max-width:60em;margin:auto}"
        "td,th{border:1px solid #ccc;padding:2px 6px}table{border-collapse:collapse}"
        "</style></head><body>" + "".join(body) + "</body></html>"
    )
