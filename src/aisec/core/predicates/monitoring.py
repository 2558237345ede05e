"""Predicates of stage 6, monitoring: inventories, their updates, AI-BOMs, governance."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import ConfigDict

from aisec.core.controls import ControlResult
from aisec.core.predicates._base import Predicate, _Model

__all__ = [
    "BomPredicate",
    "GovernancePredicate",
    "InventoryPredicate",
    "InventorySystem",
    "InventoryUpdatePredicate",
]


class InventorySystem(_Model):
    model_config = ConfigDict(frozen=True, extra="allow", defer_build=True)

    id: str
    name: str
    kind: str
    registered: bool
    registry_id: str | None = None
    provider: str | None = None
    owner: str | None = None
    owner_candidates: tuple[Any, ...] = ()


class InventoryPredicate(Predicate):
    """A discovery of AI systems (subjects: the inventory document and each input)."""

    STAGE: ClassVar[str] = "monitoring"
    CONTROL: ClassVar[str] = "inventory"
    VERSION: ClassVar[int] = 2
    LEGACY: ClassVar[tuple[int, ...]] = (1,)

    summary: dict[str, Any]
    catalog_version: str
    registry: str | None = None
    systems: tuple[InventorySystem, ...]

    @classmethod
    def upgrade(cls, version: int, data: dict[str, Any]) -> dict[str, Any]:
        if "systems" not in data:
            raise ValueError("an inventory update, not a discovery")
        shadow = (data.get("summary") or {}).get("shadow")
        result = ControlResult.FAIL if shadow else ControlResult.PASS
        return {**data, "result": result.value}


class InventoryUpdatePredicate(Predicate):
    """An owner, review or risk-tier change to one system of the stored inventory."""

    STAGE: ClassVar[str] = "monitoring"
    CONTROL: ClassVar[str] = "inventory-update"
    VERSION: ClassVar[int] = 1

    update: dict[str, Any]


class BomPredicate(Predicate):
    """A CycloneDX ML-BOM (subject: the BOM document)."""

    STAGE: ClassVar[str] = "monitoring"
    CONTROL: ClassVar[str] = "ai-bom"
    VERSION: ClassVar[int] = 2
    LEGACY: ClassVar[tuple[int, ...]] = (1,)

    spec_version: str | None = None
    serial_number: str | None = None
    components: int
    services: int
    validated: bool

    @classmethod
    def upgrade(cls, version: int, data: dict[str, Any]) -> dict[str, Any]:
        return {**data, "result": ControlResult.RECORDED.value}


class GovernancePredicate(Predicate):
    """A governance report (subject: the report document)."""

    STAGE: ClassVar[str] = "monitoring"
    CONTROL: ClassVar[str] = "governance"
    VERSION: ClassVar[int] = 2
    LEGACY: ClassVar[tuple[int, ...]] = (1,)

    coverage: dict[str, float]
    stages_covered: tuple[str, ...]
    store_entries: int
    shadow: int

    @classmethod
    def upgrade(cls, version: int, data: dict[str, Any]) -> dict[str, Any]:
        return {**data, "result": ControlResult.RECORDED.value}
