"""CycloneDX 1.6 ML-BOM of an inventory (cyclonedx-python-lib), validated against its schema.

Models (self-hosted, no-code and registered internal) become ``machine-learning-model``
components, hosted APIs and SaaS AI products become services, and every evidence input
becomes a ``data`` component carrying its sha256, so each entry's provenance is traceable.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from cyclonedx.model import (
    ExternalReference,
    ExternalReferenceType,
    HashAlgorithm,
    HashType,
    Property,
    XsUri,
)
from cyclonedx.model.bom import Bom
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.model.contact import OrganizationalEntity
from cyclonedx.model.service import Service
from cyclonedx.output.json import JsonV1Dot6
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from aisec.core.errors import FormatError

__all__ = ["build_bom", "validate_bom"]

_SERVICE_KINDS = ("hosted-api-use", "saas-ai-feature")


def _props(system: Mapping[str, Any]) -> list[Property]:
    out = [
        Property(name="aisec:kind", value=str(system["kind"])),
        Property(name="aisec:registered", value=str(bool(system["registered"])).lower()),
        Property(name="aisec:shadow-ai", value=str(not system["registered"]).lower()),
        Property(name="aisec:sources", value=",".join(system.get("sources") or []) or "registry"),
    ]
    out += [
        Property(name=f"aisec:{key.replace('_', '-')}", value=str(system[key]))
        for key in ("registry_id", "owner", "team", "first_seen", "last_seen")
        if system.get(key)
    ]
    out += [
        Property(name="aisec:owner-candidate", value=str(cand))
        for cand in (system.get("owner_candidates") or [])[:3]
    ]
    # how the reconciled inventory knows it: the registry match, the keys that joined the
    # evidence, and where the team comes from
    match = system.get("match") or {}
    if match.get("method"):
        out.append(Property(name="aisec:match-method", value=str(match["method"])))
    if match.get("via"):
        out.append(Property(name="aisec:match-via", value=str(match["via"])[:500]))
    if system.get("team_evidence"):
        out.append(Property(name="aisec:team-evidence", value=str(system["team_evidence"])))
    out += [Property(name="aisec:key", value=str(k)) for k in (system.get("keys") or [])[:20]]
    out.append(Property(name="aisec:evidence-rows", value=str(system.get("evidence_total", 0))))
    return out


def _hashes(system: Mapping[str, Any]) -> list[HashType]:
    """SHA-256 of the model files the system's code evidence found."""
    digests = {
        str(i).split(":", 1)[1]
        for e in system.get("evidence") or []
        for i in e.get("identifiers") or []
        if str(i).startswith("sha256:") and len(str(i)) == 71
    }
    return [HashType(alg=HashAlgorithm.SHA_256, content=d) for d in sorted(digests)]


def build_bom(inventory: Mapping[str, Any]) -> dict[str, Any]:
    """The ML-BOM of an ``aisec.inventory/v1`` document, as CycloneDX 1.6 JSON."""
    if inventory.get("schema") != "aisec.inventory/v1":
        raise FormatError("not an aisec inventory (schema aisec.inventory/v1)")
    bom = Bom()
    for system in inventory.get("systems") or []:
        props = _props(system)
        provider = OrganizationalEntity(name=str(system.get("provider") or "unknown"))
        if system["kind"] in _SERVICE_KINDS:
            hosts = [h for h in system.get("hosts") or [] if h]
            bom.services.add(
                Service(
                    name=str(system["name"]),
                    bom_ref=str(system["id"]),
                    provider=provider,
                    endpoints=[XsUri(f"https://{h}") for h in hosts] or None,
                    properties=props,
                )
            )
            continue
        key = str((system.get("match") or {}).get("via") or system["id"])
        hashes = _hashes(system) or (
            [HashType(alg=HashAlgorithm.SHA_256, content=key.rsplit(":", 1)[1])]
            if key.startswith("modelfile:sha256:")
            else []
        )
        refs = []
        if key.startswith("model:") and key.count("/") == 1:
            refs.append(
                ExternalReference(
                    type=ExternalReferenceType.DISTRIBUTION,
                    url=XsUri(f"https://huggingface.co/{system['name']}"),
                )
            )
        bom.components.add(
            Component(
                name=str(system["name"]),
                type=ComponentType.MACHINE_LEARNING_MODEL,
                bom_ref=str(system["id"]),
                supplier=provider,
                hashes=hashes,
                external_references=refs,
                properties=props,
            )
        )
    for item in inventory.get("inputs") or []:
        digest = str(item.get("digest", ""))
        bom.components.add(
            Component(
                name=str(item.get("path")),
                type=ComponentType.DATA,
                bom_ref=f"input:{digest}:{item.get('path')}",
                hashes=[HashType(alg=HashAlgorithm.SHA_256, content=digest.partition(":")[2])]
                if digest.startswith("sha256:")
                else [],
                properties=[
                    Property(name="aisec:role", value=f"discovery-evidence:{item.get('role')}"),
                    Property(name="aisec:format", value=str(item.get("format"))),
                ],
            )
        )
    data: dict[str, Any] = json.loads(JsonV1Dot6(bom).output_as_string())
    # cyclonedx-python-lib has no model card model yet: add the few facts we know (the
    # registry's stated use) to the JSON, then validate the whole document
    uses = {
        str(s["id"]): str(s["description"])
        for s in inventory.get("systems") or []
        if s.get("description")
    }
    for comp in data.get("components") or []:
        if comp.get("type") == "machine-learning-model" and comp.get("bom-ref") in uses:
            comp["modelCard"] = {"considerations": {"useCases": [uses[comp["bom-ref"]]]}}
    validate_bom(data)
    return data


def validate_bom(data: Mapping[str, Any]) -> None:
    """Raise ``FormatError`` unless ``data`` validates against the CycloneDX 1.6 JSON schema."""
    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(json.dumps(data))
    if error is not None:
        raise FormatError(f"ML-BOM does not validate against CycloneDX 1.6: {error}")
