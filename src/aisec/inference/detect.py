"""Model-extraction detectors over each account's query stream.

Events that carry their request's :class:`~aisec.inference.campaign.Shape` (everything the
gateway and ``aisec guard replay`` send) are judged by the campaign detectors of
:mod:`aisec.inference.campaign` against the account's own baseline:
``paraphrase-concentration``, ``cross-account``, ``boundary-probing`` (edit walks),
``logit-probing``, ``distillation-harvest`` and ``embedding-theft``; plus ``volume-anomaly``
(queries in the current time bucket against the account's own mean).

Events without a shape (library callers), and every event when ``prada: true``, also go
through the older window of records (time, MinHash signature, nearest-neighbour distance,
classifier margin, logit-probe flag), kept in the shared state (Redis across replicas):

* ``paraphrase-density`` — share of recent queries that are near-duplicates of an earlier one.
* ``prada`` — PRADA (Juuti et al. 2019): Shapiro-Wilk W of nearest-neighbour distances.
* ``boundary-probing`` (margins only), ``logit-probing`` (distinct ``logit_bias`` maps)."""

from __future__ import annotations

import itertools
from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from statistics import fmean, median
from typing import Any

import numpy as np

from aisec.core.digest import digest_bytes
from aisec.inference._rules import DETECTORS, DetectorSpec
from aisec.inference._sketch import NUM_PERM, SHAPIRO, signature, signatures
from aisec.inference.campaign import Campaigns, Shape
from aisec.inference.config import Action, DetectorsConfig
from aisec.inference.state import DetectorState

__all__ = [
    "DETECTORS",
    "Alert",
    "Detection",
    "DetectorSpec",
    "QueryEvent",
    "signature",
    "signatures",
]

PRADA_STRIDE = 5


_BY_NAME = {d.name: d for d in DETECTORS}


@dataclass(frozen=True, slots=True)
class QueryEvent:
    account: str
    t: float
    text: str
    request_id: str
    margin: float | None = None  # classifier: top-1 minus top-2 score
    logit_bias: tuple[str, ...] | None = None  # sorted token ids when logprobs were asked too
    shape: Shape | None = None  # what the request asked for (campaign detectors)


@dataclass(frozen=True, slots=True)
class Alert:
    account: str
    detector: str
    score: float
    time: float
    request_id: str
    evidence: dict[str, Any]
    actions: tuple[Action, ...]
    spec: DetectorSpec = field(repr=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "event": "alert",
            "account": self.account,
            "detector": self.detector,
            "score": round(self.score, 4),
            "time": self.time,
            "request_id": self.request_id,
            "finding": self.spec.rule.id,
            "title": self.spec.rule.title,
            "atlas": list(self.spec.rule.mappings.atlas),
            "owasp_llm": list(self.spec.rule.mappings.owasp_llm),
            "actions": [a.value for a in self.actions],
            "evidence": self.evidence,
        }


class _Window:
    """An account's recent records, newest first, with the counts the detectors need kept up
    to date as records enter and leave (so a check costs O(1), not a pass over the window)."""

    __slots__ = ("biased", "boundary", "low", "maxlen", "nd", "records", "scored")

    def __init__(self, records: Iterable[dict[str, Any]], maxlen: int, boundary: float) -> None:
        self.records: deque[dict[str, Any]] = deque()
        self.maxlen = maxlen
        self.boundary = boundary
        self.nd = self.scored = self.low = 0
        self.biased: Counter[str] = Counter()
        for r in records:
            self.records.append(r)
            self._count(r, 1)

    def _count(self, r: dict[str, Any], sign: int) -> None:
        if r["nd"]:
            self.nd += sign
        m = r.get("m")
        if m is not None:
            self.scored += sign
            if m < self.boundary:
                self.low += sign
        lb = r.get("lb")
        if lb is not None:
            self.biased[lb] += sign
            if not self.biased[lb]:
                del self.biased[lb]

    def push(self, record: dict[str, Any]) -> None:
        """Add the newest record, dropping the oldest once ``maxlen`` are held."""
        if len(self.records) >= self.maxlen:
            self._count(self.records.pop(), -1)
        self.records.appendleft(record)
        self._count(record, 1)

    def trim(self, size: int) -> None:
        """Drop the oldest records until ``size`` are left."""
        while len(self.records) > size:
            self._count(self.records.pop(), -1)

    def __len__(self) -> int:
        return len(self.records)


class Detection:
    """Runs every detector for one event against the shared state and returns new alerts."""

    def __init__(self, cfg: DetectorsConfig, state: DetectorState, *, hash_prompts: bool) -> None:
        self.cfg = cfg
        self.state = state
        self.hash_prompts = hash_prompts
        self.risk: dict[str, float] = {}
        self._seen: dict[str, int] = {}
        self._matrices: dict[str, tuple[dict[str, Any], np.ndarray[Any, Any]]] = {}
        self._windows: dict[str, _Window] = {}
        self.campaigns = Campaigns(cfg, self._sample)

    def _sample(self, text: str) -> str:
        return digest_bytes(text.encode()) if self.hash_prompts else text[:160]

    def _actions(self, detector: str) -> tuple[Action, ...]:
        acts = self.cfg.actions
        return tuple(acts.get(detector, acts.get("*", (Action.LOG,))))

    async def observe(self, ev: QueryEvent) -> list[Alert]:
        return await self.observe_batch([ev])

    async def observe_batch(self, events: list[QueryEvent]) -> list[Alert]:
        """Examine events in order. State is read and written once per account and batch, so
        the cost per event falls as load rises; every event is still judged on the window as
        it stood at that event."""
        cfg = self.cfg
        # events with a request shape go to the campaign detectors; the MinHash window (and
        # its state round trips) is kept for shape-less events and for PRADA
        shaped = [ev for ev in events if ev.shape is not None and not cfg.prada]
        alerts = await self._observe_shaped(shaped) if shaped else []
        events = [ev for ev in events if ev.shape is None or cfg.prada]
        if not events:
            return alerts
        by_account: dict[str, list[QueryEvent]] = {}
        for ev in events:
            by_account.setdefault(ev.account, []).append(ev)
        sigs = dict(zip(map(id, events), signatures([ev.text for ev in events]), strict=True))
        hexes = {k: sig.tobytes().hex() for k, sig in sigs.items()}
        crosses: dict[int, list[tuple[str, float, dict[str, Any]]]] = {}
        keep = cfg.window - 1
        for account, evs in by_account.items():
            recent = await self.state.recent(account, keep)
            window = self._window(account, recent)
            # the window's signatures newest first, in a buffer filled from the back: each new
            # signature goes in front of the last without copying the others (no vstack)
            old = self._matrix(account, recent)
            buf = np.empty((len(evs) + len(old), NUM_PERM), dtype=np.uint32)
            buf[len(evs) :] = old
            top, rows = len(evs), len(old)
            volumes = await self._volumes(account, evs)
            records = []
            for ev in evs:
                sig = sigs[id(ev)]
                matrix = buf[top : top + rows]
                # max over rows of the share of equal positions: the nearest earlier query
                nearest = float((matrix == sig).sum(axis=1).max()) / NUM_PERM if rows else 0.0
                record: dict[str, Any] = {
                    "t": ev.t,
                    "s": hexes[id(ev)],
                    "q": self._sample(ev.text),
                    "m": ev.margin,
                    "lb": ",".join(ev.logit_bias) if ev.logit_bias is not None else None,
                    "d": 1.0 - nearest,
                    "nd": nearest >= cfg.near_duplicate_jaccard,
                }
                records.append(record)
                window.push(record)
                top -= 1
                buf[top] = sig
                rows = min(rows, keep) + 1
                self._seen[account] = seen = self._seen.get(account, 0) + 1
                checks = []
                if cfg.prada and seen % PRADA_STRIDE == 0:  # a test per query costs too much
                    checks.append(self._prada)
                if ev.shape is None:  # events without a shape: the window detectors only
                    checks += [self._paraphrase, self._boundary, self._logit]
                found = [hit for check in checks if (hit := check(window)) is not None]
                if ev.shape is not None:
                    own, cross = self.campaigns.observe(
                        account, ev.t, ev.shape, ev.margin, ev.logit_bias
                    )
                    found += own
                    if cross:
                        crosses.setdefault(id(ev), []).extend(cross)
                if (vol := volumes.get(id(ev))) is not None:
                    found.append(vol)
                alerts += await self._emit(ev, found, crosses.get(id(ev), []))
            await self.state.push_many(account, records, cfg.window)
            self._matrices[account] = (window.records[0], buf[top : top + min(rows, keep)].copy())
            self._windows[account] = window
        return alerts

    async def _observe_shaped(self, events: list[QueryEvent]) -> list[Alert]:
        by_account: dict[str, list[QueryEvent]] = {}
        for ev in events:
            by_account.setdefault(ev.account, []).append(ev)
        alerts: list[Alert] = []
        for account, evs in by_account.items():
            volumes = await self._volumes(account, evs)
            for ev in evs:
                assert ev.shape is not None  # noqa: S101 -- selected by the caller
                found, cross = self.campaigns.observe(
                    account, ev.t, ev.shape, ev.margin, ev.logit_bias
                )
                if (vol := volumes.get(id(ev))) is not None:
                    found.append(vol)
                alerts += await self._emit(ev, found, cross)
        return alerts

    def _window(self, account: str, recent: list[dict[str, Any]]) -> _Window:
        """The window with its counts, reused while it is the one we left (as ``_matrix``)."""
        cached = self._windows.get(account)
        if (
            cached is not None
            and recent
            and cached.records[0] is recent[0]
            and len(recent) == min(len(cached), self.cfg.window - 1)
        ):
            cached.trim(len(recent))
            return cached
        return _Window(recent, self.cfg.window, self.cfg.boundary_margin)

    def _matrix(
        self, account: str, window: list[dict[str, Any]]
    ) -> np.ndarray[Any, np.dtype[np.uint32]]:
        """The window's signatures as a matrix, reused while the window is the one we left."""
        cached = self._matrices.get(account)
        if (
            cached is not None
            and window
            and cached[0] is window[0]
            and len(cached[1]) == len(window)
        ):
            return cached[1]
        hexes = "".join(r["s"] for r in window)
        return np.frombuffer(bytes.fromhex(hexes), dtype=np.uint32).reshape(len(window), NUM_PERM)

    async def _emit(
        self,
        ev: QueryEvent,
        found: list[tuple[str, float, dict[str, Any]]],
        cross: list[tuple[str, float, dict[str, Any]]],
    ) -> list[Alert]:
        alerts = []
        span = self.cfg.action_seconds / 4
        for name, score, evidence in found:
            self.risk[ev.account] = max(self.risk.get(ev.account, 0.0), score)
            if await self.state.once(f"{ev.account}:{name}", span, ev.t):
                alerts.append(self._alert(ev, name, score, evidence))
        for other, score, evidence in cross:
            self.risk[other] = max(self.risk.get(other, 0.0), score)
            if await self.state.once(f"{other}:cross-account", span, ev.t):
                alerts.append(self._alert(ev, "cross-account", score, evidence, account=other))
        return alerts

    def _alert(
        self,
        ev: QueryEvent,
        name: str,
        score: float,
        evidence: dict[str, Any],
        *,
        account: str = "",
    ) -> Alert:
        return Alert(
            account=account or ev.account,
            detector=name,
            score=score,
            time=ev.t,
            request_id=ev.request_id,
            evidence=evidence,
            actions=self._actions(name),
            spec=_BY_NAME[name],
        )

    def _base(self, window: _Window, key: str) -> dict[str, Any]:
        records = window.records
        hits = [r for r in records if r.get(key)]
        return {
            "queries": len(records),
            "matching": len(hits),
            "first_t": records[-1]["t"],
            "last_t": records[0]["t"],
            "samples": [r["q"] for r in hits[:5]],
        }

    def _paraphrase(self, window: _Window) -> tuple[str, float, dict[str, Any]] | None:
        if len(window) < self.cfg.min_queries:
            return None
        density = window.nd / len(window)
        if density < self.cfg.paraphrase_density:
            return None
        return "paraphrase-density", density, self._base(window, "nd")

    def _prada(self, window: _Window) -> tuple[str, float, dict[str, Any]] | None:
        # the oldest query has no neighbour in the window
        dists = [r["d"] for r in itertools.islice(window.records, len(window) - 1)]
        if len(dists) < self.cfg.min_queries or max(dists) - min(dists) < 1e-9:
            return None
        # lexical distances of unrelated queries pile up at 1.0, a degenerate distribution
        # that no normality test should judge: PRADA looks only at streams with close queries
        # (statistics.median: the value np.median gives, at a third of its cost on a short list)
        if median(dists) >= 0.9:
            return None
        w = float(SHAPIRO(dists)[0])
        if w >= self.cfg.prada_delta:
            return None
        ev = self._base(window, "nd") | {"shapiro_w": round(w, 4), "delta": self.cfg.prada_delta}
        return "prada", 1.0 - w, ev

    def _boundary(self, window: _Window) -> tuple[str, float, dict[str, Any]] | None:
        if window.scored < self.cfg.min_queries:
            return None
        share = window.low / window.scored
        if share < self.cfg.boundary_fraction:
            return None
        low = [r for r in window.records if r.get("m") is not None and r["m"] < window.boundary]
        ev: dict[str, Any] = {"classifier_queries": window.scored, "low_margin": window.low}
        ev["samples"] = [r["q"] for r in low[:5]]
        return "boundary-probing", share, ev

    def _logit(self, window: _Window) -> tuple[str, float, dict[str, Any]] | None:
        variations = len(window.biased)
        if variations < self.cfg.logit_probes:
            return None
        ev = {"queries": len(window), "logit_bias_with_logprobs": window.biased.total()}
        ev["distinct_variations"] = variations
        return "logit-probing", min(1.0, variations / (2 * self.cfg.logit_probes)), ev

    async def _volumes(
        self, account: str, evs: list[QueryEvent]
    ) -> dict[int, tuple[str, float, dict[str, Any]]]:
        cfg = self.cfg
        keep = 48
        per_bucket: dict[int, list[QueryEvent]] = {}
        for ev in evs:
            per_bucket.setdefault(int(ev.t // cfg.volume_bucket_seconds), []).append(ev)
        out = {}
        for bucket, bevs in per_bucket.items():
            counts = await self.state.bucket(account, bucket, keep, len(bevs))
            first = min(counts)
            history = [counts.get(b, 0) for b in range(first, bucket)]
            if len(history) < cfg.volume_min_buckets:
                continue
            baseline = max(fmean(history), 1.0)
            start = counts[bucket] - len(bevs)
            for k, ev in enumerate(bevs, start=1):
                now = start + k  # the count as it stood at this event
                if now < cfg.min_queries or now < cfg.volume_factor * baseline:
                    continue
                evidence = {"bucket_seconds": cfg.volume_bucket_seconds, "current": now}
                evidence |= {"baseline_mean": round(baseline, 2), "history_buckets": len(history)}
                score = min(1.0, now / (cfg.volume_factor * baseline * 2))
                out[id(ev)] = ("volume-anomaly", score, evidence)
        return out
