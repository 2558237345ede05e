"""Read an official MITRE ATLAS data file (``ATLAS.yaml``) safely.

The file is untrusted input: it is parsed with PyYAML's safe loader extended to refuse
aliases (no "billion laughs"), to bound nesting depth and node count, then validated with
pydantic. Anything wrong becomes a ``FormatError`` with one line a user can act on.
Used by ``aisec frameworks import`` and by ``scripts/gen_catalog.py``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
)

from aisec.core.errors import FormatError

__all__ = [
    "MAX_DEPTH",
    "MAX_NODES",
    "AtlasRecord",
    "ParsedAtlas",
    "atlas_kind",
    "parse_atlas",
    "validation_summary",
]

MAX_DEPTH = 32
MAX_NODES = 5_000_000

TACTIC_RE = r"^AML\.TA\d{4}$"
TECHNIQUE_RE = r"^AML\.T\d{4}(?:\.\d{3})?$"
MITIGATION_RE = r"^AML\.M\d{4}$"
_SUB_RE = re.compile(r"^(AML\.T\d{4})\.\d{3}$")

TacticId = Annotated[str, StringConstraints(pattern=TACTIC_RE)]
TechniqueId = Annotated[str, StringConstraints(pattern=TECHNIQUE_RE)]
MitigationId = Annotated[str, StringConstraints(pattern=MITIGATION_RE)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
Text = Annotated[str, StringConstraints(max_length=200_000)]


def atlas_kind(entry_id: str) -> str:
    """``tactic``, ``technique``, ``sub-technique`` or ``mitigation``, from the id alone."""
    if entry_id.startswith("AML.TA"):
        return "tactic"
    if entry_id.startswith("AML.M"):
        return "mitigation"
    return "sub-technique" if _SUB_RE.match(entry_id) else "technique"


@dataclass(frozen=True, slots=True)
class AtlasRecord:
    """One tactic, technique, sub-technique or mitigation read from the file."""

    id: str
    name: str
    kind: str
    description: str | None
    parent: str | None = None
    tactics: tuple[str, ...] = ()
    techniques: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ParsedAtlas:
    """A validated ATLAS release. Records keep the order of the file."""

    version: str
    records: tuple[AtlasRecord, ...]

    def of_kind(self, kind: str) -> tuple[AtlasRecord, ...]:
        return tuple(r for r in self.records if r.kind == kind)


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


class _Tactic(_Model):
    id: TacticId
    name: Name
    description: Text | None = None


class _Technique(_Model):
    id: TechniqueId
    name: Name
    description: Text | None = None
    tactics: list[TacticId] = Field(default_factory=list, max_length=100)
    subtechnique_of: TechniqueId | None = Field(default=None, alias="subtechnique-of")


class _MitigationUse(_Model):
    id: TechniqueId


class _Mitigation(_Model):
    id: MitigationId
    name: Name
    description: Text | None = None
    techniques: list[_MitigationUse | TechniqueId] = Field(default_factory=list, max_length=10_000)


class _Matrix(_Model):
    tactics: list[_Tactic] = Field(max_length=10_000)
    techniques: list[_Technique] = Field(max_length=100_000)
    mitigations: list[_Mitigation] = Field(default_factory=list, max_length=100_000)


class _Document(_Model):
    version: Annotated[str, StringConstraints(pattern=r"^[0-9A-Za-z][0-9A-Za-z.+-]{0,31}$")]
    matrices: list[_Matrix] = Field(min_length=1, max_length=100)

    @field_validator("version", mode="before")
    @classmethod
    def _version_text(cls, value: object) -> object:
        # an unquoted `version: 5.6` arrives as a float
        return str(value) if isinstance(value, int | float) else value


class _BoundedLoader(yaml.SafeLoader):
    """The safe loader, refusing aliases and bounding nesting depth and node count."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._nodes = 0

    def _refuse(self, problem: str) -> yaml.composer.ComposerError:
        mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
        return yaml.composer.ComposerError(None, None, problem, mark)

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            raise self._refuse("aliases are not allowed")
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise self._refuse(f"more than {MAX_NODES} nodes")
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise self._refuse(f"nested deeper than {MAX_DEPTH} levels")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def validation_summary(exc: ValidationError) -> str:
    """The first problem of a pydantic error as one line, and how many more there are."""
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "top level"
    text = f"{where}: {first['msg']}"
    more = exc.error_count() - 1
    if more:
        text += f" (and {more} more problem{'s' if more > 1 else ''})"
    return " ".join(text.split())


def _yaml_problem(exc: yaml.YAMLError) -> str:
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
        mark = exc.problem_mark
        problem = exc.problem or exc.context or "unreadable YAML"
        return f"{problem} (line {mark.line + 1}, column {mark.column + 1})"
    return " ".join(str(exc).split())


def parse_atlas(data: bytes, *, source: str) -> ParsedAtlas:
    """Parse and validate the bytes of an ATLAS data file; ``source`` names it in errors."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FormatError(f"not UTF-8 text (byte {exc.start})", path=source) from exc
    try:
        loader = _BoundedLoader(text)  # the reader already rejects unprintable characters
        try:
            raw = loader.get_single_data()
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        raise FormatError(f"not valid ATLAS YAML: {_yaml_problem(exc)}", path=source) from exc
    except RecursionError as exc:  # pragma: no cover - the depth bound should fire first
        raise FormatError("not valid ATLAS YAML: nested too deeply", path=source) from exc
    if not isinstance(raw, dict) or "matrices" not in raw:
        raise FormatError(
            "not a MITRE ATLAS data file: expected a mapping with 'version' and 'matrices'",
            path=source,
        )
    try:
        doc = _Document.model_validate(raw)
    except ValidationError as exc:
        raise FormatError(
            f"not a MITRE ATLAS data file: {validation_summary(exc)}", path=source
        ) from exc
    return ParsedAtlas(version=doc.version, records=_records(doc, source))


def _records(doc: _Document, source: str) -> tuple[AtlasRecord, ...]:
    tactics = [t for m in doc.matrices for t in m.tactics]
    techniques = [t for m in doc.matrices for t in m.techniques]
    mitigations = [t for m in doc.matrices for t in m.mitigations]
    seen: set[str] = set()
    items: list[_Tactic | _Technique | _Mitigation] = [*tactics, *techniques, *mitigations]
    for item in items:
        if item.id in seen:
            raise FormatError(f"not a MITRE ATLAS data file: {item.id} appears twice", path=source)
        seen.add(item.id)
    tactic_ids = {t.id for t in tactics}
    technique_ids = {t.id for t in techniques}
    records = [AtlasRecord(t.id, t.name, "tactic", t.description) for t in tactics]
    for t in techniques:
        match = _SUB_RE.match(t.id)
        parent = match.group(1) if match else None
        if t.subtechnique_of not in (None, parent) or (parent and parent not in technique_ids):
            raise FormatError(
                f"not a MITRE ATLAS data file: {t.id} has no matching parent technique",
                path=source,
            )
        unknown = [x for x in t.tactics if x not in tactic_ids]
        if unknown:
            raise FormatError(
                f"not a MITRE ATLAS data file: {t.id} names unknown tactic {unknown[0]}",
                path=source,
            )
        records.append(
            AtlasRecord(
                t.id,
                t.name,
                "sub-technique" if parent else "technique",
                t.description,
                parent=parent,
                tactics=tuple(t.tactics),
            )
        )
    for m in mitigations:
        refs = (u if isinstance(u, str) else u.id for u in m.techniques)
        # a mitigation pointing at a technique the file lacks is dropped, not fatal
        known = tuple(sorted({r for r in refs if r in technique_ids}))
        records.append(AtlasRecord(m.id, m.name, "mitigation", m.description, techniques=known))
    return tuple(records)
