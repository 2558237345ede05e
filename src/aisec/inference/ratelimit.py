"""Rate limits per account and route, by requests and by tokens.

* With Redis: GCRA (generic cell rate algorithm) in **one Lua script per request**. The script
  reads Redis' own clock, checks every limit that applies to the request, consumes all of them
  only if all allow it, and returns the account's current detector actions in the same round
  trip. Replicas therefore share one exact limit instead of N times it.
* In process: the ``limits`` library (sliding-window counter in memory: O(1) per check even
  when a request costs hundreds of tokens; its moving window keeps one entry per unit of cost)
  and a dict of actions.

A limit ``L/P`` allows a burst of ``L`` and then one request every ``P/L`` seconds.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import Any, Protocol

from limits import RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import SlidingWindowCounterRateLimiter

from aisec.inference.config import parse_rate

__all__ = ["Decision", "Limit", "Limiter", "MemoryLimiter", "RedisLimiter"]

log = logging.getLogger(__name__)

_GCRA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local n = tonumber(ARGV[1])
local action = redis.call('GET', KEYS[n + 2]) or ''
if string.find(action, 'block', 1, true) then return {0, -1, action} end
local m = n
if string.find(action, 'throttle', 1, true) then m = n + 1 end
local retry = 0
local news = {}
for i = 1, m do
  local em = tonumber(ARGV[2 + (i - 1) * 3])
  local period = tonumber(ARGV[3 + (i - 1) * 3])
  local cost = tonumber(ARGV[4 + (i - 1) * 3])
  local tat = tonumber(redis.call('GET', KEYS[i]) or now)
  if tat < now then tat = now end
  local new_tat = tat + em * cost
  local allow_at = new_tat - period
  if em * cost > period then allow_at = now + period end
  if allow_at > now then
    if allow_at - now > retry then retry = allow_at - now end
  end
  news[i] = new_tat
end
if retry > 0 then return {0, retry, action} end
for i = 1, m do
  redis.call('SET', KEYS[i], news[i], 'PX', math.ceil((news[i] - now) / 1000) + 1)
end
return {1, 0, action}
"""


@dataclass(frozen=True, slots=True)
class Limit:
    """One limit to check: a key suffix, the rate text and the cost of this request."""

    name: str
    rate: str
    cost: int = 1


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    retry_after: float  # seconds; 0 when allowed
    actions: frozenset[str]
    reason: str = ""


class Limiter(Protocol):
    async def check(self, account: str, limits: tuple[Limit, ...], throttle: str) -> Decision: ...

    async def set_actions(self, account: str, actions: frozenset[str], seconds: float) -> None: ...

    async def get_actions(self, account: str) -> frozenset[str]: ...

    async def close(self) -> None: ...


def _split(action: str | bytes) -> frozenset[str]:
    text = action.decode() if isinstance(action, bytes) else action
    return frozenset(a for a in text.split(",") if a)


class MemoryLimiter:
    """One process: ``limits`` sliding-window counters in memory."""

    def __init__(self) -> None:
        self._storage = MemoryStorage()
        self._limiter = SlidingWindowCounterRateLimiter(self._storage)
        self._items: dict[str, RateLimitItemPerSecond] = {}
        self._actions: dict[str, tuple[frozenset[str], float]] = {}

    def _item(self, rate: str) -> RateLimitItemPerSecond:
        item = self._items.get(rate)
        if item is None:
            amount, period = parse_rate(rate)
            item = RateLimitItemPerSecond(amount, max(1, math.ceil(period)))
            self._items[rate] = item
        return item

    async def check(self, account: str, limits: tuple[Limit, ...], throttle: str) -> Decision:
        actions = await self.get_actions(account)
        if "block" in actions:
            return Decision(False, -1, actions, "blocked")
        checks = list(limits)
        if "throttle" in actions:
            checks.append(Limit("throttle", throttle))
        retry = 0.0
        for lim in checks:
            item = self._item(lim.rate)
            if lim.cost > item.amount or not await self._limiter.test(
                item, account, lim.name, cost=lim.cost
            ):
                stats = await self._limiter.get_window_stats(item, account, lim.name)
                retry = max(retry, stats.reset_time - time.time(), 0.001)
        if retry > 0:
            return Decision(False, retry, actions, "rate-limited")
        for lim in checks:
            await self._limiter.hit(self._item(lim.rate), account, lim.name, cost=lim.cost)
        return Decision(True, 0.0, actions)

    async def set_actions(self, account: str, actions: frozenset[str], seconds: float) -> None:
        self._actions[account] = (actions, time.monotonic() + seconds)

    async def get_actions(self, account: str) -> frozenset[str]:
        entry = self._actions.get(account)
        if entry is None or entry[1] < time.monotonic():
            return frozenset()
        return entry[0]

    async def close(self) -> None:
        return None


class RedisLimiter:
    """N replicas, one limit: GCRA in one atomic Lua script per request."""

    def __init__(self, client: Any, prefix: str, *, fail_open: bool) -> None:
        self._r = client
        self._prefix = prefix
        self._fail_open = fail_open
        self._script = client.register_script(_GCRA)

    @staticmethod
    def _args(rate: str, cost: int) -> list[int]:
        amount, period = parse_rate(rate)
        period_us = int(period * 1_000_000)
        return [period_us // amount, period_us, cost]

    async def check(self, account: str, limits: tuple[Limit, ...], throttle: str) -> Decision:
        keys = [f"{self._prefix}:rl:{account}:{lim.name}" for lim in limits]
        keys += [f"{self._prefix}:rl:{account}:throttle", f"{self._prefix}:action:{account}"]
        args: list[int] = [len(limits)]
        for lim in limits:
            args += self._args(lim.rate, lim.cost)
        args += self._args(throttle, 1)
        try:
            allowed, retry_us, action = await self._script(keys=keys, args=args)
        except Exception as exc:  # any Redis failure: apply the configured policy
            log.warning(
                "redis unavailable (%s); failing %s",
                type(exc).__name__,
                "open" if self._fail_open else "closed",
            )
            if self._fail_open:
                return Decision(True, 0.0, frozenset(), "redis-down-fail-open")
            return Decision(False, 1.0, frozenset(), "redis-down-fail-closed")
        actions = _split(action)
        if int(retry_us) < 0:
            return Decision(False, -1, actions, "blocked")
        if int(allowed):
            return Decision(True, 0.0, actions)
        return Decision(False, int(retry_us) / 1_000_000, actions, "rate-limited")

    async def set_actions(self, account: str, actions: frozenset[str], seconds: float) -> None:
        await self._r.set(
            f"{self._prefix}:action:{account}", ",".join(sorted(actions)), px=int(seconds * 1000)
        )

    async def get_actions(self, account: str) -> frozenset[str]:
        value = await self._r.get(f"{self._prefix}:action:{account}")
        return _split(value) if value else frozenset()

    async def close(self) -> None:
        await self._r.aclose()
