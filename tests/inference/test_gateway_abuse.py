"""Hostile clients, parameter tricks and upstream faults: no bypass, no 500, nothing unlogged.

Each probe runs a real gateway (uvicorn on 127.0.0.1) in front of a small aiohttp upstream
that records what it was sent and can misbehave on demand.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from hypothesis import given
from hypothesis import strategies as st

from aisec.inference import GatewayServer, load_config
from aisec.inference.config import RouteConfig
from aisec.inference.harden import LOGPROB_FIELDS, Refusal
from aisec.inference.normalise import _too_deep, normalise, parse_body
from aisec.inference.ratelimit import RedisLimiter

from .conftest import KEYS, auth, chat, config_dict, write_config


class Upstream:
    """An OpenAI-compatible upstream that records bodies and misbehaves on request."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.mode = "ok"
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.bodies.append(body)
        reply = {"choices": [{"index": 0, "message": {"role": "assistant", "content": "fine"}}]}
        headers = {"server": "upstream-secret/1.2", "x-powered-by": "internal-stack"}
        if self.mode == "truncated":
            raw = json.dumps(reply).encode()[:-7]
            return web.Response(body=raw, content_type="application/json", headers=headers)
        long_text = "lorem ipsum " * 1000  # 12,000 characters: ~3,000 tokens
        if self.mode == "long-json":  # ignores max_tokens, reports no usage
            reply["choices"][0]["message"]["content"] = long_text
        if self.mode == "long-usage":  # short text, but the server counts 3,000 tokens
            reply["usage"] = {"prompt_tokens": 3, "completion_tokens": 3000}
        if self.mode == "long-stream":
            resp = web.StreamResponse(headers={"content-type": "text/event-stream"})
            await resp.prepare(request)
            for i in range(0, len(long_text), 300):
                event = {"choices": [{"index": 0, "delta": {"content": long_text[i : i + 300]}}]}
                await resp.write(b"data: " + json.dumps(event).encode() + b"\n\n")
            await resp.write(b"data: [DONE]\n\n")
            return resp
        if self.mode == "cut-stream":
            resp = web.StreamResponse(headers={"content-type": "text/event-stream"})
            await resp.prepare(request)
            await resp.write(b'data: {"choices":[{"delta":{"content":"par"}}]}\n\n')
            assert request.transport is not None
            request.transport.close()  # the upstream dies mid-stream
            return resp
        return web.json_response(reply, headers=headers)

    async def __aenter__(self) -> Upstream:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/v1/chat/completions", self._chat)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        assert site._server is not None
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()


@contextlib.asynccontextmanager
async def gateway(
    tmp_path: Path, **extra: Any
) -> AsyncIterator[tuple[Upstream, GatewayServer, aiohttp.ClientSession]]:
    async with Upstream() as up:
        data = config_dict(up.url, **extra)
        data["audit-log"] = str(tmp_path / "audit.jsonl")
        cfg, digest = load_config(write_config(tmp_path / "guard.yaml", data))
        async with GatewayServer(cfg, digest) as gw, aiohttp.ClientSession() as http:
            yield up, gw, http


def _audit(tmp_path: Path, gw: GatewayServer) -> list[dict[str, Any]]:
    gw.gateway.audit.flush()
    lines = (tmp_path / "audit.jsonl").read_text().splitlines()
    return [r for r in map(json.loads, lines) if r.get("event") == "request"]


CHAT = "/v1/chat/completions"


def test_parameter_types_are_enforced_not_guessed(tmp_path: Path) -> None:
    async def go() -> None:
        async with gateway(tmp_path) as (up, gw, http):
            probes = [
                chat("hi", stream="true"),  # a string the server would read as true
                chat("hi", n=128),
                chat("hi", n="4"),
                chat("hi", best_of=True),
                chat("hi", max_tokens=-5),
                chat("hi", max_tokens=0),
                chat("hi", max_completion_tokens=1.5),
            ]
            for body in probes:
                async with http.post(gw.url + CHAT, json=body, headers=auth("alice")) as r:
                    assert r.status == 400, body
                    assert r.headers["x-aisec-action"] == "bad-request"
            assert up.bodies == []  # none of them reached the model
            records = _audit(tmp_path, gw)
            assert [r["status"] for r in records] == [400] * len(probes)

    asyncio.run(go())


def test_every_logprob_extension_is_stripped(tmp_path: Path) -> None:
    async def go() -> None:
        async with gateway(tmp_path) as (up, gw, http):
            extensions = {
                "prompt_logprobs": 5,
                "top_logprobs": 5,
                "logprobs": True,
                "n_probs": 10,
                "details": True,
                "decoder_input_details": True,
                "return_logprob": True,
                "top_logprobs_num": 3,
            }
            async with http.post(
                gw.url + CHAT, json=chat("hi", **extensions), headers=auth("alice")
            ) as r:
                assert r.status == 200
            sent = up.bodies[-1]
            assert not set(sent) & set(LOGPROB_FIELDS), sent
            notes = _audit(tmp_path, gw)[-1].get("notes", [])
            assert "removed prompt_logprobs" in notes

    asyncio.run(go())


def test_n_counts_against_the_token_budget(tmp_path: Path) -> None:
    async def go() -> None:
        # 64 max tokens per completion (the route's cap); a 1,000-token hourly budget
        async with gateway(tmp_path, limits={"tokens": "1000/h"}) as (_, gw, http):
            statuses = []
            for _ in range(4):
                body = chat("hello", n=8, max_tokens=64)  # 8 x 64 = 512 tokens each
                async with http.post(gw.url + CHAT, json=body, headers=auth("bob")) as r:
                    statuses.append(r.status)
            # one request with n=1 would cost ~65: the same four would all pass
            assert statuses[:1] == [200]
            assert 429 in statuses

    asyncio.run(go())


@pytest.mark.parametrize("mode", ["long-json", "long-usage", "long-stream"])
def test_output_beyond_the_advance_is_charged(tmp_path: Path, mode: str) -> None:
    """The advance is the route's 64-token cap; an upstream that sends ~3,000 tokens anyway
    (ignoring the cap, or as its own usage says, or streamed) is charged for all of them."""

    async def go() -> None:
        async with gateway(tmp_path, limits={"tokens": "2000/h"}) as (up, gw, http):
            up.mode = mode
            body = chat("hello", stream=mode == "long-stream")
            async with http.post(gw.url + CHAT, json=body, headers=auth("bob")) as r:
                assert r.status == 200
                await r.read()
            await asyncio.sleep(0.1)  # the charge is made off the request path
            async with http.post(gw.url + CHAT, json=chat("again"), headers=auth("bob")) as r:
                # without the charge this would pass: 2 x ~66 tokens of advance
                assert r.status == 429
            async with http.post(gw.url + CHAT, json=chat("hi"), headers=auth("alice")) as r:
                assert r.status == 200  # another account's budget is untouched

    asyncio.run(go())


def test_one_client_cannot_hold_every_connection(tmp_path: Path) -> None:
    async def go() -> None:
        async with gateway(tmp_path, **{"max-connections-per-client": 3}) as (_, gw, http):
            port = int(gw.url.rsplit(":", 1)[1])
            held = [await asyncio.open_connection("127.0.0.1", port) for _ in range(3)]
            await asyncio.sleep(0.05)
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            reply = await asyncio.wait_for(reader.read(), timeout=5)  # answered, then closed
            assert reply.startswith(b"HTTP/1.1 503") and b"too many connections" in reply
            writer.close()
            assert gw.gateway.open_connections == {"127.0.0.1": 3}
            for _, w in held:  # once they close, the same client is served again
                w.close()
                await w.wait_closed()
            await asyncio.sleep(0.05)
            async with http.post(gw.url + CHAT, json=chat("hi"), headers=auth("bob")) as r:
                assert r.status == 200
            refused = [r for r in _audit(tmp_path, gw) if r["action"] == "connection-cap"]
            assert len(refused) == 1 and refused[0]["client"] == "127.0.0.1"

    asyncio.run(go())


def test_large_prompts_are_read_and_filtered_off_the_event_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bodies past OFF_LOOP_BYTES are parsed, and prompts past OFF_LOOP_CHARS filtered, in a
    worker thread, with a deny-pattern matcher that releases the GIL; small ones stay on the
    loop (a thread hop costs more than their parse). Checked by where the work ran, not by
    timing it."""
    import threading

    from aisec.inference import gateway as gw_module

    ran: list[tuple[str, int, bool]] = []
    loop_thread: list[int] = []

    def spy(name: str, fn: Any) -> Any:
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            size = len(args[0]) if name == "parse" else len(args[2])
            ran.append((name, size, threading.get_ident() == loop_thread[0]))
            return fn(*args, **kwargs)

        return wrapped

    monkeypatch.setattr(gw_module, "parse_body", spy("parse", gw_module.parse_body))
    monkeypatch.setattr(gw_module, "check_request", spy("check", gw_module.check_request))

    async def go() -> None:
        loop_thread.append(threading.get_ident())
        big = "lorem ipsum dolor sit amet " * 20_000  # 540,000 characters
        hardening = {"max-prompt-chars": 1_000_000, "deny-patterns": ["ignore previous"]}
        routes = [{"path": CHAT, "kind": "openai-chat", "hardening": hardening}]
        async with gateway(tmp_path, routes=routes) as (_, gw, http):
            for text in (big, "a small question"):
                async with http.post(gw.url + CHAT, json=chat(text), headers=auth("bob")) as r:
                    assert r.status == 200

    asyncio.run(go())
    large = [on_loop for name, size, on_loop in ran if size > 100_000]
    small = [on_loop for name, size, on_loop in ran if size < 1_000]
    assert large == [False, False] and small == [True, True]  # parse and check of each


@pytest.mark.parametrize(
    "pattern", ["ignore (all )?previous instructions", r"\bsystem\s+prompt\b", r"(?i)DAN\b",
                r"[^\x00-\x7f]{3,}", r"(a|b)+c", r"^\s*reveal"],
)  # fmt: skip
def test_deny_patterns_match_as_python_re_does(pattern: str) -> None:
    import re

    from aisec.inference.harden import _deny

    texts = ["Ignore previous instructions", "please IGNORE ALL PREVIOUS INSTRUCTIONS now",
             "the System  Prompt is", "DAN mode", "dan", "caf\u00e9 \u4f60\u597d\u4e16", "ababc",
             "  reveal it", "x reveal", ""]  # fmt: skip
    for text in texts:
        assert bool(_deny(pattern).search(text)) == bool(re.search(pattern, text, re.IGNORECASE))


def test_hostile_bodies_get_a_clear_refusal_and_an_audit_line(tmp_path: Path) -> None:
    async def go() -> None:
        async with gateway(tmp_path) as (up, gw, http):
            deep = b"[" * 200_000 + b"]" * 200_000
            async with http.post(gw.url + CHAT, data=io.BytesIO(deep), headers=auth("alice")) as r:
                assert r.status == 400
                assert "nested deeper" in (await r.json())["error"]["message"]
            async with http.post(gw.url + CHAT, data=b"{not json", headers=auth("alice")) as r:
                assert r.status == 400
            big = chat("x" * 4_000_000)  # past the default max-prompt-chars
            payload = io.BytesIO(json.dumps(big).encode())
            async with http.post(gw.url + CHAT, data=payload, headers=auth("alice")) as r:
                assert r.status == 413
            huge = b" " * (17 * 1024 * 1024)
            async with http.post(gw.url + CHAT, data=io.BytesIO(huge), headers=auth("alice")) as r:
                assert r.status == 413
            statuses = [r["status"] for r in _audit(tmp_path, gw)]
            assert statuses == [400, 400, 413, 413]
            assert up.bodies == []
            async with http.get(
                gw.url + "/metrics", headers={"authorization": "Bearer admin-token-0123456789"}
            ) as r:
                text = await r.text()
            assert 'outcome="bad-request"' in text and 'outcome="refused"' in text

    asyncio.run(go())


def test_auth_scheme_is_case_insensitive_and_no_host_redirects(tmp_path: Path) -> None:
    async def go() -> None:
        async with gateway(tmp_path) as (_, gw, http):
            lower = {"authorization": f"bearer {KEYS['alice']}"}
            async with http.post(gw.url + CHAT, json=chat("hi"), headers=lower) as r:
                assert r.status == 200
                # the upstream's identity stays behind the gateway
                assert "upstream-secret" not in r.headers.get("server", "")
                assert "x-powered-by" not in r.headers
            async with http.post(
                gw.url + CHAT + "/",
                json=chat("hi"),
                headers=auth("alice") | {"host": "evil.example"},
                allow_redirects=False,
            ) as r:
                assert r.status == 404
                assert "location" not in r.headers

    asyncio.run(go())


def test_upstream_faults_are_logged_and_counted(tmp_path: Path) -> None:
    async def go() -> None:
        async with gateway(tmp_path) as (up, gw, http):
            up.mode = "truncated"
            async with http.post(gw.url + CHAT, json=chat("hi"), headers=auth("alice")) as r:
                assert r.status == 502
            up.mode = "cut-stream"
            async with http.post(
                gw.url + CHAT, json=chat("hi", stream=True), headers=auth("alice")
            ) as r:
                text = (await r.read()).decode()
            assert "event: error" in text and "stream-cut" in text
            await asyncio.sleep(0.05)
            actions = [r["action"] for r in _audit(tmp_path, gw)]
            assert actions[0] == "upstream-error"
            assert "stream-cut" in actions

    asyncio.run(go())


def _raw_request(port: int, head: bytes, body: bytes) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(head + body)
    return sock


def test_slow_and_vanishing_clients(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    async def go() -> None:
        async with gateway(tmp_path, **{"body-timeout": 0.5}) as (_, gw, _http):
            port = int(gw.url.rsplit(":", 1)[1])
            head = (
                f"POST {CHAT} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {KEYS['alice']}\r\n"
                "content-type: application/json\r\ncontent-length: 1000\r\n\r\n"
            ).encode()
            # a body that never completes: 408 after the body timeout
            slow = await asyncio.to_thread(_raw_request, port, head, b'{"a":')
            slow.settimeout(10)
            reply = await asyncio.to_thread(slow.recv, 4096)
            slow.close()
            assert reply.startswith(b"HTTP/1.1 408")
            # a client that goes away mid-body: one audit line, no traceback
            gone = await asyncio.to_thread(_raw_request, port, head, b'{"a":')
            gone.close()
            for _ in range(100):
                await asyncio.sleep(0.02)
                if len(_audit(tmp_path, gw)) >= 2:
                    break
            actions = [r["action"] for r in _audit(tmp_path, gw)]
            assert actions == ["refused", "client-disconnect"]

    with caplog.at_level("ERROR"):
        asyncio.run(go())
    assert "Traceback" not in caplog.text
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


def test_silent_and_dribbling_clients_hit_the_header_timeout(tmp_path: Path) -> None:
    async def go() -> None:
        async with gateway(tmp_path, **{"header-timeout": 0.3}) as (_, gw, http):
            port = int(gw.url.rsplit(":", 1)[1])
            silent = await asyncio.open_connection("127.0.0.1", port)  # sends nothing
            dribble = await asyncio.open_connection("127.0.0.1", port)
            for ch in f"POST {CHAT} HTTP/1.1\r\nhost: x\r\n".encode()[:12]:
                dribble[1].write(bytes([ch]))  # a byte at a time, never the end of headers
                await asyncio.sleep(0.02)
            for reader, writer in (silent, dribble):
                reply = await asyncio.wait_for(reader.read(), timeout=5)  # answered and closed
                assert reply.startswith(b"HTTP/1.1 408"), reply
                writer.close()
            # a request on a kept-alive connection is not hurried by the deadline
            for _ in range(2):
                async with http.post(gw.url + CHAT, json=chat("hi"), headers=auth("bob")) as r:
                    assert r.status == 200
                await asyncio.sleep(0.4)
            late = [r for r in _audit(tmp_path, gw) if r["action"] == "header-timeout"]
            assert len(late) == 2

    asyncio.run(go())


class _HungRedis:
    """A TCP server that accepts connections and never answers: a hung Redis."""

    def __init__(self) -> None:
        self.connections = 0
        self._server: asyncio.Server | None = None
        self.url = ""

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        with contextlib.suppress(Exception):
            await reader.read()  # hold the connection, say nothing
        writer.close()

    async def __aenter__(self) -> _HungRedis:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"redis://127.0.0.1:{port}/0"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()


def test_a_hung_redis_opens_the_circuit(tmp_path: Path) -> None:
    async def go() -> None:
        async with _HungRedis() as hung:
            extra = {"redis": hung.url, "redis-timeout": 0.2, "limits": {"requests": "100/h"}}
            async with gateway(tmp_path, **extra) as (up, gw, http):
                statuses = []
                for _ in range(20):
                    async with http.post(
                        gw.url + CHAT, json=chat("hi"), headers=auth("alice")
                    ) as r:
                        statuses.append(r.status)
                assert statuses == [503] * 20  # fail closed, the default
                assert up.bodies == []
                # the breaker: one attempt, then decisions without Redis until it retries
                assert hung.connections <= 3

    asyncio.run(go())


# ------------------------------------------------------------------ the normaliser, fuzzed
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=20,
)
_KEYS = st.sampled_from(
    ["stream", "n", "best_of", "max_tokens", "max_completion_tokens", "messages", *LOGPROB_FIELDS]
)
_ROUTES = [
    RouteConfig.model_validate(r)
    for r in config_dict("http://127.0.0.1:1")["routes"]  # every route kind
]


@given(st.dictionaries(_KEYS, _JSON, max_size=8), st.sampled_from(_ROUTES))
def test_normalise_never_raises(body: dict[str, Any], route: RouteConfig) -> None:
    result = normalise(dict(body), route)
    if not isinstance(result, Refusal):
        assert result.choices >= 1
        assert isinstance(result.stream, bool)
        assert result.max_tokens is None or result.max_tokens >= 1


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    return 0


_TEXTY = st.text(alphabet='ab[]{}"\\\n', max_size=6)
_NESTED = st.recursive(
    st.none() | st.integers() | _TEXTY,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXTY, inner, max_size=3),
    max_leaves=30,
)


@given(_NESTED, st.integers(min_value=0, max_value=8))
def test_depth_is_read_off_the_bytes_exactly(value: Any, limit: int) -> None:
    """Brackets, quotes and backslashes inside strings never fool the byte scan."""
    raw = json.dumps(value).encode()
    assert _too_deep(raw, limit) == (_depth(value) > limit)


@given(st.binary(max_size=256))
def test_parse_body_never_raises(raw: bytes) -> None:
    result = parse_body(raw)
    assert isinstance(result, Refusal | dict)


def _start_redis(tmp_path: Path, port: int) -> subprocess.Popen[bytes]:
    args = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    args += ["--appendonly", "yes", "--appendfsync", "always", "--dir", str(tmp_path)]
    proc = subprocess.Popen(
        args,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(500):
        # ready when it answers PING: while it loads its AOF it accepts but answers LOADING
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5) as c:
            c.sendall(b"PING\r\n")
            if c.recv(64).startswith(b"+PONG"):
                return proc
        time.sleep(0.02)
    proc.kill()
    pytest.fail("redis-server did not start")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server")
def test_limits_survive_a_redis_restart_with_aof(tmp_path: Path) -> None:
    """Killed and restarted under load, a Redis with AOF keeps every limit exactly."""
    port = _free_port()
    proc = _start_redis(tmp_path, port)

    async def go() -> list[int]:
        extra = {"redis": f"redis://127.0.0.1:{port}/0", "limits": {"requests": "10/h"}}
        statuses: list[int] = []
        async with gateway(tmp_path, **extra) as (_, gw, http):
            for _ in range(6):
                async with http.post(gw.url + CHAT, json=chat("hi"), headers=auth("bob")) as r:
                    statuses.append(r.status)
            nonlocal proc
            proc.kill()  # no shutdown save: only the append-only file survives
            proc.wait()
            proc = _start_redis(tmp_path, port)
            await asyncio.sleep(
                RedisLimiter.OPEN_SECONDS + 0.1
            )  # let a failed call's circuit close
            for _ in range(10):
                async with http.post(gw.url + CHAT, json=chat("hi"), headers=auth("bob")) as r:
                    statuses.append(r.status)
        return statuses

    try:
        statuses = asyncio.run(go())
    finally:
        proc.kill()
        proc.wait()
    assert statuses[:6] == [200] * 6
    assert statuses[6:] == [200] * 4 + [429] * 6  # 10 an hour, restart or not


@pytest.mark.parametrize("policy", ["pass", "strip", "refuse"])
def test_unknown_fields_follow_the_route_policy(tmp_path: Path, policy: str) -> None:
    async def go() -> None:
        hardening = {"unknown-fields": policy, "allow-fields": ["guided_json"]}
        routes = [{"path": CHAT, "kind": "openai-chat", "hardening": hardening}]
        async with gateway(tmp_path, routes=routes) as (up, gw, http):
            body = chat("hi", temperature=0.2, guided_json={"type": "object"},
                        x_probe=1, mirostat=2)  # fmt: skip
            async with http.post(gw.url + CHAT, json=body, headers=auth("bob")) as r:
                status, reply = r.status, await r.json()
            if policy == "refuse":
                assert status == 400 and "mirostat, x_probe" in reply["error"]["message"]
                assert up.bodies == []
                return
            assert status == 200
            sent = up.bodies[-1]
            assert sent["temperature"] == 0.2 and sent["guided_json"] == {"type": "object"}
            assert ("x_probe" in sent and "mirostat" in sent) is (policy == "pass")
            notes = _audit(tmp_path, gw)[-1].get("notes", [])
            assert ("removed unknown field x_probe" in notes) is (policy == "strip")

    asyncio.run(go())
