"""Detector state: per-account query windows, volume buckets and the cross-account LSH index.

In process by default; in Redis when configured, so that every replica sees one account's
whole stream. Both stores implement the same four calls; detectors are pure functions over
what they return, so live, replayed and multi-replica detection agree.
"""

from __future__ import annotations

import json
from collections import defaultdict, deque
from typing import Any, Protocol

__all__ = ["DetectorState", "MemoryState", "RedisState"]


_CROSS = """
local prefix, horizon, nb = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local out = {}
local i = 4
while i <= #ARGV do
  local member, t = ARGV[i], tonumber(ARGV[i + 1])
  local seen, found = {}, {}
  for b = 1, nb do
    local key = prefix .. ':lsh:' .. ARGV[i + 1 + b]
    redis.call('ZREMRANGEBYSCORE', key, '-inf', t - horizon)
    redis.call('ZADD', key, t, member)
    redis.call('EXPIRE', key, math.floor(horizon) + 1)
    for _, m in ipairs(redis.call('ZRANGE', key, 0, -1)) do
      if not seen[m] then seen[m] = true; found[#found + 1] = m end
    end
  end
  out[#out + 1] = found
  i = i + 2 + nb
end
return out
"""


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

    async def cross_many(
        self, items: list[tuple[str, list[str], float]], horizon: float
    ) -> list[set[str]]:
        """For each (member, bands, t) in order: index the member under each band and return
        every member sharing a band with it (itself included)."""
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
        self._bands: dict[str, dict[str, float]] = defaultdict(dict)
        self._once: dict[str, float] = {}
        self._calls = 0

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

    async def cross_many(
        self, items: list[tuple[str, list[str], float]], horizon: float
    ) -> list[set[str]]:
        return [self._cross(member, bands, t, horizon) for member, bands, t in items]

    def _cross(self, member: str, bands: list[str], t: float, horizon: float) -> set[str]:
        self._calls += 1
        if self._calls % 10_000 == 0:  # drop bands nobody touched within the horizon
            for key in [
                k for k, e in self._bands.items() if max(e.values(), default=0.0) < t - horizon
            ]:
                del self._bands[key]
        found: set[str] = set()
        for band in bands:
            entries = self._bands[band]
            for m in [m for m, ts in entries.items() if ts < t - horizon]:
                del entries[m]
            entries[member] = t
            found.update(entries)
        return found

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
        # one script call per batch: redis-py costs ~50 us per command in Python, and a batch
        # touches 4 commands per band per query
        self._cross_script = client.register_script(_CROSS)
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

    async def cross_many(
        self, items: list[tuple[str, list[str], float]], horizon: float
    ) -> list[set[str]]:
        if not items:
            return []
        args: list[Any] = [self._p, horizon, len(items[0][1])]
        for member, bands, t in items:
            args += [member, t, *bands]
        result = await self._cross_script(args=args)
        return [set(members) for members in result]

    async def size(self, account: str) -> int:
        return int(await self._r.llen(f"{self._p}:win:{account}"))

    async def once(self, key: str, seconds: float, now: float) -> bool:
        return bool(
            await self._r.set(f"{self._p}:once:{key}", "1", nx=True, px=int(seconds * 1000))
        )
