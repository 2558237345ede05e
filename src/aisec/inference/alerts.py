"""Everything that happens off the hot path: detection, alert actions, webhooks, evidence.

Requests put a :class:`QueryEvent` on a bounded queue and move on; one worker task drains it,
runs the detectors, applies each alert's actions (throttle/degrade/block are written where the
rate limiter reads them, so every replica enforces them), POSTs webhooks and hands alerts in
batches to a thread that signs ``inference/alert:v1`` attestations into the evidence store.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from pathlib import Path
from typing import IO, Any

import aiohttp

from aisec.core.evidence import ArtifactRef, EvidenceStore, Statement, predicate_type
from aisec.core.evidence.keys import SigningKey
from aisec.core.findings import Finding, Mappings, Severity, Subject
from aisec.inference.config import Action, GuardConfig
from aisec.inference.detect import Alert, Detection, QueryEvent
from aisec.inference.ratelimit import Limiter

__all__ = ["AlertPipeline", "AuditLog", "alert_finding", "attest_config"]

log = logging.getLogger(__name__)


class AuditLog:
    """JSON lines, one per decision. Holds account names and request digests, never keys."""

    def __init__(self, path: Path | None) -> None:
        self._fh: IO[str] | None = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = path.open("a", encoding="utf-8", buffering=1)

    def write(self, record: dict[str, Any]) -> None:
        if self._fh is not None:
            self._fh.write(json.dumps(record, separators=(",", ":"), default=str) + "\n")

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


def alert_finding(alert: Alert, config_digest: str) -> Finding:
    spec = alert.spec
    severity = Severity.HIGH if Action.BLOCK in alert.actions else Severity.MEDIUM
    return Finding(
        id=spec.finding_id,
        stage="inference",
        severity=severity,
        title=spec.title,
        detail=f"account {alert.account!r}: {alert.detector} score {alert.score:.2f}",
        subject=Subject(path=f"account:{alert.account}", digest=config_digest),
        remediation=spec.remediation,
        mappings=Mappings(atlas=spec.atlas, owasp_llm=spec.owasp),
        evidence={"request_id": alert.request_id, **alert.evidence},
    )


def attest_config(
    cfg: GuardConfig, config_digest: str, key: SigningKey, store_url: str | None
) -> str:
    """Record ``inference/gateway-config:v1`` for the config the gateway starts with."""
    predicate = {
        "config_digest": config_digest,
        "routes": [{"path": r.path, "kind": r.kind.value} for r in cfg.routes],
        "accounts": len(cfg.accounts),
        "shared_state": "redis" if cfg.redis else "memory",
        "fail_open": cfg.fail_open,
        "detectors": cfg.detectors.model_dump(mode="json", by_alias=True),
    }
    statement = Statement(
        subjects=(ArtifactRef("gateway-config", config_digest),),
        predicate_type=predicate_type("inference", "gateway-config"),
        predicate=predicate,
    )
    with EvidenceStore.open(store_url) as store:
        entry = store.record(statement, key)
    return str(getattr(entry, "index", ""))


class AlertPipeline:
    def __init__(
        self,
        cfg: GuardConfig,
        detection: Detection,
        limiter: Limiter,
        audit: AuditLog,
        *,
        config_digest: str,
        signing_key: SigningKey | None = None,
        store_url: str | None = None,
        on_alert: Any = None,
    ) -> None:
        self.cfg = cfg
        self.detection = detection
        self.limiter = limiter
        self.audit = audit
        self.config_digest = config_digest
        self._key = signing_key
        self._store_url = store_url
        self._on_alert = on_alert
        self.queue: asyncio.Queue[QueryEvent] = asyncio.Queue(maxsize=50_000)
        self._pending: list[Alert] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._session: aiohttp.ClientSession | None = None
        self.dropped = 0
        self.alerts: list[dict[str, Any]] = []

    def submit(self, event: QueryEvent) -> None:
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:  # detection must never slow requests down
            self.dropped += 1

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5))
        self._tasks = [asyncio.create_task(self._run()), asyncio.create_task(self._flush_loop())]

    async def drain(self) -> None:
        """Wait until every submitted event has been examined."""
        await self.queue.join()

    async def stop(self) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.queue.join(), timeout=5)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._flush()
        if self._session is not None:
            await self._session.close()

    async def _run(self) -> None:
        while True:
            batch = [await self.queue.get()]
            while len(batch) < 512 and not self.queue.empty():
                batch.append(self.queue.get_nowait())
            try:
                for alert in await self.detection.observe_batch(batch):
                    await self._handle(alert)
            except Exception:
                log.exception("detectors failed on a batch of %d request(s)", len(batch))
            finally:
                for _ in batch:
                    self.queue.task_done()

    async def _handle(self, alert: Alert) -> None:
        record = alert.to_json()
        self.audit.write(record)
        self.alerts.append(record)
        if self._on_alert is not None:
            self._on_alert(alert)
        enforce = frozenset(
            a.value for a in alert.actions if a in (Action.THROTTLE, Action.DEGRADE, Action.BLOCK)
        )
        if enforce:
            current = await self.limiter.get_actions(alert.account)
            await self.limiter.set_actions(
                alert.account, current | enforce, self.cfg.detectors.action_seconds
            )
        if Action.ALERT in alert.actions and self.cfg.webhook and self._session is not None:
            try:
                async with self._session.post(self.cfg.webhook, json=record) as resp:
                    if resp.status >= 300:
                        log.warning("webhook answered %s for alert %s", resp.status, alert.detector)
            except (aiohttp.ClientError, TimeoutError) as exc:
                log.warning("webhook failed: %s", type(exc).__name__)
        if self._key is not None:
            self._pending.append(alert)

    async def _flush_loop(self) -> None:
        while True:
            await asyncio.sleep(2.0)
            await self._flush()

    async def _flush(self) -> None:
        if not self._pending or self._key is None:
            return
        batch, self._pending = self._pending, []
        try:
            await asyncio.to_thread(self._attest, batch, self._key)
        except Exception as exc:
            log.warning("could not record %d alert(s) as evidence: %s", len(batch), exc)

    def _attest(self, batch: list[Alert], key: SigningKey) -> None:
        statement = Statement(
            subjects=(ArtifactRef("gateway-config", self.config_digest),),
            predicate_type=predicate_type("inference", "alert"),
            predicate={
                "config_digest": self.config_digest,
                "recorded_at": time.time(),
                "alerts": [a.to_json() for a in batch],
                "findings": [alert_finding(a, self.config_digest).to_json() for a in batch],
            },
        )
        with EvidenceStore.open(self._store_url) as store:
            store.record(statement, key)
