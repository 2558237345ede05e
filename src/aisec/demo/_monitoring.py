"""Stage 6 of the demo: discover the synthetic enterprise's AI, expose shadow AI, BOM."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from aisec.demo._context import DemoContext
from aisec.monitoring import (
    attest_bom,
    attest_governance,
    attest_inventory,
    build_bom,
    discover,
    governance_report,
    synth_enterprise,
    update_system,
)
from aisec.registry import CONTROLS

__all__ = ["run_monitoring"]


#: The demo's own release, as its team registers it beside the enterprise's other models.
_RELEASE_NAME = "readmission-risk"


def _register_release(registry: Path) -> None:
    """Add the release the demo just deployed to the (MLflow export) model registry."""
    doc = json.loads(registry.read_text(encoding="utf-8"))
    doc.setdefault("registered_models", []).append(
        {
            "name": _RELEASE_NAME,
            "description": "30-day readmission risk classifier (the demo's release)",
            "tags": [{"key": "team", "value": "clinical-ml"}],
            "latest_versions": [{"version": "1", "current_stage": "Production"}],
        }
    )
    registry.write_text(json.dumps(doc, indent=1), encoding="utf-8")


def run_monitoring(ctx: DemoContext, release: Path | None = None) -> None:
    with ctx.stage("monitoring", "discover every AI system in use; expose shadow AI") as s:
        enterprise = ctx.workdir / "enterprise"
        shutil.rmtree(enterprise, ignore_errors=True)  # the demo's own synthetic data
        truth = synth_enterprise(enterprise, seed=1)
        root = truth.root
        if release is not None:
            _register_release(root / "registry.json")
        inventory = discover(
            registry=str(root / "registry.json"),
            logs=[root / "logs"],
            billing=[root / "billing"],
            saas=[root / "saas"],
            code=[root / "repo"],
            assets=root / "assets.csv",
        )
        doc = inventory.to_json()
        body = json.dumps(doc, sort_keys=True).encode()
        (ctx.path("monitoring", "inventory.json")).write_bytes(body)
        attest_inventory(ctx.store, ctx.key, body, doc)
        if release is not None:
            # the registered release runs this model: its chain now reaches the inventory
            update_system(ctx.store, ctx.key, _RELEASE_NAME, {}, model=release)
            s.lines.append(f"{_RELEASE_NAME}: registered, linked to the release by digest")
        bom = build_bom(doc)
        bom_bytes = json.dumps(bom, sort_keys=True).encode()
        ctx.path("monitoring", "ai-bom.cdx.json").write_bytes(bom_bytes)
        attest_bom(ctx.store, ctx.key, bom_bytes, bom)
        systems = doc["systems"]
        shadow = [x for x in systems if not x.get("registered")]
        s.lines.append(
            f"{len(systems)} AI systems found; the registry knew "
            f"{len(systems) - len(shadow)}; {len(shadow)} are shadow AI"
        )
        for x in shadow[:3]:
            s.lines.append(f"shadow: {x.get('name')} ({x.get('kind')})")
        report = governance_report(ctx.store, CONTROLS, doc)
        report_bytes = json.dumps(report, sort_keys=True, default=str).encode()
        attest_governance(ctx.store, ctx.key, report_bytes, report)
        s.lines.append("CycloneDX ML-BOM written; governance coverage recorded")
        expected = truth.total + (1 if release is not None else 0)
        s.ok = len(systems) == expected and len(shadow) == len(truth.shadow)
        s.facts.update(systems=len(systems), shadow=len(shadow))
