"""Predicates of stage 2, training: checkpoint records, ledger verification, infra checks."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field

from aisec.core.controls import ControlResult
from aisec.core.predicates._base import Digest, Predicate

__all__ = ["CheckpointPredicate", "CheckpointVerifyPredicate", "InfraCheckPredicate"]


class CheckpointPredicate(Predicate):
    """One checkpoint of a training run (the subject), chained to the one before."""

    STAGE: ClassVar[str] = "training"
    CONTROL: ClassVar[str] = "checkpoint"
    VERSION: ClassVar[int] = 2
    LEGACY: ClassVar[tuple[int, ...]] = (1,)

    step: int
    sequence: int
    metrics: dict[str, float] = Field(default_factory=dict)
    host: str | None = None
    time: str
    previous: Digest | None = None
    final: bool = False
    path: str
    kind: str
    interval_seconds: float | None = None

    @classmethod
    def upgrade(cls, version: int, data: dict[str, Any]) -> dict[str, Any]:
        return {**data, "result": ControlResult.RECORDED.value}


class CheckpointVerifyPredicate(Predicate):
    """A verification of a run's checkpoints on disk against its ledger."""

    STAGE: ClassVar[str] = "training"
    CONTROL: ClassVar[str] = "checkpoint-verify"
    VERSION: ClassVar[int] = 1

    run_id: str
    records: int
    checkpoints: tuple[dict[str, Any], ...] = ()


class InfraCheckPredicate(Predicate):
    """A check of training or serving infrastructure definitions (the subjects)."""

    STAGE: ClassVar[str] = "training"
    CONTROL: ClassVar[str] = "infra-check"
    VERSION: ClassVar[int] = 1

    resources: int
    rules: int
    unverified: tuple[str, ...] = ()
