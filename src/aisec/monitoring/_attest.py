"""Attestations of the monitoring stage: inventory, ai-bom and governance (docs/inventory.md)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aisec.core.digest import digest_bytes
from aisec.core.evidence import ArtifactRef, EvidenceStore, LogEntry, SigningKey, Statement
from aisec.core.evidence import predicate_type as ptype

__all__ = ["attest_bom", "attest_governance", "attest_inventory"]


def attest_inventory(
    store: EvidenceStore, key: SigningKey, document: bytes, inventory: Mapping[str, Any]
) -> LogEntry:
    """Subjects: the inventory JSON's digest and each input's digest."""
    subjects = [ArtifactRef("inventory.json", digest_bytes(document))]
    subjects += [ArtifactRef(str(i["path"]), str(i["digest"])) for i in inventory["inputs"]]
    summary = inventory["summary"]
    predicate = {
        "summary": summary,
        "catalog_version": inventory["catalog_version"],
        "registry": inventory["registry"],
        "systems": [
            {
                k: s.get(k)
                for k in ("id", "name", "kind", "registered", "registry_id", "provider", "owner")
            }
            | {"owner_candidates": (s.get("owner_candidates") or [])[:3]}
            for s in inventory["systems"]
        ],
        "findings": inventory["findings"],
        "run": {
            "id": f"inventory-{digest_bytes(document)[7:19]}",
            "status": "shadow-ai" if summary["shadow"] else "clean",
        },
    }
    return store.record(
        Statement(tuple(subjects), ptype("monitoring", "inventory"), predicate), key
    )


def attest_bom(
    store: EvidenceStore, key: SigningKey, document: bytes, bom: Mapping[str, Any]
) -> LogEntry:
    predicate = {
        "spec_version": bom.get("specVersion"),
        "serial_number": bom.get("serialNumber"),
        "components": len(bom.get("components") or []),
        "services": len(bom.get("services") or []),
        "validated": True,
    }
    subject = ArtifactRef("bom.json", digest_bytes(document))
    return store.record(Statement((subject,), ptype("monitoring", "ai-bom"), predicate), key)


def attest_governance(
    store: EvidenceStore, key: SigningKey, document: bytes, report: Mapping[str, Any]
) -> LogEntry:
    predicate = {
        "coverage": {f["key"]: f["coverage"] for f in report["frameworks"]},
        "stages_covered": [s["id"] for s in report["stages"] if s["covered"]],
        "store_entries": report["store"]["entries"],
        "shadow": len((report.get("inventory") or {}).get("shadow") or []),
    }
    subject = ArtifactRef("governance-report", digest_bytes(document))
    return store.record(Statement((subject,), ptype("monitoring", "governance"), predicate), key)
