"""Predicates of the core controls: an artifact record (``core/artifact``) and a triage
decision about a finding (``core/triage``)."""

from __future__ import annotations

from datetime import date
from typing import Any, ClassVar

from pydantic import Field, model_validator

from aisec.core.controls import ControlResult
from aisec.core.predicates._base import Digest, Predicate, _Model
from aisec.core.predicates.enums import TriageState

__all__ = ["ArtifactInfo", "ArtifactPredicate", "TriagePredicate"]


class ArtifactInfo(_Model):
    name: str
    kind: str
    digest: Digest
    files: int
    bytes: int


class ArtifactPredicate(Predicate):
    """Any file or folder joins the chain; ``inputs`` (role ``source``) record its lineage."""

    STAGE: ClassVar[str] = "core"
    CONTROL: ClassVar[str] = "artifact"
    VERSION: ClassVar[int] = 2
    LEGACY: ClassVar[tuple[int, ...]] = (1,)

    artifacts: tuple[ArtifactInfo, ...]
    stage: str | None = None
    note: str | None = None

    @classmethod
    def upgrade(cls, version: int, data: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in data.items() if k != "derived_from"}
        out["result"] = ControlResult.RECORDED.value
        out["inputs"] = [
            {"name": "derived-from", "digest": d, "role": "source"}
            for d in data.get("derived_from") or []
        ]
        return out


class TriagePredicate(Predicate):
    """A team's decision about one finding, signed like any evidence (subject: the artifact the
    finding is about). The newest decision for a fingerprint is its state."""

    STAGE: ClassVar[str] = "core"
    CONTROL: ClassVar[str] = "triage"
    VERSION: ClassVar[int] = 1

    fingerprint: str = Field(pattern=r"^fp:[0-9a-f]{24}$")
    rule_id: str
    finding_stage: str
    state: TriageState
    reason: str = Field(min_length=3, max_length=2000)
    by: str = Field(min_length=1, max_length=200)
    until: date | None = None
    entry: int | None = None  # the log entry that reported the finding

    @model_validator(mode="after")
    def _expiry(self) -> TriagePredicate:
        if self.state.needs_expiry and self.until is None:
            raise ValueError(f"a {self.state.value} decision needs an expiry date (until)")
        return self
