"""The user's ATLAS overlay: official names and descriptions from an ATLAS.yaml they imported.

``import_atlas`` validates the whole file before writing anything, then replaces
``<home>/frameworks/atlas.json`` atomically, so a bad file leaves an existing overlay as it was.
``<home>`` is ``$AISEC_HOME`` when set (the ``.aisec`` directory itself), else ``./.aisec``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from aisec.core.errors import FormatError, InputError
from aisec.core.frameworks._atlas_yaml import (
    MITIGATION_RE,
    TACTIC_RE,
    TECHNIQUE_RE,
    Name,
    Text,
    parse_atlas,
    validation_summary,
)
from aisec.core.frameworks._model import AtlasImport, AtlasOverlayInfo
from aisec.core.paths import aisec_home

__all__ = [
    "MAX_IMPORT_BYTES",
    "OVERLAY_SCHEMA",
    "AtlasOverlay",
    "OverlayEntry",
    "import_atlas",
    "overlay_path",
    "read_overlay",
]

MAX_IMPORT_BYTES = 50 * 1024 * 1024
MAX_OVERLAY_BYTES = 2 * MAX_IMPORT_BYTES
OVERLAY_SCHEMA = "aisec.atlas-overlay/v1"

AnyAtlasId = Annotated[
    str, StringConstraints(pattern=f"{TACTIC_RE}|{TECHNIQUE_RE}|{MITIGATION_RE}")
]


class OverlayEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: AnyAtlasId
    name: Name
    kind: Literal["tactic", "technique", "sub-technique", "mitigation"]
    description: Text | None = None
    parent: Annotated[str, StringConstraints(pattern=TECHNIQUE_RE)] | None = None
    tactics: tuple[Annotated[str, StringConstraints(pattern=TACTIC_RE)], ...] = ()
    techniques: tuple[Annotated[str, StringConstraints(pattern=TECHNIQUE_RE)], ...] = ()


class AtlasOverlay(BaseModel):
    """The overlay file as stored (validated again on every load: it sits in the user's tree)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_tag: Literal["aisec.atlas-overlay/v1"] = Field(alias="schema")
    atlas_version: Annotated[str, StringConstraints(min_length=1, max_length=32)]
    source_name: Annotated[str, StringConstraints(max_length=4096)]
    source_sha256: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
    imported_at: Annotated[str, StringConstraints(max_length=64)]
    entries: tuple[OverlayEntry, ...] = Field(max_length=200_000)

    def info(self, path: Path) -> AtlasOverlayInfo:
        return AtlasOverlayInfo(
            version=self.atlas_version,
            path=path,
            sha256=f"sha256:{self.source_sha256}",
            imported_at=self.imported_at,
        )


def overlay_path(home: Path | None = None) -> Path:
    return (home if home is not None else aisec_home()) / "frameworks" / "atlas.json"


def _read_limited(path: Path, limit: int) -> bytes:
    try:
        if not path.is_file():
            raise InputError("not a regular file" if path.exists() else "no such file", path=path)
        if path.stat().st_size > limit:
            raise InputError(
                f"file is larger than {limit // (1024 * 1024)} MB; refusing to read it", path=path
            )
        with path.open("rb") as fh:
            data = fh.read(limit + 1)
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", path=path) from exc
    if len(data) > limit:
        raise InputError(
            f"file is larger than {limit // (1024 * 1024)} MB; refusing to read it", path=path
        )
    return data


def read_overlay(path: Path) -> AtlasOverlay | None:
    """The overlay at ``path``, ``None`` if there is none, ``FormatError`` if it is damaged."""
    if not path.exists():
        return None
    data = _read_limited(path, MAX_OVERLAY_BYTES)
    hint = "; run 'aisec frameworks import ATLAS.yaml' again or delete the file"
    try:
        raw = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FormatError(f"damaged ATLAS overlay: not JSON{hint}", path=path) from exc
    try:
        return AtlasOverlay.model_validate(raw)
    except ValidationError as exc:
        raise FormatError(
            f"damaged ATLAS overlay: {validation_summary(exc)}{hint}", path=path
        ) from exc


def import_atlas(
    source: str | os.PathLike[str], *, home: str | os.PathLike[str] | None = None
) -> AtlasImport:
    """Validate an official ATLAS.yaml and store its names and descriptions as the overlay.

    Nothing is written unless the whole file is valid; the previous overlay stays otherwise.
    """
    source = Path(source)
    home = None if home is None else Path(home)
    data = _read_limited(source, MAX_IMPORT_BYTES)
    parsed = parse_atlas(data, source=str(source))
    digest = hashlib.sha256(data).hexdigest()
    overlay = {
        "schema": OVERLAY_SCHEMA,
        "atlas_version": parsed.version,
        "source_name": source.name,
        "source_sha256": digest,
        "imported_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "entries": [
            {
                "id": r.id,
                "name": r.name,
                "kind": r.kind,
                "description": r.description,
                "parent": r.parent,
                "tactics": list(r.tactics),
                "techniques": list(r.techniques),
            }
            for r in sorted(parsed.records, key=lambda r: r.id)
        ],
    }
    AtlasOverlay.model_validate(overlay)  # what we write must read back
    destination = overlay_path(home)
    _write_atomic(destination, json.dumps(overlay, indent=1, sort_keys=True, ensure_ascii=False))
    return AtlasImport(
        version=parsed.version,
        source=source,
        destination=destination,
        sha256=f"sha256:{digest}",
        tactics=len(parsed.of_kind("tactic")),
        techniques=len(parsed.of_kind("technique")),
        sub_techniques=len(parsed.of_kind("sub-technique")),
        mitigations=len(parsed.of_kind("mitigation")),
    )


def _write_atomic(destination: Path, text: str) -> None:
    try:
        destination.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=".atlas-", suffix=".tmp", dir=destination.parent)
    except OSError as exc:
        raise InputError(f"cannot write the overlay: {exc.strerror}", path=destination) from exc
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.write("\n")
        tmp.replace(destination)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise InputError(f"cannot write the overlay: {exc.strerror}", path=destination) from exc
