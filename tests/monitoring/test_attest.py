"""The three monitoring attestations on both store backends, and the coverage they produce."""

from __future__ import annotations

import json

from aisec.core.digest import digest_bytes
from aisec.core.evidence import EvidenceStore, SigningKey
from aisec.core.predicates.monitoring import InventoryPredicate
from aisec.monitoring import EnterpriseTruth, discover
from aisec.monitoring._attest import attest_bom, attest_governance, attest_inventory
from aisec.monitoring._bom import build_bom
from aisec.monitoring._govern import governance_report, render_html, render_text
from aisec.registry import CONTROLS


def test_attestations_and_coverage(
    enterprise: EnterpriseTruth, store_url: str, signing_key: SigningKey
) -> None:
    r = enterprise.root
    inv = discover(
        registry=str(r / "registry.json"),
        logs=[r / "logs"],
        billing=[r / "billing"],
        saas=[r / "saas"],
        code=[r / "repo"],
        assets=r / "assets.csv",
        git=False,
    )
    doc = inv.to_json()
    body = json.dumps(doc).encode()
    with EvidenceStore.open(store_url) as store:
        before = governance_report(store, CONTROLS, doc)
        assert all(f["coverage"] == 0.0 for f in before["frameworks"])
        entry = attest_inventory(store, signing_key, body, doc)
        inv = InventoryPredicate.from_statement(entry.statement)
        assert [(s.name, s.digest) for s in inv.subjects] == [
            ("inventory.json", digest_bytes(body))
        ]
        assert {i.digest for i in inv.inputs} == {i["digest"] for i in doc["inputs"]}
        bom = build_bom(doc)
        attest_bom(store, signing_key, json.dumps(bom).encode(), bom)
        report = governance_report(store, CONTROLS, doc)
        attest_governance(store, signing_key, render_text(report).encode(), report)
        after = governance_report(store, CONTROLS, doc)
        assert store.findings()  # the shadow AI findings are indexed by the store
    cov = {f["key"]: f for f in after["frameworks"]}
    assert cov["saif"]["covered"] == ["SAIF-6"]
    assert cov["nist"]["covered"] == ["GOVERN"]
    assert 0.0 < cov["iso"]["coverage"] < 1.0
    mon = next(s for s in after["stages"] if s["id"] == "monitoring")
    assert {c["id"]: c["attestations"] for c in mon["controls"]} == {
        "monitoring/inventory": 1,
        "monitoring/inventory-update": 0,
        "monitoring/ai-bom": 1,
        "monitoring/governance": 1,
    }
    no_owner = after["inventory"]["no_owner"]
    # reconciled owners: every system has a registry owner or a team with evidence
    assert no_owner == [s["name"] for s in doc["systems"] if not s["owner"] and not s["team"]]
    assert after["inventory"]["registered_seen"] == doc["summary"]["registered"]
    page = render_html(after)
    assert page.count("<svg") == 2 and "<script" not in page


def test_html_escapes_hostile_names(signing_key: SigningKey) -> None:
    inv = {
        "summary": {"systems": 1, "shadow": 1},
        "systems": [
            {
                "id": "s",
                "name": "<script>alert(1)</script>",
                "kind": "saas-ai-feature",
                "registered": False,
                "owner_candidates": ["<img src=x onerror=alert(1)>"],
            }
        ],
    }
    with EvidenceStore.open() as store:
        page = render_html(governance_report(store, CONTROLS, inv))
    assert "<script>" not in page and "<img" not in page and "&lt;script&gt;" in page
