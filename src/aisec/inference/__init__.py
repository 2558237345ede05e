"""Stage 5, inference: a security gateway in front of model APIs.

    >>> from aisec.inference import load_config, create_app
    >>> cfg, digest = load_config(Path("guard.yaml"))   # doctest: +SKIP
    >>> app = create_app(cfg, digest)                     # an ASGI app for uvicorn

Rate limits (GCRA: in one Redis Lua script, or in a dict in process), extraction detection
over each account's query stream, output hardening, audit log, metrics and attestations.
"""

from __future__ import annotations

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
