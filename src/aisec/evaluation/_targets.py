"""Targets: what a red-team run attacks.

* ``OpenAIChatTarget``: any OpenAI-compatible ``/chat/completions`` endpoint.
* ``HttpJsonTarget``: any JSON-over-HTTP endpoint, by a request template and a reply path.
* ``CallableTarget``: a Python function (sync or async).

HTTP goes through aiohttp (measured here ~10x httpx under concurrency on 2 cores). Every
request is retried on 429/5xx and connection errors with exponential backoff, honouring
``Retry-After``; a request that still fails becomes a ``Reply`` with ``error`` set, which
the engine counts as an error, never as a resisted attack.
"""

from __future__ import annotations

import asyncio
import email.utils
import inspect
import json
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from aisec.core.errors import InputError
from aisec.evaluation._model import Message, Probe, Reply

__all__ = [
    "AUTH_FAILURES_TO_STOP",
    "AuthRejectedError",
    "Budget",
    "BudgetExhaustedError",
    "CallableTarget",
    "HttpJsonTarget",
    "OpenAIChatTarget",
    "RetryPolicy",
    "Target",
    "parse_headers",
]

MAX_RETRY_AFTER = 60.0
AUTH_FAILURES_TO_STOP = 3  # consecutive 401/403 with no success in between


class AuthRejectedError(InputError):
    """The target keeps answering 401/403: the run cannot measure anything, so it stops."""


def parse_headers(specs: tuple[str, ...] | list[str], env: Mapping[str, str]) -> dict[str, str]:
    """``Name: value`` pairs; a value ``env:VAR`` is read from the environment (so secrets
    never appear on the command line). One clear error for a malformed pair or unset VAR."""
    out: dict[str, str] = {}
    for spec in specs:
        name, sep, value = spec.partition(":")
        name, value = name.strip(), value.strip()
        if not sep or not name or any(c in name for c in " \t\r\n"):
            raise InputError(f"--header must look like 'Name: value', got {spec[:60]!r}")
        if value.startswith("env:"):
            var = value[4:].strip()
            if var not in env:
                raise InputError(f"--header {name}: environment variable {var} is not set")
            value = env[var]
        if any(c in value for c in "\r\n"):
            raise InputError(f"--header {name}: the value contains a line break")
        out[name] = value
    return out


class _Pacer:
    """At most ``rate`` request starts per second, spaced evenly (hand-written: a fixed
    interval between starts is all ``--rate`` promises; no dependency for ten lines)."""

    def __init__(self, rate: float | None, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._interval = 1.0 / rate if rate else 0.0
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        if not self._interval:
            return
        async with self._lock:
            now = self._clock()
            delay = self._next - now
            self._next = max(now, self._next) + self._interval
        if delay > 0:
            await asyncio.sleep(delay)


class BudgetExhaustedError(Exception):
    """Raised inside a target when the run's request budget is spent (not an AisecError:
    the engine catches it and marks the remaining work as not tested)."""


class Budget:
    """Counts requests (every attempt, retries included) against an optional limit."""

    def __init__(self, max_requests: int | None = None) -> None:
        self.max_requests = max_requests
        self.used = 0

    def take(self) -> None:
        if self.max_requests is not None and self.used >= self.max_requests:
            raise BudgetExhaustedError
        self.used += 1

    @property
    def exhausted(self) -> bool:
        return self.max_requests is not None and self.used >= self.max_requests


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    retries: int = 4
    backoff: float = 0.25  # first delay; doubles each retry, with jitter
    timeout: float = 60.0
    rate: float | None = None  # most request starts per second (None: no limit)


class Target(Protocol):
    identifier: str
    supports_tools: bool  # False: attacks that offer tools are not applicable

    async def send(self, probe: Probe, budget: Budget) -> Reply: ...

    async def aclose(self) -> None: ...


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return min(MAX_RETRY_AFTER, max(0.0, float(value)))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return min(MAX_RETRY_AFTER, max(0.0, when.timestamp() - time.time()))


class _HttpTarget:
    """Shared aiohttp session, retries and backoff."""

    identifier = ""
    supports_tools = True

    def __init__(self, *, headers: Mapping[str, str], policy: RetryPolicy, seed: int) -> None:
        self._headers = dict(headers)
        self._policy = policy
        self._session: Any = None
        self._rng = random.Random(seed)  # noqa: S311 - backoff jitter, not security
        self._pacer = _Pacer(policy.rate)
        self._auth_failures = 0
        self.sleeps: list[float] = []

    def _auth(self, status: int | None) -> None:
        if status in (401, 403):
            self._auth_failures += 1
            if self._auth_failures >= AUTH_FAILURES_TO_STOP:
                raise AuthRejectedError(
                    f"the target rejected {self._auth_failures} requests in a row with HTTP "
                    f"{status}: check the API key (--api-key-env) or --header"
                )
        elif status == 200:
            self._auth_failures = 0

    async def _post(
        self, url: str, body: Any, probe: Probe, budget: Budget
    ) -> tuple[int | None, Any, str | None, int]:
        import aiohttp

        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self._policy.timeout),
                headers=self._headers,
            )
        attempt = 0
        status: int | None = None
        error = ""
        while True:
            budget.take()
            attempt += 1
            wait: float | None = None
            await self._pacer.wait()
            try:
                async with self._session.post(
                    url, json=body, headers={"x-aisec-trial": probe.trial_id}
                ) as resp:
                    status = resp.status
                    self._auth(status)
                    if resp.status == 200:
                        try:
                            return status, await resp.json(content_type=None), None, attempt
                        except ValueError:
                            return status, None, "reply is not JSON", attempt
                    text = (await resp.text())[:200]
                    error = f"HTTP {resp.status}: {text}"
                    if resp.status != 429 and resp.status < 500:
                        return status, None, error, attempt
                    wait = _retry_after(resp.headers.get("Retry-After"))
            except (aiohttp.ClientError, TimeoutError) as exc:
                status, error = None, f"{type(exc).__name__}: {exc}"
            if attempt > self._policy.retries:
                return status, None, error, attempt
            if wait is None:
                base = self._policy.backoff * 2 ** (attempt - 1)
                wait = base * (0.5 + self._rng.random())
            self.sleeps.append(wait)
            await asyncio.sleep(wait)

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _tool_spec(name: str) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": f"The application's {name.replace('_', ' ')} action.",
            "parameters": {"type": "object", "properties": {}},
        },
    }


class OpenAIChatTarget(_HttpTarget):
    """``POST {base_url}/chat/completions``; the API key is read by the caller from the
    environment and only ever sent as the ``Authorization`` header."""

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key: str | None = None,
        system_prompt: str | None = None,
        policy: RetryPolicy | None = None,
        seed: int = 0,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        merged = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        merged.update(headers or {})
        super().__init__(headers=merged, policy=policy or RetryPolicy(), seed=seed)
        self._url = base_url.rstrip("/") + "/chat/completions"
        self._model = model
        self._system = system_prompt
        self.identifier = model

    async def send(self, probe: Probe, budget: Budget) -> Reply:
        messages = [m.to_json() for m in probe.messages]
        if self._system:
            messages.insert(0, {"role": "system", "content": self._system})
        body: dict[str, Any] = {
            "model": self._model,
            "messages": messages,
            "max_tokens": probe.max_tokens,
            "seed": probe.seed,
        }
        if probe.tools:
            body["tools"] = [_tool_spec(t) for t in probe.tools]
        status, data, error, attempts = await self._post(self._url, body, probe, budget)
        if error is not None:
            return Reply(attempts=attempts, status=status, error=error)
        try:
            choice = data["choices"][0]
            msg = choice.get("message") or {}
            calls = tuple(
                str(c["function"]["name"]) for c in msg.get("tool_calls") or () if c.get("function")
            )
            usage = data.get("usage") or {}
            return Reply(
                text=str(msg.get("content") or ""),
                tool_calls=calls,
                finish_reason=choice.get("finish_reason"),
                prompt_tokens=int(usage.get("prompt_tokens") or 0),
                completion_tokens=int(usage.get("completion_tokens") or 0),
                attempts=attempts,
                status=status,
            )
        except (KeyError, IndexError, TypeError, AttributeError, ValueError):
            return Reply(attempts=attempts, status=status, error="reply is not a chat completion")


_PROMPT = "{{prompt}}"
_SYSTEM = "{{system}}"


def _fill(template: Any, prompt: str, system: str) -> Any:
    """Replace placeholder *values* in a parsed JSON template (no string formatting, so a
    prompt can never change the request's structure)."""
    if isinstance(template, dict):
        return {k: _fill(v, prompt, system) for k, v in template.items()}
    if isinstance(template, list):
        return [_fill(v, prompt, system) for v in template]
    if isinstance(template, str):
        return template.replace(_PROMPT, prompt).replace(_SYSTEM, system)
    return template


def json_path(data: Any, path: str) -> Any:
    """Follow a dotted path (``choices.0.message.content``; a leading ``$.`` is allowed).
    Hand-written: a dotted path is all a reply needs, no JSONPath dependency."""
    cur = data
    for part in path.removeprefix("$").strip(".").split("."):
        if not part:
            continue
        if isinstance(cur, list) and part.lstrip("-").isdigit():
            cur = cur[int(part)]
        elif isinstance(cur, dict):
            cur = cur[part]
        else:
            raise KeyError(part)
    return cur


class HttpJsonTarget(_HttpTarget):
    """POST a JSON template with ``{{prompt}}`` (and optionally ``{{system}}``) filled in and
    read the reply text at ``reply_path``. It cannot carry tool definitions."""

    supports_tools = False

    def __init__(
        self,
        *,
        url: str,
        template: Mapping[str, Any],
        reply_path: str,
        system_prompt: str | None = None,
        headers: Mapping[str, str] | None = None,
        policy: RetryPolicy | None = None,
        seed: int = 0,
    ) -> None:
        super().__init__(headers=headers or {}, policy=policy or RetryPolicy(), seed=seed)
        if _PROMPT not in json.dumps(template):
            raise InputError(f"the request template has no {_PROMPT} placeholder")
        self._url = url
        self._template = dict(template)
        self._reply_path = reply_path
        self._system = system_prompt or ""
        self.identifier = url

    async def send(self, probe: Probe, budget: Budget) -> Reply:
        prompt = "\n\n".join(m.content for m in probe.messages if m.role != "system")
        body = _fill(self._template, prompt, self._system)
        status, data, error, attempts = await self._post(self._url, body, probe, budget)
        if error is not None:
            return Reply(attempts=attempts, status=status, error=error)
        try:
            text = json_path(data, self._reply_path)
        except (KeyError, IndexError, TypeError):
            return Reply(attempts=attempts, status=status, error="reply path not found")
        return Reply(text=str(text), attempts=attempts, status=status)


ReplyFn = Callable[[tuple[Message, ...], tuple[str, ...]], "str | Reply | Awaitable[str | Reply]"]


class CallableTarget:
    """A Python function ``fn(messages, tools) -> str | Reply`` (sync or async); an
    exception it raises becomes an errored reply."""

    def __init__(
        self, fn: ReplyFn, *, identifier: str = "callable", supports_tools: bool = True
    ) -> None:
        self._fn = fn
        self.identifier = identifier
        self.supports_tools = supports_tools

    async def send(self, probe: Probe, budget: Budget) -> Reply:
        budget.take()
        try:
            out = self._fn(probe.messages, probe.tools)
            if inspect.isawaitable(out):
                out = await out
        except Exception as exc:  # the target's own failure is data (an errored reply), not ours
            return Reply(error=f"{type(exc).__name__}: {exc}")
        return out if isinstance(out, Reply) else Reply(text=str(out))

    async def aclose(self) -> None:
        return None
