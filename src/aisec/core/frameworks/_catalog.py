"""The catalog: every framework entry, the lifecycle stages, controls and roles, with lookup."""

from __future__ import annotations

import difflib
import functools
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path

from aisec.core.errors import CatalogError, InputError
from aisec.core.frameworks._atlas_yaml import atlas_kind
from aisec.core.frameworks._data import cosai_entries, load_atlas_data, load_cosai_data
from aisec.core.frameworks._facts import ISO_42001, OWASP_LLM_2025, SAIF
from aisec.core.frameworks._ids import candidate_ids, squash
from aisec.core.frameworks._lifecycle import ROLES, STAGE_ALIASES, STAGES
from aisec.core.frameworks._model import (
    FRAMEWORK_KEYS,
    AtlasOverlayInfo,
    Entry,
    FrameworkInfo,
    Role,
    Stage,
)
from aisec.core.frameworks._nist import NIST_AI_RMF
from aisec.core.frameworks._overlay import AtlasOverlay, overlay_path, read_overlay
from aisec.core.paths import aisec_home

__all__ = ["Catalog", "load_catalog"]


def _kebab(text: str) -> str:
    return "-".join(re.sub(r"[^a-z0-9]+", " ", text.lower()).split())


def _closest(query: str, choices: Iterable[str], n: int = 3) -> list[str]:
    by_key = {squash(c): c for c in choices}
    return [by_key[k] for k in difflib.get_close_matches(squash(query), by_key, n=n, cutoff=0.5)]


class Catalog:
    """Framework entries, lifecycle stages and roles. Build with ``load_catalog``.

    Lookups accept aliases (see ``aisec.core.frameworks._ids``); unknown ids raise
    ``CatalogError`` carrying the closest known ids as suggestions.
    """

    def __init__(
        self,
        *,
        entries: Iterable[Entry],
        frameworks: Sequence[FrameworkInfo],
        stages: Sequence[Stage],
        roles: Sequence[Role],
        atlas_version: str,
        atlas_overlay: AtlasOverlayInfo | None = None,
    ) -> None:
        self._entries: dict[str, Entry] = {}
        for entry in entries:
            if entry.id in self._entries:
                raise ValueError(f"duplicate catalog id {entry.id}")
            self._entries[entry.id] = entry
        self._by_key = {squash(i): i for i in self._entries}
        self._children: dict[str, list[str]] = {}
        for entry in self._entries.values():
            if entry.parent is not None:
                self._children.setdefault(entry.parent, []).append(entry.id)
            if entry.kind == "technique":
                for tactic in entry.tactics:
                    self._children.setdefault(tactic, []).append(entry.id)
        self._frameworks = tuple(frameworks)
        self._stages = tuple(stages)
        self._roles = tuple(roles)
        self._atlas_version = atlas_version
        self._atlas_overlay = atlas_overlay

    # -- framework entries -------------------------------------------------------------

    @property
    def frameworks(self) -> tuple[FrameworkInfo, ...]:
        return self._frameworks

    @property
    def atlas_version(self) -> str:
        """The ATLAS release the shipped id/name tables were generated from."""
        return self._atlas_version

    @property
    def atlas_overlay(self) -> AtlasOverlayInfo | None:
        """The imported ATLAS release whose names and descriptions are in use, if any."""
        return self._atlas_overlay

    def framework(self, key: str) -> FrameworkInfo:
        for info in self._frameworks:
            if info.key == key.strip().lower():
                return info
        raise CatalogError(
            f"unknown framework {key!r}",
            suggestions=_closest(key, FRAMEWORK_KEYS) or FRAMEWORK_KEYS,
        )

    def get(self, entry_id: str) -> Entry | None:
        """The entry for an id or alias (any case), or ``None``."""
        for key in candidate_ids(entry_id):
            canonical = self._by_key.get(key)
            if canonical is not None:
                return self._entries[canonical]
        return None

    def resolve(self, entry_id: str) -> Entry:
        """Like ``get`` but raises ``CatalogError`` with the closest known ids."""
        entry = self.get(entry_id)
        if entry is None:
            raise CatalogError(
                f"unknown framework id {entry_id!r}", suggestions=self._suggest(entry_id)
            )
        return entry

    def __contains__(self, entry_id: object) -> bool:
        return isinstance(entry_id, str) and self.get(entry_id) is not None

    def entries(
        self, framework: str | None = None, *, kind: str | None = None
    ) -> tuple[Entry, ...]:
        """Entries of one framework (all when ``None``), optionally of one kind."""
        key = self.framework(framework).key if framework is not None else None
        return tuple(
            e
            for e in self._entries.values()
            if (key is None or e.framework == key) and (kind is None or e.kind == kind)
        )

    def children(self, entry_id: str) -> tuple[Entry, ...]:
        """Sub-entries: techniques of a tactic, sub-techniques, NIST subcategories, ISO controls."""
        entry = self.resolve(entry_id)
        return tuple(self._entries[i] for i in sorted(self._children.get(entry.id, ())))

    def _suggest(self, query: str, framework: str | None = None) -> list[str]:
        pool = [e.id for e in self._entries.values() if framework in (None, e.framework)]
        for key in candidate_ids(query)[1:]:  # the alias form is often closer to the truth
            hits = _closest(key, pool)
            if hits:
                return hits
        return _closest(query, pool)

    def check_refs(
        self,
        *,
        atlas: Iterable[str] = (),
        owasp: Iterable[str] = (),
        saif: Iterable[str] = (),
        nist: Iterable[str] = (),
        iso: Iterable[str] = (),
        cosai: Iterable[str] = (),
    ) -> None:
        """Raise ``CatalogError`` naming the first id that is unknown, of the wrong framework,
        or not written in canonical form (``LLM01``, not ``llm01:2025``)."""
        groups = (
            ("atlas", atlas),
            ("owasp-llm-2025", owasp),
            ("saif", saif),
            ("nist-ai-rmf", nist),
            ("iso-42001", iso),
            ("cosai", cosai),
        )
        for framework, refs in groups:
            for ref in refs:
                entry = self._entries.get(ref)
                if entry is None:
                    alias = self.get(ref)
                    if alias is not None and alias.framework == framework:
                        raise CatalogError(
                            f"{framework} reference {ref!r} is not canonical; write {alias.id!r}",
                            suggestions=[alias.id],
                        )
                    raise CatalogError(
                        f"unknown {framework} id {ref!r}",
                        suggestions=self._suggest(ref, framework),
                    )
                if entry.framework != framework:
                    raise CatalogError(f"{ref!r} is an id of {entry.framework}, not of {framework}")

    # -- lifecycle ----------------------------------------------------------------------

    @property
    def stages(self) -> tuple[Stage, ...]:
        return self._stages

    def stage(self, name: str | int) -> Stage:
        """A stage by id, number, short form or CLI group name (``guard`` -> inference)."""
        key = str(name).strip().lower()
        key = STAGE_ALIASES.get(key, key)
        for stage in self._stages:
            if stage.id == key:
                return stage
        ids = [s.id for s in self._stages]
        raise CatalogError(
            f"unknown lifecycle stage {str(name)!r}", suggestions=_closest(key, ids) or ids
        )

    def stages_for(self, entry_id: str) -> tuple[Stage, ...]:
        """The stages that list this entry among their threats or grounding."""
        entry = self.resolve(entry_id)
        return tuple(
            s for s in self._stages if entry.id in (*s.atlas, *s.owasp, *s.saif, *s.nist, *s.iso)
        )

    @property
    def roles(self) -> tuple[Role, ...]:
        return self._roles

    def role(self, role_id: str) -> Role:
        """A role by id (``ai-red-teamer``) or name (``AI Red Teamer``)."""
        key = _kebab(role_id)
        for role in self._roles:
            if key in (role.id, _kebab(role.name)):
                return role
        raise CatalogError(
            f"unknown role {role_id!r}", suggestions=_closest(key, [r.id for r in self._roles])
        )


# -- building -----------------------------------------------------------------------------


def _atlas_entries(overlay: AtlasOverlay | None) -> tuple[str, list[Entry]]:
    data = load_atlas_data()
    base: dict[str, Entry] = {}
    for tactic in data.tactics:
        base[tactic.id] = Entry("atlas", tactic.id, tactic.name, "tactic", version=data.version)
    for t in data.techniques:
        base[t.id] = Entry(
            "atlas",
            t.id,
            t.name,
            atlas_kind(t.id),
            parent=t.parent,
            tactics=t.tactics,
            version=data.version,
        )
    for m in data.mitigations:
        base[m.id] = Entry(
            "atlas", m.id, m.name, "mitigation", related=m.techniques, version=data.version
        )
    if overlay is not None:
        source = f"MITRE ATLAS {overlay.atlas_version} (imported {overlay.source_name})"
        for o in overlay.entries:
            base[o.id] = Entry(
                "atlas",
                o.id,
                o.name,
                o.kind,
                description=o.description,
                description_source=source if o.description else None,
                parent=o.parent,
                tactics=o.tactics,
                related=o.techniques,
                version=overlay.atlas_version,
            )
    # a sub-technique belongs to the tactics of its parent
    for eid, entry in list(base.items()):
        if entry.kind == "sub-technique" and entry.parent in base and not entry.tactics:
            base[eid] = replace(entry, tactics=base[entry.parent].tactics)
    ordered = [e for e in base.values() if e.kind == "tactic"]
    ordered += sorted((e for e in base.values() if e.kind != "tactic"), key=lambda e: e.id)
    return data.version, ordered


def _build(overlay_file: Path | None) -> Catalog:
    overlay = read_overlay(overlay_file) if overlay_file is not None else None
    atlas_version, atlas = _atlas_entries(overlay)
    cosai = load_cosai_data()
    atlas_source = (
        f"ids, names and relationships generated from ATLAS.yaml {atlas_version} "
        "by scripts/gen_catalog.py"
    )
    if overlay is not None:
        atlas_source += (
            f"; names and descriptions from the imported ATLAS {overlay.atlas_version} "
            f"({overlay_file})"
        )
    frameworks = (
        FrameworkInfo("atlas", "MITRE ATLAS", atlas_version, atlas_source),
        FrameworkInfo(
            "owasp-llm-2025",
            "OWASP Top 10 for LLM Applications",
            "2025",
            "hand-written ids and names; descriptions are aisec summaries",
        ),
        FrameworkInfo(
            "saif",
            "Google Secure AI Framework (SAIF) core elements",
            None,
            "hand-written ids and names; descriptions are aisec summaries",
        ),
        FrameworkInfo(
            "nist-ai-rmf",
            "NIST AI Risk Management Framework",
            "1.0",
            "hand-written official ids; titles are aisec summaries",
        ),
        FrameworkInfo(
            "iso-42001",
            "ISO/IEC 42001 Annex A",
            "2023",
            "hand-written control ids and short titles",
        ),
        FrameworkInfo(
            "cosai",
            cosai.name,
            None,
            "ids, titles and mappings generated from the CoSAI risk map YAML by "
            "scripts/gen_catalog.py (ATLAS mappings made against ATLAS "
            f"{cosai.mapping_versions.get('mitre-atlas', '?')})",
        ),
    )
    return Catalog(
        entries=(*atlas, *OWASP_LLM_2025, *SAIF, *NIST_AI_RMF, *ISO_42001, *cosai_entries(cosai)),
        frameworks=frameworks,
        stages=STAGES,
        roles=ROLES,
        atlas_version=atlas_version,
        atlas_overlay=overlay.info(overlay_file) if overlay and overlay_file else None,
    )


@functools.lru_cache(maxsize=8)
def _cached(overlay_file: str | None, _inode: int, _mtime_ns: int, _size: int) -> Catalog:
    # keyed on the overlay's identity too: an import replaces the file, so a new inode
    return _build(Path(overlay_file) if overlay_file is not None else None)


def load_catalog(*, home: str | os.PathLike[str] | None = None, overlay: bool = True) -> Catalog:
    """The catalog, cached. With ``overlay`` (the default) the ATLAS names and descriptions
    imported with ``aisec frameworks import`` are laid over the shipped tables; ``home`` is
    the ``.aisec`` directory (default ``$AISEC_HOME`` or ``./.aisec``)."""
    home = None if home is None else Path(home)
    if not overlay:
        return _cached(None, 0, 0, 0)
    path = overlay_path(home if home is not None else aisec_home())
    try:
        stat = path.stat()
    except FileNotFoundError:
        return _cached(None, 0, 0, 0)
    except OSError as exc:
        raise InputError(f"cannot read the ATLAS overlay: {exc.strerror}", path=path) from exc
    return _cached(str(path), stat.st_ino, stat.st_mtime_ns, stat.st_size)
