"""Load the generated package data (``data/atlas.json``, ``data/cosai.json``) into entries.

The JSON is written by ``scripts/gen_catalog.py``; it is validated here all the same
(catalog data is a trust boundary), so a broken regeneration fails loudly and early.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from aisec.core.frameworks._model import Entry

__all__ = ["AtlasData", "CosaiData", "cosai_entries", "load_atlas_data", "load_cosai_data"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _AtlasTactic(_Strict):
    id: str = Field(pattern=r"^AML\.TA\d{4}$")
    name: str


class _AtlasTechnique(_Strict):
    id: str = Field(pattern=r"^AML\.T\d{4}(?:\.\d{3})?$")
    name: str
    parent: str | None
    tactics: tuple[str, ...]


class _AtlasMitigation(_Strict):
    id: str = Field(pattern=r"^AML\.M\d{4}$")
    name: str
    techniques: tuple[str, ...]


class AtlasData(_Strict):
    schema_tag: Literal["aisec.catalog.atlas/v1"] = Field(alias="schema")
    framework: Literal["atlas"]
    name: str
    version: str
    source: str
    tactics: tuple[_AtlasTactic, ...]
    techniques: tuple[_AtlasTechnique, ...]
    mitigations: tuple[_AtlasMitigation, ...]


class _Mappings(_Strict):
    atlas: tuple[str, ...]
    nist: tuple[str, ...]
    owasp: tuple[str, ...]
    stride: tuple[str, ...]

    def ids(self) -> tuple[str, ...]:
        return self.atlas + self.owasp + self.nist


class _CosaiRisk(_Strict):
    id: str
    title: str
    category: str | None
    controls: tuple[str, ...]
    lifecycle_stages: tuple[str, ...]
    mappings: _Mappings


class _CosaiControl(_Strict):
    id: str
    title: str
    category: str | None
    applies_to_all_risks: bool
    risks: tuple[str, ...]
    lifecycle_stages: tuple[str, ...]
    mappings: _Mappings


class _Category(_Strict):
    id: str
    title: str


class CosaiData(_Strict):
    schema_tag: Literal["aisec.catalog.cosai/v1"] = Field(alias="schema")
    framework: Literal["cosai"]
    name: str
    source: str
    mapping_versions: dict[str, str]
    control_categories: tuple[_Category, ...]
    risks: tuple[_CosaiRisk, ...]
    controls: tuple[_CosaiControl, ...]


def _read(name: str) -> object:
    text = resources.files("aisec.core.frameworks").joinpath("data", name).read_text("utf-8")
    return json.loads(text)


def load_atlas_data() -> AtlasData:
    try:
        return AtlasData.model_validate(_read("atlas.json"))
    except ValidationError as exc:  # pragma: no cover - a packaging bug, caught by tests
        raise RuntimeError(f"aisec package data atlas.json is invalid: {exc}") from exc


def load_cosai_data() -> CosaiData:
    try:
        return CosaiData.model_validate(_read("cosai.json"))
    except ValidationError as exc:  # pragma: no cover - a packaging bug, caught by tests
        raise RuntimeError(f"aisec package data cosai.json is invalid: {exc}") from exc


def cosai_entries(data: CosaiData) -> tuple[Entry, ...]:
    def tags(stride: tuple[str, ...], stages: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(f"stride:{s}" for s in stride) + tuple(f"lifecycle:{s}" for s in stages)

    risks = tuple(
        Entry(
            framework="cosai",
            id=r.id,
            name=r.title,
            kind="risk",
            category=r.category,
            related=r.controls + r.mappings.ids(),
            tags=tags(r.mappings.stride, r.lifecycle_stages),
        )
        for r in data.risks
    )
    titles = {c.id: c.title for c in data.control_categories}
    controls = tuple(
        Entry(
            framework="cosai",
            id=c.id,
            name=c.title,
            kind="control",
            category=titles.get(c.category or "", c.category),
            related=c.risks + c.mappings.ids(),
            tags=(("applies-to:all-risks",) if c.applies_to_all_risks else ())
            + tags(c.mappings.stride, c.lifecycle_stages),
        )
        for c in data.controls
    )
    return risks + controls
