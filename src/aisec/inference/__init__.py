"""Stage 5, inference: a security gateway in front of model APIs.

    >>> from aisec.inference import load_config, create_app
    >>> cfg, digest = load_config(Path("guard.yaml"))   # doctest: +SKIP
    >>> app = create_app(cfg, digest)                     # an ASGI app for uvicorn

Rate limits (GCRA: in one Redis Lua script, or in a dict in process), extraction detection
over each account's query stream, output hardening, audit log, metrics and attestations.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aisec.core._lazy import lazy_dir, lazy_exports

if TYPE_CHECKING:
    from aisec.inference.accounts import Account, AccountTable, hash_api_key
    from aisec.inference.alerts import AlertPipeline, AuditLog, alert_finding, attest_config
    from aisec.inference.config import (
        AccountConfig,
        Action,
        DetectorsConfig,
        GuardConfig,
        HardeningConfig,
        LimitsConfig,
        RouteConfig,
        RouteKind,
        load_config,
        parse_rate,
    )
    from aisec.inference.detect import DETECTORS, Alert, Detection, DetectorSpec, QueryEvent
    from aisec.inference.gateway import Gateway, create_app
    from aisec.inference.harden import check_request, harden_response, luhn_ok, redact
    from aisec.inference.mock import MockUpstream
    from aisec.inference.ratelimit import Decision, Limit, MemoryLimiter, RedisLimiter
    from aisec.inference.server import GatewayServer, serve
    from aisec.inference.simulate import SimulationResult, run_simulation

# the stage's modules load on first use: importing the package (as the control registry
# does) costs nothing
_EXPORTS = {
    "Account": "aisec.inference.accounts",
    "AccountTable": "aisec.inference.accounts",
    "hash_api_key": "aisec.inference.accounts",
    "AlertPipeline": "aisec.inference.alerts",
    "AuditLog": "aisec.inference.alerts",
    "alert_finding": "aisec.inference.alerts",
    "attest_config": "aisec.inference.alerts",
    "AccountConfig": "aisec.inference.config",
    "Action": "aisec.inference.config",
    "DetectorsConfig": "aisec.inference.config",
    "GuardConfig": "aisec.inference.config",
    "HardeningConfig": "aisec.inference.config",
    "LimitsConfig": "aisec.inference.config",
    "RouteConfig": "aisec.inference.config",
    "RouteKind": "aisec.inference.config",
    "load_config": "aisec.inference.config",
    "parse_rate": "aisec.inference.config",
    "DETECTORS": "aisec.inference._rules",
    "Alert": "aisec.inference.detect",
    "Detection": "aisec.inference.detect",
    "DetectorSpec": "aisec.inference._rules",
    "QueryEvent": "aisec.inference.detect",
    "Gateway": "aisec.inference.gateway",
    "create_app": "aisec.inference.gateway",
    "check_request": "aisec.inference.harden",
    "harden_response": "aisec.inference.harden",
    "luhn_ok": "aisec.inference.harden",
    "redact": "aisec.inference.harden",
    "MockUpstream": "aisec.inference.mock",
    "Decision": "aisec.inference.ratelimit",
    "Limit": "aisec.inference.ratelimit",
    "MemoryLimiter": "aisec.inference.ratelimit",
    "RedisLimiter": "aisec.inference.ratelimit",
    "GatewayServer": "aisec.inference.server",
    "serve": "aisec.inference.server",
    "SimulationResult": "aisec.inference.simulate",
    "run_simulation": "aisec.inference.simulate",
}
__getattr__ = lazy_exports(__name__, _EXPORTS)

__all__ = [
    "DETECTORS",
    "Account",
    "AccountConfig",
    "AccountTable",
    "Action",
    "Alert",
    "AlertPipeline",
    "AuditLog",
    "Decision",
    "Detection",
    "DetectorSpec",
    "DetectorsConfig",
    "Gateway",
    "GatewayServer",
    "GuardConfig",
    "HardeningConfig",
    "Limit",
    "LimitsConfig",
    "MemoryLimiter",
    "MockUpstream",
    "QueryEvent",
    "RedisLimiter",
    "RouteConfig",
    "RouteKind",
    "SimulationResult",
    "alert_finding",
    "attest_config",
    "check_request",
    "create_app",
    "harden_response",
    "hash_api_key",
    "load_config",
    "luhn_ok",
    "parse_rate",
    "redact",
    "run_simulation",
    "serve",
]
__dir__ = lazy_dir(__all__)
