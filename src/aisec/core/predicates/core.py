"""Predicates of the core controls: an artifact record (``core/artifact``)."""

from __future__ import annotations

from typing import Any, ClassVar

from aisec.core.controls import ControlResult
from aisec.core.predicates._base import Digest, Predicate, _Model

__all__ = ["ArtifactInfo", "ArtifactPredicate"]


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
