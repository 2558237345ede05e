"""Everything that happens off the hot path: detection, alert actions, webhooks, evidence.

Requests put a :class:`QueryEvent` on a bounded queue and move on; one worker task drains it,
runs the detectors, applies each alert's actions (throttle/degrade/block are written where the
rate limiter reads them, so every replica enforces them), POSTs webhooks and hands alerts in
batches to a thread that signs ``inference/alert:v1`` attestations into the evidence store.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from pathlib import Path
from typing import IO, Any

import aiohttp

from aisec.core.evidence import LogEntry
from aisec.core.evidence.recorder import Recorder
from aisec.core.findings import Finding, Severity
from aisec.inference import _json
from aisec.inference.config import Action, GuardConfig
from aisec.inference.detect import Alert, Detection, QueryEvent
from aisec.inference.ratelimit import Limiter

__all__ = ["AlertPipeline", "AuditLog", "alert_finding", "attest_config"]

log = logging.getLogger(__name__)
AUDIT_FLUSH_SECONDS = 0.5
AUDIT_MAX_PENDING = 512
DETECTION_BATCH = 64  # events examined per pass: one pass holds the loop for ~3 ms at most
DETECTION_WAIT_SECONDS = 0.005


class AuditLog:
    """JSON lines, one per decision. Holds account names and request digests, never keys.

    Buffered: :meth:`write` only serialises the record and appends the line to a list; the
    gateway calls :meth:`flush` from a background task (every :data:`AUDIT_FLUSH_SECONDS`), and
    when :data:`AUDIT_MAX_PENDING` lines are waiting. Each flush is one ``write(2)`` of whole lines
    on an ``O_APPEND`` file, so replicas (``--workers N``) appending to one file never split a
    line. A crash loses at most the last second of audit lines; ``close`` flushes.
    """

    def __init__(self, path: Path | None) -> None:
        self._fh: IO[bytes] | None = None
        self._pending: list[str] = []
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = path.open("ab", buffering=0)

    def write(self, record: dict[str, Any]) -> None:
        if self._fh is not None:
            self._pending.append(_json.dumps_text(record))
            if len(self._pending) >= AUDIT_MAX_PENDING:
                self.flush()

    def flush(self) -> None:
        if self._fh is None or not self._pending:
            return
        data = memoryview(("\n".join(self._pending) + "\n").encode())
        self._pending = []
        while data:  # a raw write may be partial
            n = self._fh.write(data)
            data = data[n or 0 :]

    def close(self) -> None:
        if self._fh is not None:
            self.flush()
            self._fh.close()
            self._fh = None


def alert_finding(alert: Alert, config_digest: str) -> Finding:
    severity = Severity.HIGH if Action.BLOCK in alert.actions else Severity.MEDIUM
    return alert.spec.rule.finding(
        f"account:{alert.account}",
        f"account {alert.account!r}: {alert.detector} score {alert.score:.2f}",
        digest=config_digest,
        severity=severity,
        evidence={"request_id": alert.request_id, **alert.evidence},
    )


def attest_config(cfg: GuardConfig, config_digest: str, recorder: Recorder) -> LogEntry | None:
    """Record the gateway-config attestation for the config the gateway starts with.

    Its subject is the config's digest; when the config names the model it serves, the model
    is an input (role ``model``), so ``aisec evidence chain`` reaches the gateway (and its
    alerts) from the model.
    """
    from aisec.core.controls import ControlResult
    from aisec.core.predicates._base import InputRef, SubjectRef
    from aisec.core.predicates.inference import GatewayConfigPredicate, RouteInfo
    from aisec.inference.config import model_digest

    served = model_digest(cfg)
    inputs: tuple[InputRef, ...] = ()
    if served is not None:
        name = cfg.model if cfg.model and not cfg.model.startswith("sha256:") else "model"
        inputs = (InputRef(name=name, digest=served, role="model"),)
    predicate = GatewayConfigPredicate(
        result=ControlResult.RECORDED,
        subjects=(SubjectRef(name="gateway-config", digest=config_digest),),
        inputs=inputs,
        config_digest=config_digest,
        routes=tuple(RouteInfo(path=r.path, kind=r.kind.value) for r in cfg.routes),
        accounts=len(cfg.accounts),
        shared_state="redis" if cfg.redis else "memory",
        fail_open=cfg.fail_open,
        detectors=cfg.detectors.model_dump(mode="json", by_alias=True),
        model_digest=served,
    )
    return recorder.record(predicate)


class AlertPipeline:
    def __init__(
        self,
        cfg: GuardConfig,
        detection: Detection,
        limiter: Limiter,
        audit: AuditLog,
        *,
        config_digest: str,
        recorder: Recorder | None = None,
        on_alert: Any = None,
    ) -> None:
        self.cfg = cfg
        self.detection = detection
        self.limiter = limiter
        self.audit = audit
        self.config_digest = config_digest
        self._recorder = recorder if recorder is not None and recorder.enabled else None
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
            if self.queue.qsize() < DETECTION_BATCH:
                # let a few more requests arrive: per-batch costs dominate a batch of one
                # (~100 us an event alone, ~60 us in a batch of 8); detection lags by 5 ms
                await asyncio.sleep(DETECTION_WAIT_SECONDS)
            while len(batch) < DETECTION_BATCH and not self.queue.empty():
                batch.append(self.queue.get_nowait())
            try:
                for alert in await self.detection.observe_batch(batch):
                    await self._handle(alert)
            except Exception:
                log.exception("detectors failed on a batch of %d request(s)", len(batch))
            finally:
                for _ in batch:
                    self.queue.task_done()
            await asyncio.sleep(0)  # requests first: a batch holds the loop for ~50 us an event

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
        if self._recorder is not None:
            self._pending.append(alert)

    async def _flush_loop(self) -> None:
        while True:
            await asyncio.sleep(2.0)
            await self._flush()

    async def _flush(self) -> None:
        if not self._pending or self._recorder is None:
            return
        batch, self._pending = self._pending, []
        try:
            await asyncio.to_thread(self._attest, batch, self._recorder)
        except Exception as exc:
            log.warning("could not record %d alert(s) as evidence: %s", len(batch), exc)

    def _attest(self, batch: list[Alert], recorder: Recorder) -> None:
        from aisec.core.controls import ControlResult
        from aisec.core.predicates._base import SubjectRef
        from aisec.core.predicates.inference import AlertPredicate

        predicate = AlertPredicate(
            result=ControlResult.FAIL,  # an alert is a finding against the traffic
            subjects=(SubjectRef(name="gateway-config", digest=self.config_digest),),
            findings=tuple(alert_finding(a, self.config_digest) for a in batch),
            config_digest=self.config_digest,
            recorded_at=time.time(),
            alerts=tuple(a.to_json() for a in batch),
        )
        recorder.record(predicate)
