"""Text and Markdown renderings of the JSON report."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["render_markdown", "render_text"]


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _row(c: Mapping[str, Any]) -> str:
    fams = (c.get("coverage") or {}).get("families_tried", 0)
    return (
        f"{c['id']:<28} {c['owasp']:<6} {c['successes']:>4}/{c['trials']:<5} "
        f"{_pct(c['rate']):>7}  [{_pct(c['ci_low'])}, {_pct(c['ci_high'])}]  "
        f"{fams:>3} {_pct(c['coverage_confidence']):>6}  {c['verdict_label']}"
    )


def render_text(report: Mapping[str, Any]) -> str:
    run = report["run"]
    lines = [
        f"red-team run {run['id']} against {report['target']['identifier']} "
        f"({run['requests']} requests, {run['prompt_tokens'] + run['completion_tokens']} "
        f"tokens, cost {run['cost']}, {run['seconds']}s, "
        f"{int(run['confidence'] * 100)}% Clopper-Pearson intervals, detector error folded in)",
        "",
        f"{'category':<28} {'OWASP':<6} {'hits/trials':<10} {'rate':>7}  interval  "
        "families coverage-confidence verdict",
    ]
    lines += [_row(c) for c in report["categories"]]
    for c in report["categories"]:
        if c["note"]:
            lines.append(f"  {c['id']}: {c['note']}")
        if c["why_not_adequate"] and c["verdict"] == "inconclusive":
            lines.append(f"  {c['id']}: not adequately tested - {c['why_not_adequate']}")
    seq = report["sequential"]
    lines += [
        "",
        f"sequential testing: {seq['requests_used']} trials instead of "
        f"{seq['fixed_design_requests']} ({seq['saved']} saved)",
    ]
    for e in report["exploration"]:
        lines.append(
            f"exploration (not in rates) {e['id']}: found in {e['found_in']} of "
            f"{len(e['runs'])} runs{' - ' + e['skipped'] if e['skipped'] else ''}"
        )
    for x in report.get("recurring_hidden_text") or ():
        lines.append(
            f"hidden text recurring across {len(x['attacks'])} attacks (not in any prompt): "
            f"{str(x['text'])[:100]!r}"
        )
    lines += ["", "residual risk:", f"  {report['residual_risk']}"]
    lines += ["", "not adequately tested:"]
    lines += [f"  - {x}" for x in report["not_adequately_tested"]] or ["  (nothing)"]
    return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ").replace("<", "&lt;").replace(">", "&gt;")


def _code(text: str) -> str:
    """A CommonMark code span: contents are literal (no entity or HTML decoding), so they
    are not HTML-escaped; the fence is one backtick longer than any run inside."""
    flat = " ".join(text.split())
    longest = max((len(r) for r in re.findall(r"`+", flat)), default=0)
    fence = "`" * (longest + 1)
    return f"{fence} {flat} {fence}" if flat else "` `"


def render_markdown(report: Mapping[str, Any]) -> str:
    run = report["run"]
    out = [
        f"# Red-team report `{run['id']}`",
        "",
        f"Target `{_md(report['target']['identifier'])}`, suite `{report['suite']['name']}` "
        f"(`{report['suite']['digest']}`), {run['requests']} requests, seed {run['seed']}. "
        f"Rates are attack success rates with {int(run['confidence'] * 100)}% Clopper-Pearson "
        "intervals corrected for measured detector error.",
        "",
        "| category | OWASP | ATLAS | successes / trials | rate | interval | threshold "
        "| families | coverage confidence | verdict |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    out.extend(
        f"| {c['id']} | {c['owasp']} | {', '.join(c['atlas'])} | {c['successes']} / "
        f"{c['trials']} | {_pct(c['rate'])} | {_pct(c['ci_low'])} - {_pct(c['ci_high'])} | "
        f"{_pct(c['threshold'])} | {(c.get('coverage') or {}).get('families_tried', 0)} | "
        f"{_pct(c['coverage_confidence'])} | **{c['verdict_label']}** |"
        for c in report["categories"]
    )
    out += ["", "## Residual risk", "", _md(report["residual_risk"])]
    recur = report.get("recurring_hidden_text") or []
    if recur:
        out += ["", "## Hidden text recurring across independent attacks", ""]
        out += [f"- {len(x['attacks'])} attacks: {_code(str(x['text']))}" for x in recur]
    out += ["", "## Categories not adequately tested", ""]
    out += [f"- `{x['id']}`: {_md(x['why'])}" for x in report["categories_not_tested"]] or [
        "- none"
    ]
    seq = report["sequential"]
    out += [
        "",
        f"Sequential testing used {seq['requests_used']} of "
        f"{seq['fixed_design_requests']} planned trials ({seq['saved']} saved).",
        "",
    ]
    out += ["## What we could not test adequately", ""]
    out += [f"- {_md(x)}" for x in report["not_adequately_tested"]] or ["- nothing"]
    out += ["", "## Exploration (multi-turn; not part of the rates)", ""]
    for e in report["exploration"]:
        out.append(
            f"- `{e['id']}` ({e['technique']}): found in {e['found_in']} of "
            f"{len(e['runs'])} runs {_md(e['skipped'])}"
        )
    out += ["", "## Attacks", ""]
    for c in report["categories"]:
        out.append(f"### {c['title']} ({c['owasp']})")
        for a in c["attacks"]:
            out.append(
                f"- `{a['id']}` {a['technique']}: {a['successes']}/{a['trials']}, "
                f"interval {_pct(a['ci_low'])} - {_pct(a['ci_high'])}"
            )
            for t in a["transcripts"][:1]:
                reply = t["messages"][1]["content"][:300]
                out.append(f"  - {t['outcome']}: reply {_code(reply)}")
        out.append("")
    return "\n".join(out) + "\n"
