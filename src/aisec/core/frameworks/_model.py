"""The values the catalog hands out: frozen dataclasses, no behaviour beyond small helpers."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

__all__ = [
    "FRAMEWORK_KEYS",
    "AtlasImport",
    "AtlasOverlayInfo",
    "Entry",
    "FrameworkInfo",
    "Involvement",
    "Role",
    "Stage",
]

#: The framework keys of the catalog, in display order.
FRAMEWORK_KEYS: tuple[str, ...] = (
    "atlas",
    "owasp-llm-2025",
    "saif",
    "nist-ai-rmf",
    "iso-42001",
    "cosai",
)

Involvement = Literal["primary", "secondary"]


@dataclass(frozen=True, slots=True)
class Entry:
    """One identifier of one framework: an ATLAS technique, an OWASP risk, a NIST subcategory...

    ``description`` is ``None`` unless we wrote one in our own words or the user imported
    the official text (``description_source`` then says where it came from).
    ``related`` holds ids this entry points to: the techniques an ATLAS mitigation addresses,
    the controls and ATLAS/OWASP/NIST ids a CoSAI risk maps to, and so on.
    For an ATLAS sub-technique, ``tactics`` are those of its parent technique.
    """

    framework: str
    id: str
    name: str
    kind: str
    description: str | None = None
    description_source: str | None = None
    parent: str | None = None
    tactics: tuple[str, ...] = ()
    related: tuple[str, ...] = ()
    category: str | None = None
    tags: tuple[str, ...] = ()
    version: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "framework": self.framework,
            "id": self.id,
            "name": self.name,
            "kind": self.kind,
            "version": self.version,
            "description": self.description,
            "description_source": self.description_source,
            "parent": self.parent,
            "tactics": list(self.tactics),
            "related": list(self.related),
            "category": self.category,
            "tags": list(self.tags),
        }


@dataclass(frozen=True, slots=True)
class FrameworkInfo:
    """A framework of the catalog: its key, name, release and where our table comes from."""

    key: str
    name: str
    version: str | None
    source: str

    def as_dict(self) -> dict[str, object]:
        return {"key": self.key, "name": self.name, "version": self.version, "source": self.source}


@dataclass(frozen=True, slots=True)
class Role:
    """A security role and the stages where it carries primary or secondary responsibility."""

    id: str
    name: str
    focus: str
    primary: tuple[str, ...]
    secondary: tuple[str, ...]

    def involvement(self, stage: str) -> Involvement | None:
        if stage in self.primary:
            return "primary"
        if stage in self.secondary:
            return "secondary"
        return None

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "name": self.name,
            "focus": self.focus,
            "primary": list(self.primary),
            "secondary": list(self.secondary),
        }


@dataclass(frozen=True, slots=True)
class Stage:
    """One of the six lifecycle stages with its threats, grounding and roles (its controls are
    declared by the stage itself: ``aisec.registry``)."""

    id: str
    number: int
    name: str
    question: str
    description: str
    cli_group: str
    atlas: tuple[str, ...]
    owasp: tuple[str, ...]
    saif: tuple[str, ...]
    nist: tuple[str, ...]
    iso: tuple[str, ...]
    primary_roles: tuple[str, ...] = ()
    secondary_roles: tuple[str, ...] = ()

    @property
    def threats(self) -> tuple[str, ...]:
        """ATLAS technique ids then OWASP LLM ids that every control of the stage maps to."""
        return self.atlas + self.owasp

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "number": self.number,
            "name": self.name,
            "question": self.question,
            "description": self.description,
            "cli_group": self.cli_group,
            "atlas": list(self.atlas),
            "owasp": list(self.owasp),
            "saif": list(self.saif),
            "nist": list(self.nist),
            "iso": list(self.iso),
            "primary_roles": list(self.primary_roles),
            "secondary_roles": list(self.secondary_roles),
        }


@dataclass(frozen=True, slots=True)
class AtlasOverlayInfo:
    """Where the imported ATLAS descriptions in use come from."""

    version: str
    path: Path
    sha256: str
    imported_at: str

    def as_dict(self) -> dict[str, object]:
        return {
            "version": self.version,
            "path": str(self.path),
            "sha256": self.sha256,
            "imported_at": self.imported_at,
        }


@dataclass(frozen=True, slots=True)
class AtlasImport:
    """The outcome of ``import_atlas``: what was read and where the overlay was written."""

    version: str
    source: Path
    destination: Path
    sha256: str
    tactics: int
    techniques: int
    sub_techniques: int
    mitigations: int

    def as_dict(self) -> dict[str, object]:
        return {
            "version": self.version,
            "source": str(self.source),
            "destination": str(self.destination),
            "sha256": self.sha256,
            "tactics": self.tactics,
            "techniques": self.techniques,
            "sub_techniques": self.sub_techniques,
            "mitigations": self.mitigations,
        }
