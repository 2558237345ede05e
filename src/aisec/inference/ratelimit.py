"""Rate limits per account and route, by requests and by tokens.

* With Redis: GCRA (generic cell rate algorithm) in **one Lua script call**. The script
  reads Redis' own clock, checks every limit that applies to a request, consumes all of them
  only if all allow it, and returns the account's current detector actions in the same round
  trip. Replicas therefore share one exact limit instead of N times it. Requests that arrive
  while a call is in flight go together in the next call (each still decided on its own, in
  order): under load one round trip serves many requests, and an idle gateway adds no wait.
* In process: the same GCRA over a dict of "theoretical arrival times", so both modes allow
  exactly the same requests. O(1) per limit whatever a request costs, and one plain function
  call per request: the ``limits`` library's sliding-window counter took ~10 awaits and ~40 us
  per request here, a sixth of the gateway's own CPU per request (measured with py-spy).

A limit ``L/P`` allows a burst of ``L`` and then one request every ``P/L`` seconds.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any, Protocol

from aisec.inference.config import parse_rate

__all__ = ["Decision", "Limit", "Limiter", "MemoryLimiter", "RedisLimiter"]

log = logging.getLogger(__name__)
MAX_BATCH = 256  # requests per script call

_GCRA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local out = {}
local k = 0
local a = 1
for r = 1, tonumber(ARGV[1]) do
  a = a + 1
  local n = tonumber(ARGV[a])
  local action = redis.call('GET', KEYS[k + n + 2]) or ''
  if string.find(action, 'block', 1, true) then
    out[#out + 1] = 0; out[#out + 1] = -1; out[#out + 1] = action
  else
    local m = n
    if string.find(action, 'throttle', 1, true) then m = n + 1 end
    local retry = 0
    local news = {}
    for i = 1, m do
      local em = tonumber(ARGV[a + 1 + (i - 1) * 3])
      local period = tonumber(ARGV[a + 2 + (i - 1) * 3])
      local cost = tonumber(ARGV[a + 3 + (i - 1) * 3])
      local tat = tonumber(redis.call('GET', KEYS[k + i]) or now)
      if tat < now then tat = now end
      local new_tat = tat + em * cost
      local allow_at = new_tat - period
      if em * cost > period then allow_at = now + period end
      if allow_at > now then
        if allow_at - now > retry then retry = allow_at - now end
      end
      news[i] = new_tat
    end
    if retry > 0 then
      out[#out + 1] = 0; out[#out + 1] = retry; out[#out + 1] = action
    else
      for i = 1, m do
        redis.call('SET', KEYS[k + i], news[i], 'PX', math.ceil((news[i] - now) / 1000) + 1)
      end
      out[#out + 1] = 1; out[#out + 1] = 0; out[#out + 1] = action
    end
  end
  k = k + n + 2
  a = a + (n + 1) * 3
end
return out
"""


# Consume without checking: output tokens counted after the fact (a stream, a reply's usage).
_CHARGE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
for i = 1, #KEYS do
  local em = tonumber(ARGV[(i - 1) * 2 + 1])
  local cost = tonumber(ARGV[(i - 1) * 2 + 2])
  local tat = tonumber(redis.call('GET', KEYS[i]) or now)
  if tat < now then tat = now end
  local new_tat = tat + em * cost
  redis.call('SET', KEYS[i], new_tat, 'PX', math.ceil((new_tat - now) / 1000) + 1)
end
return 1
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

    async def charge(self, account: str, limits: tuple[Limit, ...]) -> None:
        """Consume ``limits`` (their costs) whatever they allow: work counted after the fact,
        such as output tokens beyond what was charged before the call."""
        ...

    async def set_actions(self, account: str, actions: frozenset[str], seconds: float) -> None: ...

    async def get_actions(self, account: str) -> frozenset[str]: ...

    async def close(self) -> None: ...


def _decision(allowed: Any, retry_us: Any, action: str | bytes) -> Decision:
    actions = _split(action)
    if int(retry_us) < 0:
        return Decision(False, -1, actions, "blocked")
    if int(allowed):
        return Decision(True, 0.0, actions)
    return Decision(False, int(retry_us) / 1_000_000, actions, "rate-limited")


def _split(action: str | bytes) -> frozenset[str]:
    text = action.decode() if isinstance(action, bytes) else action
    return frozenset(a for a in text.split(",") if a)


class MemoryLimiter:
    """One process: GCRA in a dict, the Lua script's arithmetic in Python (microseconds)."""

    def __init__(self) -> None:
        self._tat: dict[tuple[str, str], int] = {}  # (account, limit name) -> TAT in us
        self._rates: dict[str, tuple[int, int]] = {}  # rate text -> (emission us, period us)
        self._actions: dict[str, tuple[frozenset[str], float]] = {}
        self._calls = 0

    def _rate(self, rate: str) -> tuple[int, int]:
        found = self._rates.get(rate)
        if found is None:
            amount, period = parse_rate(rate)
            period_us = int(period * 1_000_000)
            found = self._rates[rate] = (period_us // amount, period_us)
        return found

    def _check(self, account: str, limits: tuple[Limit, ...], throttle: str) -> Decision:
        actions = self._actions_now(account)
        if "block" in actions:
            return Decision(False, -1, actions, "blocked")
        checks = limits
        if "throttle" in actions:
            checks = (*limits, Limit("throttle", throttle))
        now = time.monotonic_ns() // 1000
        tats = self._tat
        retry = 0
        news: list[tuple[tuple[str, str], int]] = []
        for lim in checks:
            em, period = self._rate(lim.rate)
            key = (account, lim.name)
            tat = max(tats.get(key, now), now)
            new_tat = tat + em * lim.cost
            allow_at = now + period if em * lim.cost > period else new_tat - period
            retry = max(retry, allow_at - now)
            news.append((key, new_tat))
        if retry > 0:
            return Decision(False, retry / 1_000_000, actions, "rate-limited")
        tats.update(news)
        self._calls += 1
        if self._calls % 100_000 == 0:  # forget limits that have fully recovered
            for k in [k for k, t in tats.items() if t <= now]:
                del tats[k]
        return Decision(True, 0.0, actions)

    async def check(self, account: str, limits: tuple[Limit, ...], throttle: str) -> Decision:
        return self._check(account, limits, throttle)

    async def charge(self, account: str, limits: tuple[Limit, ...]) -> None:
        now = time.monotonic_ns() // 1000
        for lim in limits:
            em, _ = self._rate(lim.rate)
            key = (account, lim.name)
            self._tat[key] = max(self._tat.get(key, now), now) + em * lim.cost

    def _actions_now(self, account: str) -> frozenset[str]:
        entry = self._actions.get(account)
        if entry is None or entry[1] < time.monotonic():
            return frozenset()
        return entry[0]

    async def set_actions(self, account: str, actions: frozenset[str], seconds: float) -> None:
        self._actions[account] = (actions, time.monotonic() + seconds)

    async def get_actions(self, account: str) -> frozenset[str]:
        return self._actions_now(account)

    async def close(self) -> None:
        return None


class RedisLimiter:
    """N replicas, one limit: GCRA in one atomic Lua script, batched per round trip."""

    #: After a Redis failure, decisions skip Redis for this long (the circuit is open), so
    #: that a hung Redis costs one timeout, not one per request; then one call tries again.
    OPEN_SECONDS = 1.0

    def __init__(self, client: Any, prefix: str, *, fail_open: bool) -> None:
        self._r = client
        self._prefix = prefix
        self._fail_open = fail_open
        self._open_until = 0.0
        self._script = client.register_script(_GCRA)
        self._charge = client.register_script(_CHARGE)
        self._rates: dict[str, tuple[int, int]] = {}  # rate text -> (emission us, period us)
        self._busy = False
        self._waiting: list[tuple[list[str], list[int], asyncio.Future[Decision]]] = []
        self._drainer: asyncio.Task[None] | None = None

    @staticmethod
    def _args(rate: str, cost: int) -> list[int]:
        amount, period = parse_rate(rate)
        period_us = int(period * 1_000_000)
        return [period_us // amount, period_us, cost]

    def _rate(self, rate: str) -> tuple[int, int]:
        found = self._rates.get(rate)
        if found is None:
            em, period, _ = self._args(rate, 1)
            found = self._rates[rate] = (em, period)
        return found

    async def check(self, account: str, limits: tuple[Limit, ...], throttle: str) -> Decision:
        base = f"{self._prefix}:rl:{account}:"
        keys = [base + lim.name for lim in limits]
        keys += [base + "throttle", f"{self._prefix}:action:{account}"]
        args: list[int] = [len(limits)]
        for lim in limits:
            args += (*self._rate(lim.rate), lim.cost)
        args += (*self._rate(throttle), 1)
        if self._busy:  # a call is in flight: join the next one
            fut: asyncio.Future[Decision] = asyncio.get_running_loop().create_future()
            self._waiting.append((keys, args, fut))
            return await fut
        self._busy = True
        try:
            return (await self._call([(keys, args)]))[0]
        finally:
            if self._waiting:
                self._drainer = asyncio.create_task(self._drain())
            else:
                self._busy = False

    async def _drain(self) -> None:
        """Send what queued up during the last call, as one call, until nothing is left."""
        try:
            while self._waiting:
                batch = self._waiting[:MAX_BATCH]
                del self._waiting[:MAX_BATCH]
                try:
                    decisions = await self._call([(k, a) for k, a, _ in batch])
                except Exception as exc:  # not a Redis error (those are decisions): a bug
                    for _, _, fut in batch:
                        if not fut.done():
                            fut.set_exception(exc)
                    continue
                except BaseException:  # cancelled (shutdown): so are the waiting requests
                    for _, _, fut in [*batch, *self._waiting]:
                        fut.cancel()
                    raise
                for (_, _, fut), decision in zip(batch, decisions, strict=True):
                    if not fut.done():  # its request may have been cancelled meanwhile
                        fut.set_result(decision)
        finally:
            self._busy = False

    async def _call(self, batch: list[tuple[list[str], list[int]]]) -> list[Decision]:
        keys = [key for k, _ in batch for key in k]
        args = [len(batch)] + [arg for _, a in batch for arg in a]
        if time.monotonic() < self._open_until:
            return self._down(len(batch))
        try:
            flat = await self._script(keys=keys, args=args)
        except Exception as exc:  # any Redis failure: apply the configured policy
            self._open_until = time.monotonic() + self.OPEN_SECONDS
            log.warning(
                "redis unavailable (%s); failing %s for %.0f s before trying again",
                type(exc).__name__,
                "open" if self._fail_open else "closed",
                self.OPEN_SECONDS,
            )
            return self._down(len(batch))
        return [_decision(*flat[i : i + 3]) for i in range(0, len(flat), 3)]

    async def charge(self, account: str, limits: tuple[Limit, ...]) -> None:
        if not limits or time.monotonic() < self._open_until:
            return  # Redis is down: the after-the-fact charge is lost, never the request
        base = f"{self._prefix}:rl:{account}:"
        args: list[int] = []
        for lim in limits:
            args += (self._rate(lim.rate)[0], lim.cost)
        try:
            await self._charge(keys=[base + lim.name for lim in limits], args=args)
        except Exception as exc:  # any Redis failure: as in check, open the circuit
            self._open_until = time.monotonic() + self.OPEN_SECONDS
            log.warning("redis unavailable (%s); an output charge was lost", type(exc).__name__)

    def _down(self, n: int) -> list[Decision]:
        if self._fail_open:
            return [Decision(True, 0.0, frozenset(), "redis-down-fail-open")] * n
        return [Decision(False, 1.0, frozenset(), "redis-down-fail-closed")] * n

    async def set_actions(self, account: str, actions: frozenset[str], seconds: float) -> None:
        await self._r.set(
            f"{self._prefix}:action:{account}", ",".join(sorted(actions)), px=int(seconds * 1000)
        )

    async def get_actions(self, account: str) -> frozenset[str]:
        value = await self._r.get(f"{self._prefix}:action:{account}")
        return _split(value) if value else frozenset()

    async def close(self) -> None:
        await self._r.aclose()
