"""Predicates of stage 1, data: provenance records and data-trust audits."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import ConfigDict, Field

from aisec.core.controls import ControlResult
from aisec.core.predicates._base import Digest, Predicate, _Model

__all__ = ["AuditPredicate", "AuditRisk", "AuditSource", "ProvenancePredicate"]


class ProvenancePredicate(Predicate):
    """One version of a source's provenance record; the subject is the dataset's digest."""

    STAGE: ClassVar[str] = "data"
    CONTROL: ClassVar[str] = "provenance"
    VERSION: ClassVar[int] = 2
    LEGACY: ClassVar[tuple[int, ...]] = (1,)

    record: dict[str, Any]
    version: int
    manifest: dict[str, Any]
    previous: Digest | None = None

    @classmethod
    def upgrade(cls, version: int, data: dict[str, Any]) -> dict[str, Any]:
        return {**data, "result": ControlResult.RECORDED.value}


class AuditRisk(_Model):
    model_config = ConfigDict(frozen=True, extra="allow", defer_build=True)

    overall: float


class AuditSource(_Model):
    """One source's risk, its interval, rank and the components it is made of."""

    model_config = ConfigDict(frozen=True, extra="allow", defer_build=True)

    name: str
    risk: float
    ci: tuple[float, float]
    rank: int
    rows: int
    components: dict[str, Any] = Field(default_factory=dict)


class AuditPredicate(Predicate):
    """A data-trust audit of one dataset (the subject); ``inputs`` name the provenance
    records of its sources and the reference it was compared with."""

    STAGE: ClassVar[str] = "data"
    CONTROL: ClassVar[str] = "audit"
    VERSION: ClassVar[int] = 2
    LEGACY: ClassVar[tuple[int, ...]] = (1,)

    risk: AuditRisk
    sources: tuple[AuditSource, ...] = ()
    checks: dict[str, int] = Field(default_factory=dict)
    drifted: tuple[str, ...] = ()
    sample: dict[str, Any] = Field(default_factory=dict)
    label: str | None = None

    @classmethod
    def upgrade(cls, version: int, data: dict[str, Any]) -> dict[str, Any]:
        high = any(f.get("severity") in ("high", "critical") for f in data.get("findings") or [])
        result = ControlResult.FAIL if high else ControlResult.PASS
        return {**data, "result": result.value}
