"""Governance report: framework coverage computed from the evidence store, plus shadow AI.

Coverage rule: a control *has evidence* when the store holds at least one attestation of
its predicate type; a stage is covered when one of its controls has evidence; a framework
id (ATLAS, OWASP LLM 2025, SAIF, NIST AI RMF, ISO/IEC 42001) that the catalog maps to a
stage is covered when that stage is. Coverage is the share of mapped ids covered.
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from aisec import __version__
from aisec.core.controls import Control
from aisec.core.evidence import EvidenceStore
from aisec.core.frameworks import load_catalog
from aisec.monitoring._state import current_inventory

__all__ = ["GOVERNANCE_SCHEMA", "governance_report", "render_html", "render_text"]

GOVERNANCE_SCHEMA = "aisec.governance/v1"
_FRAMEWORKS = (
    ("atlas", "MITRE ATLAS"),
    ("owasp", "OWASP LLM 2025"),
    ("saif", "Google SAIF"),
    ("nist", "NIST AI RMF"),
    ("iso", "ISO/IEC 42001"),
)


def governance_report(
    store: EvidenceStore,
    controls: Sequence[Control],
    inventory: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Coverage of ``controls`` (``aisec.registry.CONTROLS``) by the evidence in ``store``."""
    cat = load_catalog()
    stages = []
    mapped: dict[str, set[str]] = {k: set() for k, _ in _FRAMEWORKS}
    covered: dict[str, set[str]] = {k: set() for k, _ in _FRAMEWORKS}
    findings = Counter(f.stage for _, f in store.findings())
    for stage in cat.stages:
        rows: list[dict[str, Any]] = []
        for c in (c for c in controls if c.stage == stage.id):
            n = sum(len(store.entries(predicate_type=t)) for t in c.predicate_types)
            rows.append(
                {
                    "id": c.id,
                    "name": c.name,
                    "predicate_type": c.predicate_type,
                    "attestations": n,
                    "evidence": n > 0,
                }
            )
        has = any(r["evidence"] for r in rows)
        for key, _ in _FRAMEWORKS:
            ids = set(getattr(stage, key))
            mapped[key] |= ids
            if has:
                covered[key] |= ids
        stages.append(
            {
                "id": stage.id,
                "name": stage.name,
                "covered": has,
                "controls": rows,
                "findings": findings.get(stage.id, 0),
                **{k: list(getattr(stage, k)) for k, _ in _FRAMEWORKS},
            }
        )
    frameworks = [
        {
            "key": key,
            "name": name,
            "mapped": sorted(mapped[key]),
            "covered": sorted(covered[key]),
            "missing": sorted(mapped[key] - covered[key]),
            "coverage": round(len(covered[key]) / len(mapped[key]), 3) if mapped[key] else 0.0,
        }
        for key, name in _FRAMEWORKS
    ]
    report: dict[str, Any] = {
        "schema": GOVERNANCE_SCHEMA,
        "tool": {"name": "aisec", "version": __version__},
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "store": {"entries": store.size()},
        "stages": stages,
        "frameworks": frameworks,
        "inventory": None,
    }
    systems: list[Mapping[str, Any]] | None = None
    summary: Any = None
    if inventory is not None:
        systems, summary = list(inventory.get("systems") or []), inventory.get("summary")
    else:
        stored = current_inventory(store)
        if stored is not None:
            shadow = sum(1 for s in stored if not s.get("registered"))
            systems = list(stored)
            summary = {"systems": len(stored), "registered": len(stored) - shadow, "shadow": shadow}
    if systems is not None:
        report["inventory"] = {
            "summary": summary,
            "not_reviewed": [s["name"] for s in systems if not s.get("reviewed")],
            "shadow": [
                {
                    "id": s["id"],
                    "name": s["name"],
                    "kind": s["kind"],
                    "team": s.get("team"),
                    "owner_candidates": s.get("owner_candidates", [])[:3],
                    "sources": s.get("sources", []),
                }
                for s in systems
                if not s.get("registered")
            ],
            "registered_seen": sum(
                1
                for s in systems
                if s.get("registered") and (s.get("evidence") or s.get("sources"))
            ),
            "registered_unseen": [
                s["name"]
                for s in systems
                if s.get("registered") and not (s.get("evidence") or s.get("sources"))
            ],
            # reconciled owners: a registry owner, or a team from tags, assets or CODEOWNERS
            "no_owner": [s["name"] for s in systems if not s.get("owner") and not s.get("team")],
        }
    return report


def render_text(report: Mapping[str, Any]) -> str:
    lines = [f"aisec governance report ({report['store']['entries']} evidence entries)", ""]
    lines += [
        f"  {f['name']:<16} {f['coverage'] * 100:5.1f}%  "
        f"{len(f['covered'])}/{len(f['mapped'])} mapped ids with evidence"
        for f in report["frameworks"]
    ]
    lines.append("")
    for s in report["stages"]:
        done = [c["id"] for c in s["controls"] if c["evidence"]]
        lines.append(
            f"  {s['id']:<11} {'covered' if s['covered'] else 'NO EVIDENCE':<12} "
            f"controls with evidence: {', '.join(done) or '-'}"
        )
    inv = report.get("inventory")
    if inv:
        summ = inv["summary"] or {}
        lines += ["", f"  inventory: {summ.get('systems')} systems, {summ.get('shadow')} shadow AI"]
        lines += [
            f"    shadow: {s['name']} ({s['kind']}; team {s.get('team') or 'unknown'})"
            for s in inv["shadow"]
        ]
        lines.append(f"  no owner: {len(inv['no_owner'])}: {', '.join(inv['no_owner'])}")
        lines.append(f"  not reviewed: {len(inv['not_reviewed'])} of {summ.get('systems')}")
    return "\n".join(lines) + "\n"


def _bars(items: list[tuple[str, float]]) -> str:
    h = 26 * len(items) + 10
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="520" height="{h}" role="img">']
    for i, (label, value) in enumerate(items):
        y = 10 + i * 26
        w = int(300 * max(0.0, min(1.0, value)))
        parts.append(
            f'<text x="0" y="{y + 14}" font-size="12">{html.escape(label)}</text>'
            f'<rect x="150" y="{y}" width="300" height="18" fill="#eee"/>'
            f'<rect x="150" y="{y}" width="{w}" height="18" fill="#2a7"/>'
            f'<text x="{460}" y="{y + 14}" font-size="12">{value * 100:.0f}%</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def render_html(report: Mapping[str, Any]) -> str:
    """A self-contained page (inline CSS and SVG, no scripts, every value escaped)."""
    e = html.escape
    fw = _bars([(f["name"], f["coverage"]) for f in report["frameworks"]])
    st = _bars([(s["id"], 1.0 if s["covered"] else 0.0) for s in report["stages"]])
    rows = "".join(
        f"<tr><td>{e(s['id'])}</td><td>{e(c['id'])}</td><td>{c['attestations']}</td></tr>"
        for s in report["stages"]
        for c in s["controls"]
    )
    inv = report.get("inventory") or {}
    shadow = "".join(
        f"<tr><td>{e(s['name'])}</td><td>{e(s['kind'])}</td>"
        f"<td>{e(', '.join(s['owner_candidates']))}</td></tr>"
        for s in inv.get("shadow", [])
    )
    summ = inv.get("summary") or {}
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>aisec governance report</title>"
        "<style>body{font-family:sans-serif;margin:2em}td,th{padding:2px 8px;text-align:left}"
        "table{border-collapse:collapse}tr:nth-child(even){background:#f6f6f6}</style></head>"
        f"<body><h1>AI governance report</h1><p>Generated {e(report['generated_at'])} from "
        f"{report['store']['entries']} evidence entries.</p><h2>Framework coverage</h2>{fw}"
        f"<h2>Lifecycle stages with evidence</h2>{st}<h2>Controls</h2><table><tr><th>stage</th>"
        f"<th>control</th><th>attestations</th></tr>{rows}</table>"
        f"<h2>Inventory</h2><p>{e(str(summ.get('systems', '-')))} systems, "
        f"{e(str(summ.get('shadow', '-')))} shadow AI.</p><table><tr><th>shadow system</th>"
        f"<th>kind</th><th>owner candidates</th></tr>{shadow}</table></body></html>\n"
    )
