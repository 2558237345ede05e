"""Croissant JSON-LD (MLCommons, 1.0) import and export of provenance records.

Fields map onto schema.org / Croissant where one fits and onto the Croissant RAI
vocabulary for the rest: ``rai:dataCollection`` (collection method),
``rai:dataPreprocessingProtocol`` (transformations), ``rai:dataLimitations`` (known
issues), ``rai:dataBiases`` (typed flags, in words), ``sc:conditionsOfAccess`` (access).
Fields with no Croissant home (consent, the typed flags themselves) go under an
``aisec:`` prefix so a round trip is lossless. The JSON is read as data: ``@context``
documents are never fetched.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from aisec.core.errors import FormatError, InputError
from aisec.data._records import ProvenanceFlag, RecordVersion, SourceRecord

__all__ = ["record_from_croissant", "record_to_croissant"]

_CONTEXT: dict[str, Any] = {
    "@language": "en",
    "@vocab": "https://schema.org/",
    "sc": "https://schema.org/",
    "cr": "http://mlcommons.org/croissant/",
    "rai": "http://mlcommons.org/croissant/RAI/",
    "dct": "http://purl.org/dc/terms/",
    "aisec": "urn:aisec:croissant:",
    "conformsTo": "dct:conformsTo",
    "sha256": "cr:sha256",
}
_CONFORMS = "http://mlcommons.org/croissant/1.0"

_FLAG_TEXT = {
    ProvenanceFlag.SELF_REPORTED: "labels are self-reported and unverified",
    ProvenanceFlag.RETRACTED_CITATION: "the citing publication retracted its label-accuracy claims",
    ProvenanceFlag.DISPUTED_CITATION: "the citing publication's claims are disputed",
    ProvenanceFlag.NO_AUDIT_TRAIL: "no audit trail of collection or labelling",
    ProvenanceFlag.SCRAPED: "scraped from the web without curation",
    ProvenanceFlag.SYNTHETIC: "synthetic data",
}


def record_to_croissant(version: RecordVersion) -> dict[str, Any]:
    """The newest version of a record as a Croissant ``sc:Dataset`` document."""
    r = version.record
    files = [
        {
            "@type": "cr:FileObject",
            "@id": e.path,
            "name": e.path,
            "contentUrl": e.path,
            "contentSize": f"{e.size} B",
            "sha256": e.digest.removeprefix("sha256:"),
        }
        for e in version.manifest.entries
        if e.start is None or e.start == 0
    ]
    doc: dict[str, Any] = {
        "@context": _CONTEXT,
        "@type": "sc:Dataset",
        "conformsTo": _CONFORMS,
        "name": r.name,
        "description": r.description or f"{r.name} (provenance record v{version.version})",
        "url": r.origin,
        "creator": {"@type": "sc:Organization", "name": r.owner},
        "license": r.licence,
        "version": str(version.version),
        "distribution": files,
        "rai:dataCollection": r.collection_method,
        "rai:dataPreprocessingProtocol": list(r.transformations),
        "rai:dataLimitations": list(r.issues),
        "rai:dataBiases": [_FLAG_TEXT[f] for f in r.flags],
        "aisec:flags": [f.value for f in r.flags],
        "aisec:digest": version.digest,
    }
    if r.description is None:
        doc["aisec:generatedDescription"] = True  # Croissant wants one; ours is not a field
    if r.consent:
        doc["aisec:consent"] = r.consent
    if r.access:
        doc["sc:conditionsOfAccess"] = r.access
    return doc


def _text(doc: dict[str, Any], *keys: str) -> str | None:
    for key in keys:
        value = doc.get(key)
        if isinstance(value, str) and value.strip():
            return value
        if isinstance(value, dict):
            name = value.get("name") or value.get("@id")
            if isinstance(name, str):
                return name
        if isinstance(value, list) and value:
            first = value[0]
            if isinstance(first, str):
                return first
            if isinstance(first, dict) and isinstance(first.get("name"), str):
                return str(first["name"])
    return None


def _texts(doc: dict[str, Any], *keys: str) -> tuple[str, ...]:
    for key in keys:
        value = doc.get(key)
        if isinstance(value, str) and value.strip():
            return (value,)
        if isinstance(value, list):
            return tuple(v for v in value if isinstance(v, str) and v.strip())
    return ()


def record_from_croissant(path: str | os.PathLike[str]) -> SourceRecord:
    """Read a Croissant document into a record (missing mandatory fields are errors)."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read Croissant file: {exc}", path=path) from exc
    except json.JSONDecodeError as exc:
        raise FormatError(f"not JSON: {exc.msg} at line {exc.lineno}", path=path) from exc
    if not isinstance(doc, dict) or "Dataset" not in str(doc.get("@type", "")):
        raise FormatError("not a Croissant document (no @type sc:Dataset)", path=path)
    known = {f.value for f in ProvenanceFlag}
    flags = [f for f in _texts(doc, "aisec:flags") if f in known]
    fields: dict[str, Any] = {
        "name": _text(doc, "name"),
        "origin": _text(doc, "url", "sameAs", "citeAs"),
        "owner": _text(doc, "creator", "publisher"),
        "licence": _text(doc, "license"),
        "collection_method": _text(doc, "rai:dataCollection", "rai:dataCollectionType"),
        "consent": _text(doc, "aisec:consent"),
        "transformations": _texts(doc, "rai:dataPreprocessingProtocol"),
        "issues": _texts(doc, "rai:dataLimitations"),
        "flags": flags,
        "access": _text(doc, "sc:conditionsOfAccess", "conditionsOfAccess"),
        "description": None
        if doc.get("aisec:generatedDescription") is True
        else _text(doc, "description"),
    }
    missing = [
        k for k in ("name", "origin", "owner", "licence", "collection_method") if not fields[k]
    ]
    if missing:
        names = {"origin": "url", "owner": "creator", "licence": "license"}
        shown = ", ".join(
            names.get(m, "rai:dataCollection" if m == "collection_method" else m) for m in missing
        )
        raise FormatError(f"Croissant document lacks {shown}", path=path)
    return SourceRecord.parse({k: v for k, v in fields.items() if v is not None}, where=str(path))
