"""Attestations of the monitoring stage: inventory, ai-bom and governance (docs/inventory.md).

Each function builds the stage's typed predicate; :func:`record` hands it to a recorder.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aisec.core.controls import ControlResult
from aisec.core.digest import digest_bytes
from aisec.core.evidence import EvidenceStore, LogEntry, SigningKey
from aisec.core.findings import finding_from_json
from aisec.core.predicates import InputRef, RunInfo, SubjectRef
from aisec.core.predicates.monitoring import (
    BomPredicate,
    GovernancePredicate,
    InventoryPredicate,
    InventorySystem,
)

__all__ = [
    "attest_bom",
    "attest_governance",
    "attest_inventory",
    "bom_predicate",
    "governance_predicate",
    "inventory_predicate",
]


def inventory_predicate(document: bytes, inventory: Mapping[str, Any]) -> InventoryPredicate:
    """Subject: the inventory JSON's digest; inputs: each file discovery read."""
    summary = inventory["summary"]
    findings = tuple(finding_from_json(f) for f in inventory["findings"])
    return InventoryPredicate(
        result=ControlResult.FAIL if findings else ControlResult.PASS,
        findings=findings,
        subjects=(SubjectRef(name="inventory.json", digest=digest_bytes(document)),),
        inputs=tuple(
            InputRef(name=str(i["path"]), digest=str(i["digest"]), role=str(i["role"]))
            for i in inventory["inputs"]
            if i.get("digest")
        ),
        run=RunInfo(
            id=f"inventory-{digest_bytes(document)[7:19]}",
            status="shadow-ai" if summary["shadow"] else "clean",
        ),
        summary=summary,
        catalog_version=inventory["catalog_version"],
        registry=inventory["registry"],
        systems=tuple(
            InventorySystem(
                id=str(s["id"]),
                name=str(s["name"]),
                kind=str(s["kind"]),
                registered=bool(s.get("registered")),
                registry_id=s.get("registry_id"),
                provider=s.get("provider"),
                owner=s.get("owner"),
                owner_candidates=tuple((s.get("owner_candidates") or [])[:3]),
            )
            for s in inventory["systems"]
        ),
    )


def bom_predicate(document: bytes, bom: Mapping[str, Any]) -> BomPredicate:
    return BomPredicate(
        result=ControlResult.RECORDED,
        subjects=(SubjectRef(name="bom.json", digest=digest_bytes(document)),),
        spec_version=bom.get("specVersion"),
        serial_number=bom.get("serialNumber"),
        components=len(bom.get("components") or []),
        services=len(bom.get("services") or []),
        validated=True,
    )


def governance_predicate(document: bytes, report: Mapping[str, Any]) -> GovernancePredicate:
    return GovernancePredicate(
        result=ControlResult.RECORDED,
        subjects=(SubjectRef(name="governance-report", digest=digest_bytes(document)),),
        coverage={f["key"]: f["coverage"] for f in report["frameworks"]},
        stages_covered=tuple(s["id"] for s in report["stages"] if s["covered"]),
        store_entries=report["store"]["entries"],
        shadow=len((report.get("inventory") or {}).get("shadow") or []),
    )


def attest_inventory(
    store: EvidenceStore, key: SigningKey, document: bytes, inventory: Mapping[str, Any]
) -> LogEntry:
    return store.record(inventory_predicate(document, inventory).statement(), key)


def attest_bom(
    store: EvidenceStore, key: SigningKey, document: bytes, bom: Mapping[str, Any]
) -> LogEntry:
    return store.record(bom_predicate(document, bom).statement(), key)


def attest_governance(
    store: EvidenceStore, key: SigningKey, document: bytes, report: Mapping[str, Any]
) -> LogEntry:
    return store.record(governance_predicate(document, report).statement(), key)
