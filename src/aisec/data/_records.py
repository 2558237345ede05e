"""Provenance records: who made a dataset, how, under which terms, and its exact bytes.

A :class:`SourceRecord` is validated with pydantic (it crosses a trust boundary: a YAML
file, a Croissant document, command-line values) and stored as a
``urn:aisec:predicate:data/provenance:v1`` attestation whose subject is the dataset's
digest (``aisec.core.digest.digest_path``). Registering the same name again with other
bytes or other fields appends a new version; :func:`source_history` lists the versions
and what changed between them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from aisec.core.digest import Manifest, digest_path
from aisec.core.errors import FormatError, InputError
from aisec.core.evidence import (
    ArtifactRef,
    EvidenceStore,
    LogEntry,
    SigningKey,
    Statement,
    predicate_type,
)

__all__ = [
    "PROVENANCE_PREDICATE",
    "ProvenanceFlag",
    "RecordVersion",
    "SourceRecord",
    "latest_records",
    "load_record_file",
    "register_source",
    "source_history",
]

PROVENANCE_PREDICATE = predicate_type("data", "provenance")


class ProvenanceFlag(StrEnum):
    """Typed known issues of a source; each raises its risk (see ``aisec.data._risk``)."""

    SELF_REPORTED = "self-reported"
    RETRACTED_CITATION = "retracted-citation"
    DISPUTED_CITATION = "disputed-citation"
    NO_AUDIT_TRAIL = "no-audit-trail"
    SCRAPED = "scraped"
    SYNTHETIC = "synthetic"


class SourceRecord(BaseModel):
    """One dataset or delivery and what is known about where it came from."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200)
    origin: str = Field(min_length=1)
    owner: str = Field(min_length=1)
    licence: str = Field(min_length=1)
    collection_method: str = Field(min_length=1)
    consent: str | None = None
    transformations: tuple[str, ...] = ()
    issues: tuple[str, ...] = ()
    flags: tuple[ProvenanceFlag, ...] = ()
    access: str | None = None
    description: str | None = None

    @field_validator("name")
    @classmethod
    def _name_is_printable(cls, value: str) -> str:
        if not value.isprintable():
            raise ValueError("must be printable text")
        return value

    @field_validator("flags")
    @classmethod
    def _unique_flags(cls, value: tuple[ProvenanceFlag, ...]) -> tuple[ProvenanceFlag, ...]:
        return tuple(sorted(set(value), key=lambda f: f.value))

    @classmethod
    def parse(cls, data: Mapping[str, Any], *, where: str = "record") -> SourceRecord:
        """Validate untrusted data; a bad field becomes one ``InputError`` line."""
        try:
            return cls.model_validate(dict(data))
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = ".".join(str(p) for p in err["loc"]) or "record"
            raise InputError(f"{where}: {loc}: {err['msg']}") from exc

    def fields_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


def load_record_file(path: str | os.PathLike[str]) -> SourceRecord:
    """Read a record from YAML or JSON (``yaml.safe_load``: data only, never objects)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read record file: {exc}", path=path) from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise FormatError(f"not valid YAML/JSON: {str(exc).splitlines()[0]}", path=path) from exc
    if not isinstance(data, dict):
        raise FormatError("a record file must hold a mapping of fields", path=path)
    return SourceRecord.parse(data, where=str(path))


@dataclass(frozen=True)
class RecordVersion:
    """One registered version of a source, as read back from the evidence log."""

    index: int
    version: int
    created_at: str
    record: SourceRecord
    digest: str
    manifest: Manifest

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "version": self.version,
            "created_at": self.created_at,
            "digest": self.digest,
            "record": self.record.fields_json(),
        }


def _versions(store: EvidenceStore, name: str | None = None) -> list[RecordVersion]:
    out: list[RecordVersion] = []
    counts: dict[str, int] = {}
    for entry in store.entries(predicate_type=PROVENANCE_PREDICATE):
        parsed = _parse_entry(entry)
        if parsed is None or (name is not None and parsed[0].name != name):
            continue
        record, manifest = parsed
        counts[record.name] = counts.get(record.name, 0) + 1
        out.append(
            RecordVersion(
                entry.index,
                counts[record.name],
                entry.created_at,
                record,
                manifest.digest,
                manifest,
            )
        )
    return out


def _parse_entry(entry: LogEntry) -> tuple[SourceRecord, Manifest] | None:
    pred = entry.statement.predicate
    try:
        record = SourceRecord.model_validate(pred["record"])
        manifest = Manifest.from_json(pred["manifest"])
    except (KeyError, TypeError, ValidationError, InputError):
        return None  # an entry this version cannot read is left out, not guessed at
    return record, manifest


def register_source(
    store: EvidenceStore,
    key: SigningKey,
    path: str | os.PathLike[str],
    record: SourceRecord,
    *,
    progress: Callable[[int], None] | None = None,
) -> tuple[RecordVersion, bool]:
    """Digest ``path`` and record ``record`` for it; returns (version, created).

    Nothing is appended when the newest version has the same digest and fields.
    """
    path = Path(path)
    manifest = digest_path(path, progress=progress)
    history = _versions(store, record.name)
    if history:
        last = history[-1]
        if last.digest == manifest.digest and last.record == record:
            return last, False
    version = len(history) + 1
    predicate = {
        "record": record.fields_json(),
        "version": version,
        "manifest": manifest.to_json(),
        "previous": history[-1].digest if history else None,
    }
    statement = Statement(
        subjects=(ArtifactRef(name=record.name, digest=manifest.digest),),
        predicate_type=PROVENANCE_PREDICATE,
        predicate=predicate,
    )
    entry = store.record(statement, key)
    return RecordVersion(
        entry.index, version, entry.created_at, record, manifest.digest, manifest
    ), True


def source_history(store: EvidenceStore, name: str) -> list[dict[str, Any]]:
    """Every version of ``name`` with the manifest and field changes from the one before."""
    versions = _versions(store, name)
    if not versions:
        raise InputError(f"no provenance record named {name!r} in {store.url}")
    out: list[dict[str, Any]] = []
    prev: RecordVersion | None = None
    for v in versions:
        item = v.to_json()
        if prev is not None:
            item["changes"] = _changes(prev, v)
        out.append(item)
        prev = v
    return out


def _changes(old: RecordVersion, new: RecordVersion) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    a, b = old.record.fields_json(), new.record.fields_json()
    for key in a.keys() | b.keys():
        if a.get(key) != b.get(key):
            fields[key] = {"from": a.get(key), "to": b.get(key)}
    files: dict[str, list[str]] = {"added": [], "removed": [], "changed": []}
    if old.manifest.shard_size == new.manifest.shard_size:
        d = old.manifest.diff(new.manifest)
        files = {"added": list(d.added), "removed": list(d.removed), "changed": list(d.changed)}
    return {
        "digest": {"from": old.digest, "to": new.digest} if old.digest != new.digest else None,
        "files": files,
        "fields": dict(sorted(fields.items())),
    }


def latest_records(
    store: EvidenceStore, *, names: Sequence[str] = (), digests: Sequence[str] = ()
) -> list[RecordVersion]:
    """The newest version of each source whose name or digest is in ``names``/``digests``
    (of every source when neither is given)."""
    newest: dict[str, RecordVersion] = {}
    for v in _versions(store):
        newest[v.record.name] = v
    wanted_names, wanted_digests = set(names), set(digests)
    if not wanted_names and not wanted_digests:
        return list(newest.values())
    return [
        v for v in newest.values() if v.record.name in wanted_names or v.digest in wanted_digests
    ]
