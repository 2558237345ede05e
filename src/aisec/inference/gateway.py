"""The gateway: a Starlette reverse proxy with aiohttp as its upstream client.

Per request, on the hot path: authenticate (hashed key), filter the input, one rate-limit call
(one Lua script with Redis, which also returns the account's detector actions), forward,
harden the output, one audit line. Detection runs afterwards on a queue (see ``alerts``).

POSTs to a proxied route take a plain ASGI fast path (:class:`_FastPath`, inside Starlette's
``ServerErrorMiddleware``): the router, the exception middleware and the ``Request`` object
are skipped and the request's headers are read once from the ASGI scope. The request body is
parsed once and serialised once for the upstream; the response is parsed once and
re-serialised only when hardening changed it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import math
import os
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from aisec.core.digest import digest_bytes
from aisec.core.evidence.keys import SigningKey
from aisec.core.evidence.recorder import NullRecorder, Recorder, StoreRecorder
from aisec.inference import _json
from aisec.inference.accounts import Account, AccountTable
from aisec.inference.alerts import AUDIT_FLUSH_SECONDS, AlertPipeline, AuditLog, attest_config
from aisec.inference.campaign import Shape, request_shape
from aisec.inference.config import GuardConfig, RouteConfig, RouteKind
from aisec.inference.detect import Detection, QueryEvent
from aisec.inference.harden import (
    Refusal,
    check_request,
    classifier_margin,
    harden_response,
    harden_sse_event,
    logit_probe,
    prompt_text,
)
from aisec.inference.meter import StreamMeter, output_tokens
from aisec.inference.normalise import normalise, parse_body
from aisec.inference.ratelimit import Limit, Limiter, MemoryLimiter, RedisLimiter
from aisec.inference.state import STATE_VERSION, DetectorState, MemoryState, RedisState

__all__ = ["Gateway", "create_app"]

log = logging.getLogger(__name__)
MAX_BODY_BYTES = 16 * 1024 * 1024
REDIS_CONNECTIONS = 64
REDIS_POOL_WAIT_SECONDS = 5.0  # then the configured Redis-down policy applies
_HOP = {"content-length", "transfer-encoding", "connection", "content-encoding", "keep-alive"}
# the upstream's identity stays behind the gateway (the gateway's server sends its own)
_IDENTITY = {"server", "date", "x-powered-by", "via"}
_DROP = frozenset(_HOP | _IDENTITY)
#: Bodies and prompts past these sizes are parsed and filtered off the event loop, so that
#: small requests on the same replica do not wait behind them.
OFF_LOOP_BYTES = 256 * 1024
OFF_LOOP_CHARS = 64 * 1024
#: A stream's output beyond the advance is charged in steps of this many tokens as it flows.
CHARGE_STEP_TOKENS = 256


@dataclass
class _Metrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self.requests = Counter(
            "aisec_guard_requests",
            "Requests by route and outcome",
            ["route", "outcome"],
            registry=r,
        )
        self.alerts = Counter("aisec_guard_alerts", "Detector alerts", ["detector"], registry=r)
        self.queue = Gauge(
            "aisec_guard_detection_queue", "Events waiting for the detectors", registry=r
        )
        self.dropped = Gauge(
            "aisec_guard_detection_dropped", "Events dropped because the queue was full",
            registry=r,
        )  # fmt: skip
        self.latency = Histogram(
            "aisec_guard_upstream_seconds", "Upstream latency", ["route"], registry=r,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10),
        )  # fmt: skip


class Gateway:
    """State of one replica; built by :func:`create_app` and started by its lifespan."""

    def __init__(
        self,
        cfg: GuardConfig,
        config_digest: str,
        *,
        signing_key: SigningKey | None = None,
        store_url: str | None = None,
    ) -> None:
        self.cfg = cfg
        self.config_digest = config_digest
        self.accounts = AccountTable(Account(a.name, a.key_hash()) for a in cfg.accounts)
        self._account_limits = {a.name: a.limits or cfg.limits for a in cfg.accounts}
        self.routes = {r.path: r for r in cfg.routes}
        self.metrics = _Metrics()
        self.audit = AuditLog(cfg.audit_log)
        # the gateway's evidence goes through one recorder; no key, nothing recorded
        self._recorder: Recorder = (
            StoreRecorder(store_url, signing_key) if signing_key is not None else NullRecorder()
        )
        self.redis: Any = None
        self.limiter: Limiter = MemoryLimiter()
        state: DetectorState = MemoryState()
        if cfg.redis:
            import redis.asyncio as aioredis

            # a blocking pool: past REDIS_CONNECTIONS requests in flight, a request waits for a
            # connection; redis-py's default pool raised MaxConnectionsError past 100 instead,
            # which the limiter took for "Redis is down" (503, or no limit with fail-open)
            # short connect and command timeouts: a hung Redis must cost milliseconds, then
            # the limiter's circuit breaker applies the Redis-down policy without waiting
            # after a Redis restart every pooled connection is stale: one immediate retry on a
            # fresh connection (not on a timeout, which would double a hung Redis's cost)
            from redis.asyncio.retry import Retry
            from redis.backoff import NoBackoff
            from redis.exceptions import ConnectionError as RedisConnectionError

            pool = aioredis.BlockingConnectionPool.from_url(
                cfg.redis, decode_responses=True, max_connections=REDIS_CONNECTIONS,
                timeout=REDIS_POOL_WAIT_SECONDS, socket_timeout=cfg.redis_timeout,
                socket_connect_timeout=cfg.redis_timeout, retry=Retry(NoBackoff(), 1),
                retry_on_error=[RedisConnectionError],
            )  # fmt: skip
            self.redis = aioredis.Redis.from_pool(pool)
            prefix = f"{cfg.redis_prefix}:{STATE_VERSION}"
            self.limiter = RedisLimiter(self.redis, prefix, fail_open=cfg.fail_open)
            state = RedisState(self.redis, prefix)
        self.detection = Detection(cfg.detectors, state, hash_prompts=cfg.hash_prompts)
        self.pipeline = AlertPipeline(
            cfg, self.detection, self.limiter, self.audit, config_digest=config_digest,
            recorder=self._recorder,
            on_alert=lambda a: self.metrics.alerts.labels(a.detector).inc(),
        )  # fmt: skip
        self.session: aiohttp.ClientSession | None = None
        self._upstream_auth: dict[str, str] = {}
        if cfg.upstream_key_env and os.environ.get(cfg.upstream_key_env):
            self._upstream_auth = {"Authorization": f"Bearer {os.environ[cfg.upstream_key_env]}"}
        self._upstream_headers = self._upstream_auth | {"content-type": "application/json"}
        # per-request work that depends only on the config, done once
        self._urls = {
            r.path: (r.upstream or cfg.upstream) + (r.upstream_path or r.path) for r in cfg.routes
        }
        self._limit_cache: dict[tuple[str, str], tuple[tuple[str, str, bool], ...]] = {}
        self._counters: dict[tuple[str, str], Any] = {}
        self._latencies: dict[str, Any] = {}
        self._audit_task: asyncio.Task[None] | None = None
        self._charges: set[asyncio.Task[None]] = set()
        self.open_connections: dict[str, int] = {}  # peer address -> connections held open

    async def start(self) -> None:
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=512, ttl_dns_cache=300),
            timeout=aiohttp.ClientTimeout(total=self.cfg.upstream_timeout),
            auto_decompress=False,
        )
        await self.pipeline.start()
        self._audit_task = asyncio.create_task(self._flush_audit())
        if self._recorder.enabled and self.cfg.evidence:
            await asyncio.to_thread(attest_config, self.cfg, self.config_digest, self._recorder)
        self.audit.write(
            {"event": "start", "time": time.time(), "config_digest": self.config_digest,
             "state": "redis" if self.redis else "memory",
             "redis_down_policy": "fail-open" if self.cfg.fail_open else "fail-closed"}
        )  # fmt: skip

    async def _flush_audit(self) -> None:
        """Write buffered audit lines off the hot path."""
        while True:
            await asyncio.sleep(AUDIT_FLUSH_SECONDS)
            try:
                self.audit.flush()
            except OSError as exc:  # a full disk must not stop the flusher
                log.warning("could not write the audit log: %s", exc)

    async def stop(self) -> None:
        await self.pipeline.stop()
        if self._audit_task is not None:
            self._audit_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._audit_task
        if self.session is not None:
            await self.session.close()
        if self._charges:  # output-token charges still on their way
            await asyncio.gather(*self._charges, return_exceptions=True)
        await self.limiter.close()
        self.audit.close()
        if isinstance(self._recorder, StoreRecorder):
            self._recorder.close()

    def _shape(self, account: Account, route: RouteConfig) -> tuple[tuple[str, str, bool], ...]:
        """The limits that apply to the account on the route: (name, rate, counts tokens)."""
        shape = self._limit_cache.get((account.name, route.path))
        if shape is None:
            out = []
            acct = self._account_limits[account.name]
            for scope, lim in ((route.path, route.limits), ("*", acct)):
                if lim.requests:
                    out.append((f"{scope}:req", lim.requests, False))
                if lim.tokens:
                    out.append((f"{scope}:tok", lim.tokens, True))
            shape = self._limit_cache[(account.name, route.path)] = tuple(out)
        return shape

    def _limits(self, account: Account, route: RouteConfig, tokens: int) -> tuple[Limit, ...]:
        shape = self._shape(account, route)
        return tuple(Limit(name, rate, tokens if tok else 1) for name, rate, tok in shape)

    def _charge(self, account: Account, route: RouteConfig, tokens: int) -> None:
        """Charge ``tokens`` of output beyond the advance to the account's token limits, off
        the request path (the reply is not held for it)."""
        if tokens <= 0:
            return
        shape = self._shape(account, route)
        limits = tuple(Limit(name, rate, tokens) for name, rate, tok in shape if tok)
        if limits:
            task = asyncio.create_task(self.limiter.charge(account.name, limits))
            self._charges.add(task)
            task.add_done_callback(self._charges.discard)

    def _count(self, path: str, outcome: str) -> None:
        """``requests{route, outcome} += 1`` with the labelled child looked up once."""
        child = self._counters.get((path, outcome))
        if child is None:
            child = self._counters[(path, outcome)] = self.metrics.requests.labels(path, outcome)
        child.inc()

    def _reply(
        self,
        rid: str,
        status: int,
        message: str,
        action: str,
        headers: dict[str, str] | None = None,
    ) -> JSONResponse:
        h = {"x-aisec-request-id": rid, "x-aisec-action": action, **(headers or {})}
        body = {"error": {"message": message, "type": action, "request_id": rid}}
        return JSONResponse(body, status_code=status, headers=h)

    async def handle(self, request: Request) -> Response:
        """The Starlette endpoint of a proxied route (POSTs normally take :class:`_FastPath`)."""
        return await self.respond(request.scope, request.receive)

    async def respond(self, scope: Scope, receive: Receive) -> Response:
        """Decide on and forward one proxied request given as ASGI scope and receive."""
        rid = os.urandom(8).hex()
        route = self.routes.get(scope["path"])
        if route is None:
            return self._reply(rid, 404, "no such route", "not-found")
        authz = xkey = clen = None
        for name, value in scope["headers"]:  # the first of each, as Headers.get does
            if name == b"authorization":
                authz = value if authz is None else authz
            elif name == b"x-api-key":
                xkey = value if xkey is None else xkey
            elif name == b"content-length":
                clen = value if clen is None else clen
        key = _bearer(authz.decode("latin-1")) if authz else ""
        account = self.accounts.lookup(key or (xkey.decode("latin-1") if xkey else None))
        if account is None:
            self._count(route.path, "unauthorized")
            self._audit(rid, None, route, 401, "unauthorized", "")
            return self._reply(rid, 401, "missing or unknown API key", "unauthorized")
        try:
            declared = int(clen or 0)
        except ValueError:
            return self._refuse(rid, account, route, Refusal(400, "bad content-length header"))
        if declared > MAX_BODY_BYTES:
            return self._refuse(rid, account, route, Refusal(413, "request body too large"))
        try:
            async with asyncio.timeout(self.cfg.body_timeout):
                raw = await _read_body(receive)
        except TimeoutError:
            late = Refusal(408, f"request body not received within {self.cfg.body_timeout:g} s")
            return self._refuse(rid, account, route, late)
        except ClientDisconnect:
            self._count(route.path, "client-disconnect")
            self._audit(rid, account.name, route, 499, "client-disconnect", "")
            return Response(status_code=499)  # nobody reads it: the client has gone
        if raw is None:
            return self._refuse(rid, account, route, Refusal(413, "request body too large"))
        # a large body is parsed off the loop; small ones are cheaper to parse in place
        parsed = (
            await asyncio.to_thread(parse_body, raw)
            if len(raw) > OFF_LOOP_BYTES
            else parse_body(raw)
        )
        if isinstance(parsed, Refusal):
            return self._refuse(rid, account, route, parsed)
        body = parsed
        # what was asked, before stripping takes logprobs away
        bias = logit_probe(body)
        shape = request_shape(body, route)
        norm = normalise(body, route)
        if isinstance(norm, Refusal):
            return self._refuse(rid, account, route, norm)
        text = prompt_text(body, route)
        if len(text) > OFF_LOOP_CHARS:
            changes, refusal = await asyncio.to_thread(check_request, body, route, text)
        else:
            changes, refusal = check_request(body, route, text)
        if refusal is not None:
            return self._refuse(rid, account, route, refusal, text, policy=True)
        max_tok = body.get("max_tokens") if route.kind is not RouteKind.CLASSIFIER else 0
        if route.kind is RouteKind.CLASSIFIER or route.kind is RouteKind.OPENAI_EMBEDDINGS:
            out_tokens = 0
        else:
            out_tokens = norm.choices * (max_tok if isinstance(max_tok, int) else 256)
        tokens = max(1, len(text) // 4 + out_tokens)
        decision = await self.limiter.check(
            account.name, self._limits(account, route, tokens), self.cfg.detectors.throttle
        )
        if not decision.allowed:
            if decision.retry_after < 0:
                self._count(route.path, "blocked")
                self._audit(rid, account.name, route, 403, "block", text)
                return self._reply(rid, 403, "account blocked by detector policy", "block")
            action = "throttle" if "throttle" in decision.actions else decision.reason
            status = 503 if decision.reason.startswith("redis-down") else 429
            self._count(route.path, action)
            self._audit(rid, account.name, route, status, action, text)
            retry = str(max(1, math.ceil(decision.retry_after)))
            return self._reply(rid, status, "rate limit exceeded", action, {"retry-after": retry})
        degrade = "degrade" in decision.actions
        action = "degrade" if degrade else ("throttle" if "throttle" in decision.actions else "")
        return await self._forward(
            rid, account, route, body, text, (bias, shape), changes, action, degrade=degrade,
            advance=out_tokens,
        )  # fmt: skip

    def _refuse(
        self,
        rid: str,
        account: Account,
        route: RouteConfig,
        refusal: Refusal,
        text: str = "",
        *,
        policy: bool = False,
    ) -> JSONResponse:
        """Every refusal: one metric, one audit line, one JSON error. A malformed request is
        ``bad-request``; what the route's policy refuses (and any size limit) is ``refused``."""
        kind = "bad-request" if refusal.status == 400 and not policy else "refused"
        self._count(route.path, kind)
        self._audit(rid, account.name, route, refusal.status, kind, text, refusal.reason)
        return self._reply(rid, refusal.status, refusal.reason, kind)

    async def _forward(
        self, rid: str, account: Account, route: RouteConfig, body: dict[str, Any], text: str,
        asked: tuple[tuple[str, ...] | None, Shape], changes: list[str], action: str, *,
        degrade: bool, advance: int = 0,
    ) -> Response:  # fmt: skip
        assert self.session is not None  # noqa: S101 -- started by the lifespan
        url = self._urls[route.path]
        headers = {"x-aisec-request-id": rid}
        if action:
            headers["x-aisec-action"] = action
        start = time.perf_counter()
        try:
            resp = await self.session.post(
                url, data=_json.dumps(body), headers=self._upstream_headers
            )
        except (aiohttp.ClientError, TimeoutError) as exc:
            self._count(route.path, "upstream-error")
            self._audit(rid, account.name, route, 502, "upstream-error", text, type(exc).__name__)
            return self._reply(rid, 502, "upstream unreachable", "upstream-error")
        ctype = resp.headers.get("content-type", "")
        if body.get("stream") is True and ctype.startswith("text/event-stream"):
            self.pipeline.submit(QueryEvent(account.name, time.time(), text, rid, None, *asked))
            self._audit(rid, account.name, route, resp.status, action or "stream", text, *changes)
            self._count(route.path, "ok")
            return StreamingResponse(
                self._stream(
                    resp, route, degrade=degrade, rid=rid, account=account, advance=advance
                ),
                status_code=resp.status,
                headers=headers,
                media_type="text/event-stream",
            )
        try:
            payload = await resp.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            resp.release()
            self._count(route.path, "upstream-error")
            self._audit(rid, account.name, route, 502, "upstream-error", text, type(exc).__name__)
            return self._reply(rid, 502, "upstream failed mid-response", "upstream-error")
        self._latency(route.path).observe(time.perf_counter() - start)
        margin = None
        if ctype.startswith("application/json"):
            try:
                data, exact = _json.loads_reply(payload)
            except (ValueError, RecursionError):
                # a cut or corrupt upstream body is a fault, not something to pass on
                self._count(route.path, "upstream-error")
                self._audit(
                    rid, account.name, route, 502, "upstream-error", text, "invalid upstream JSON"
                )
                return self._reply(rid, 502, "upstream sent an invalid JSON body", "upstream-error")
            else:
                if route.kind is RouteKind.CLASSIFIER:
                    margin = classifier_margin(data, route)
                elif route.kind is not RouteKind.OPENAI_EMBEDDINGS and resp.status < 400:
                    self._charge(account, route, output_tokens(data) - advance)
                out = harden_response(
                    data, route, degrade=degrade,
                    degrade_decimals=self.cfg.detectors.degrade_decimals,
                )  # fmt: skip
                if out:
                    changes += out
                    payload = _json.dumps(data, exact=exact)
        if resp.status < 400:
            self.pipeline.submit(QueryEvent(account.name, time.time(), text, rid, margin, *asked))
        self._count(route.path, "ok" if resp.status < 400 else "upstream-status")
        self._audit(rid, account.name, route, resp.status, action or "allow", text, *changes)
        passthrough = {k: v for k, v in resp.headers.items() if k.lower() not in _DROP}
        return Response(payload, status_code=resp.status, headers=passthrough | headers)

    def connection_refused(self, host: str) -> None:
        """A connection past ``max-connections-per-client``: one metric, one audit line."""
        cap = self.cfg.max_connections_per_client
        self._connection_event(host, 503, "connection-cap", f"over {cap} connections")

    def header_timed_out(self, host: str) -> None:
        """Headers not complete within ``header-timeout``: one metric, one audit line."""
        late = f"headers not complete in {self.cfg.header_timeout:g} s"
        self._connection_event(host, 408, "header-timeout", late)

    def _connection_event(self, host: str, status: int, action: str, note: str) -> None:
        """A refusal before any request was read: no account, no route."""
        self._count("(connection)", action)
        self.audit.write(
            {"event": "request", "time": time.time(), "request_id": os.urandom(8).hex(),
             "account": None, "route": None, "status": status, "action": action,
             "client": host, "notes": [note]}
        )  # fmt: skip

    def _latency(self, path: str) -> Any:
        child = self._latencies.get(path)
        if child is None:
            child = self._latencies[path] = self.metrics.latency.labels(path)
        return child

    async def _stream(
        self, resp: aiohttp.ClientResponse, route: RouteConfig, *, degrade: bool, rid: str,
        account: Account, advance: int = 0,
    ) -> AsyncIterator[bytes]:  # fmt: skip
        # Where the route hardens output, every delivered event is hardened: redaction and
        # logprob stripping hold on SSE as on JSON. An upstream that cuts the stream gets one
        # audit line, one metric and a clear SSE error event to the client, not a silent end
        # that looks like success.
        # Output beyond the advance is charged as it flows, in steps, and the rest at the end.
        h = route.hardening
        rewrite = h.strip_logprobs or h.redact_secrets or degrade
        meter = StreamMeter() if self._meters(account, route) else None
        charged = advance
        buf = b""
        try:
            if not rewrite and meter is None:  # nothing to harden or meter: bytes pass as they come
                async for chunk in resp.content.iter_any():
                    yield chunk
                return
            async for chunk in resp.content.iter_any():
                if meter is not None:
                    meter.feed(chunk)
                    if meter.tokens - charged >= CHARGE_STEP_TOKENS:
                        self._charge(account, route, meter.tokens - charged)
                        charged = meter.tokens
                if not rewrite:
                    yield chunk
                    continue
                buf += chunk
                *events, buf = buf.split(b"\n\n")
                if events:
                    yield b"".join(
                        harden_sse_event(e, route, degrade=degrade) + b"\n\n" for e in events
                    )
            if buf.strip():
                yield harden_sse_event(buf, route, degrade=degrade)
        except (aiohttp.ClientError, TimeoutError) as exc:
            self._count(route.path, "stream-cut")
            self._audit(rid, account.name, route, 502, "stream-cut", "", type(exc).__name__)
            error = {"error": {"message": "upstream stream ended early", "type": "stream-cut",
                               "request_id": rid}}  # fmt: skip
            yield b"event: error\ndata: " + json.dumps(error).encode() + b"\n\n"
        finally:
            resp.release()
            if meter is not None:
                meter.close()
                self._charge(account, route, meter.tokens - charged)

    def _meters(self, account: Account, route: RouteConfig) -> bool:
        """Whether the account has a token limit on this route to meter output against."""
        return any(tok for _, _, tok in self._shape(account, route))

    def _audit(
        self, rid: str, account: str | None, route: RouteConfig, status: int, action: str,
        text: str, *notes: str,
    ) -> None:  # fmt: skip
        record: dict[str, Any] = {
            "event": "request", "time": time.time(), "request_id": rid, "account": account,
            "route": route.path, "status": status, "action": action,
        }  # fmt: skip
        if text:
            if self.cfg.hash_prompts:
                record["prompt_digest"] = digest_bytes(text.encode())
            else:
                record["prompt"] = text
        if notes:
            record["notes"] = list(notes)
        self.audit.write(record)

    def _admin(self, request: Request) -> bool:
        token = self.cfg.admin_token
        given = _bearer(request.headers.get("authorization", ""))
        return bool(token) and hmac.compare_digest(given.encode(), str(token).encode())

    async def metrics_endpoint(self, request: Request) -> Response:
        if not self.cfg.metrics_public and not self._admin(request):
            return JSONResponse({"error": "admin token required"}, status_code=401)
        self.metrics.queue.set(self.pipeline.queue.qsize())
        self.metrics.dropped.set(self.pipeline.dropped)
        return Response(generate_latest(self.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    async def health(self, request: Request) -> Response:
        status = {"status": "ok", "state": "redis" if self.redis else "memory"}
        if self.redis is not None:
            try:
                await self.redis.ping()
            except Exception:
                status["status"] = "degraded"
        return JSONResponse(status)

    async def admin_accounts(self, request: Request) -> Response:
        if not self._admin(request):
            return JSONResponse({"error": "admin token required"}, status_code=401)
        rows: list[dict[str, Any]] = []
        for name in self.accounts.names:
            actions = await self.limiter.get_actions(name)
            risk = self.detection.risk.get(name, 0.0)
            rows.append({"account": name, "risk": round(risk, 4), "actions": sorted(actions)})
        rows.sort(key=lambda r: (-float(r["risk"]), str(r["account"])))
        return JSONResponse({"schema": "aisec.guard-accounts/v1", "accounts": rows})


def _bearer(value: str) -> str:
    """The credential of an ``Authorization`` header; the scheme is case-insensitive (RFC 9110)."""
    scheme, _, credential = value.strip().partition(" ")
    if scheme.lower() == "bearer":
        return credential.strip()
    return value.strip() if not credential else ""


async def _read_body(receive: Receive) -> bytes | None:
    """The whole request body, or None once it passes :data:`MAX_BODY_BYTES`."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


class _FastPath:
    """Plain ASGI middleware: a POST to a proxied route goes straight to the gateway.

    Starlette's router, ``ExceptionMiddleware`` and ``Request`` cost ~10 % of a request's CPU
    and do nothing a proxied route needs; anything else (other methods, ``/healthz``,
    ``/metrics``, ``/admin/accounts``, unknown paths) goes on to the Starlette app unchanged.
    """

    def __init__(self, app: ASGIApp, gateway: Gateway) -> None:
        self.app = app
        self.gateway = gateway

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] == "POST"
            and scope["path"] in self.gateway.routes
        ):
            response = await self.gateway.respond(scope, receive)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def create_app(
    cfg: GuardConfig,
    config_digest: str,
    *,
    signing_key: SigningKey | None = None,
    store_url: str | None = None,
) -> Starlette:
    """The ASGI application of one gateway replica (``app.state.gateway``)."""
    gw = Gateway(cfg, config_digest, signing_key=signing_key, store_url=store_url)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await gw.start()
        try:
            yield
        finally:
            await gw.stop()

    routes = [
        Route("/healthz", gw.health, methods=["GET"]),
        Route("/metrics", gw.metrics_endpoint, methods=["GET"]),
        Route("/admin/accounts", gw.admin_accounts, methods=["GET"]),
        *(Route(r.path, gw.handle, methods=["POST"]) for r in cfg.routes),
    ]
    app = Starlette(
        routes=routes, lifespan=lifespan, middleware=[Middleware(_FastPath, gateway=gw)]
    )
    # Starlette would answer "/v1/chat/completions/" with a redirect built from the Host
    # header: an open redirect on someone else's name. Unknown paths get a 404 instead.
    app.router.redirect_slashes = False
    app.state.gateway = gw
    return app
