"""Predicates of stage 5, inference: the gateway's configuration and its alerts."""

from __future__ import annotations

from typing import Any, ClassVar

from aisec.core.controls import ControlResult
from aisec.core.predicates._base import Digest, Predicate, _Model

__all__ = ["AlertPredicate", "GatewayConfigPredicate", "RouteInfo"]


class RouteInfo(_Model):
    path: str
    kind: str


class GatewayConfigPredicate(Predicate):
    """The policy a gateway enforces (subject: the config's digest); ``inputs`` name the
    model it serves where known."""

    STAGE: ClassVar[str] = "inference"
    CONTROL: ClassVar[str] = "gateway-config"
    VERSION: ClassVar[int] = 2
    LEGACY: ClassVar[tuple[int, ...]] = (1,)

    config_digest: Digest
    routes: tuple[RouteInfo, ...]
    accounts: int
    shared_state: str
    fail_open: bool
    detectors: dict[str, Any]
    model_digest: Digest | None = None

    @classmethod
    def upgrade(cls, version: int, data: dict[str, Any]) -> dict[str, Any]:
        return {**data, "result": ControlResult.RECORDED.value}


class AlertPredicate(Predicate):
    """A batch of alerts a gateway raised (subject: the config it was running)."""

    STAGE: ClassVar[str] = "inference"
    CONTROL: ClassVar[str] = "alert"
    VERSION: ClassVar[int] = 2
    LEGACY: ClassVar[tuple[int, ...]] = (1,)

    config_digest: Digest
    recorded_at: float
    alerts: tuple[dict[str, Any], ...]

    @classmethod
    def upgrade(cls, version: int, data: dict[str, Any]) -> dict[str, Any]:
        return {**data, "result": ControlResult.FAIL.value}
