"""Detector state: per-account query windows, volume buckets and once-per-span markers.

In process by default; in Redis when configured, so that every replica sees one account's
whole stream. Both stores implement the same calls; detectors are pure functions over what
they return, so live, replayed and multi-replica detection agree. Every key is per account and
bounded (a window of ``window`` records, ``keep`` volume buckets, one marker per detector), so
Redis memory grows with the number of accounts, never with the request rate. The campaign
detectors' cluster profiles (``aisec.inference.campaign``) are per replica and capped.
"""

from __future__ import annotations

import json
from collections import defaultdict, deque
from typing import Any, Protocol

__all__ = ["STATE_VERSION", "DetectorState", "MemoryState", "RedisState"]


#: The layout of the keys below and of the limiter's (``aisec.inference.ratelimit``). Part of
#: every key (``<redis-prefix>:v2:...``): a gateway of another layout never misreads them; it
#: starts from empty state beside them, and the old keys expire (24 h at most).
STATE_VERSION = "v2"


class DetectorState(Protocol):
    async def recent(self, account: str, window: int) -> list[dict[str, Any]]:
        """The account's last ``window`` records, newest first."""
        ...

    async def push_many(self, account: str, records: list[dict[str, Any]], window: int) -> None:
        """Append ``records`` (oldest first), keeping the last ``window``."""
        ...

    async def bucket(self, account: str, bucket: int, keep: int, n: int) -> dict[int, int]:
        """Count ``n`` queries in ``bucket``; return the account's recent bucket counts."""
        ...

    async def size(self, account: str) -> int:
        """How many queries the account's window holds."""
        ...

    async def once(self, key: str, seconds: float, now: float) -> bool:
        """True the first time ``key`` is seen within ``seconds`` of ``now`` (event time)."""
        ...


class MemoryState:
    def __init__(self) -> None:
        self._windows: dict[str, deque[dict[str, Any]]] = {}
        self._buckets: dict[str, dict[int, int]] = defaultdict(dict)
        self._once: dict[str, float] = {}

    async def recent(self, account: str, window: int) -> list[dict[str, Any]]:
        win = self._windows.get(account)
        return list(reversed(win))[:window] if win is not None else []

    async def push_many(self, account: str, records: list[dict[str, Any]], window: int) -> None:
        win = self._windows.get(account)
        if win is None:
            win = self._windows[account] = deque(maxlen=window)
        win.extend(records)

    async def bucket(self, account: str, bucket: int, keep: int, n: int) -> dict[int, int]:
        counts = self._buckets[account]
        counts[bucket] = counts.get(bucket, 0) + n
        for old in [b for b in counts if b <= bucket - keep]:
            del counts[old]
        return dict(counts)

    async def size(self, account: str) -> int:
        win = self._windows.get(account)
        return len(win) if win is not None else 0

    async def once(self, key: str, seconds: float, now: float) -> bool:
        if self._once.get(key, float("-inf")) > now:
            return False
        self._once[key] = now + seconds
        return True


class RedisState:
    """The same state in Redis (lists, hashes, sorted sets), one pipeline per call."""

    def __init__(self, client: Any, prefix: str) -> None:
        self._r = client
        self._p = prefix
        self._cache: dict[str, tuple[int, list[dict[str, Any]]]] = {}

    async def recent(self, account: str, window: int) -> list[dict[str, Any]]:
        """Served from a local copy; only records other replicas added since are fetched
        (a sequence number counts every record ever pushed for the account)."""
        seq = int(await self._r.get(f"{self._p}:seq:{account}") or 0)
        cached = self._cache.get(account)
        if cached is not None and cached[0] == seq:
            return cached[1][:window]
        missing = seq - cached[0] if cached is not None else window
        if cached is None or missing > window or missing < 0:
            raw = await self._r.lrange(f"{self._p}:win:{account}", 0, window - 1)
            records = [json.loads(x) for x in raw]
        else:
            raw = await self._r.lrange(f"{self._p}:win:{account}", 0, missing - 1)
            records = [json.loads(x) for x in raw] + cached[1]
        records = records[:window]
        self._cache[account] = (seq, records)
        return records

    async def push_many(self, account: str, records: list[dict[str, Any]], window: int) -> None:
        key = f"{self._p}:win:{account}"
        pipe = self._r.pipeline(transaction=True)
        pipe.lpush(key, *(json.dumps(r, separators=(",", ":")) for r in records))
        pipe.ltrim(key, 0, window - 1)
        pipe.expire(key, 86400)
        pipe.incrby(f"{self._p}:seq:{account}", len(records))
        pipe.expire(f"{self._p}:seq:{account}", 86400)
        *_, seq, _ = await pipe.execute()
        cached = self._cache.get(account)
        if cached is not None and cached[0] + len(records) == seq:
            # nobody else wrote in between: the local copy stays exact
            self._cache[account] = (seq, [*reversed(records), *cached[1]][:window])
        else:
            self._cache.pop(account, None)

    async def bucket(self, account: str, bucket: int, keep: int, n: int) -> dict[int, int]:
        key = f"{self._p}:vol:{account}"
        pipe = self._r.pipeline(transaction=True)
        pipe.hincrby(key, str(bucket), n)
        pipe.hgetall(key)
        pipe.expire(key, 86400)
        _, raw, _ = await pipe.execute()
        counts = {int(k): int(v) for k, v in raw.items()}
        old = [str(b) for b in counts if b <= bucket - keep]
        if old:
            await self._r.hdel(key, *old)
        return {b: c for b, c in counts.items() if b > bucket - keep}

    async def size(self, account: str) -> int:
        return int(await self._r.llen(f"{self._p}:win:{account}"))

    async def once(self, key: str, seconds: float, now: float) -> bool:
        return bool(
            await self._r.set(f"{self._p}:once:{key}", "1", nx=True, px=int(seconds * 1000))
        )
