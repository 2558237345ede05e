"""The hot-path shortcuts give the same answers as the plain code they replace.

* vectorised MinHash signatures == datasketch's, one MinHash per text;
* the in-process limiter is the Redis Lua script's GCRA (same decisions, same retry-after);
* the buffered audit log loses no line and splits none;
* the plain-ASGI fast path leaves every other request to Starlette (404, 405, /healthz).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import uuid
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from tests.inference.conftest import auth, chat, running
from tests.inference.test_detection import _paraphrases

from aisec.inference import Limit, MemoryLimiter, RedisLimiter
from aisec.inference import _sketch as sketch_mod
from aisec.inference._sketch import signature, signatures
from aisec.inference.alerts import AUDIT_MAX_PENDING, AuditLog


def test_vectorised_signatures_equal_datasketch() -> None:
    rng = random.Random(4)  # noqa: S311 -- test data, not secrets
    texts = [*_paraphrases(40), "", "   ", "the a an", "x", "ünïcode wörds ok", "42 42 42"]
    texts += [" ".join(rng.choices(["alpha", "beta", "gamma", "doses", "tested"], k=9))] * 3
    assert sketch_mod._FAST, "the vectorised path did not reproduce datasketch here"
    for batch in (texts, texts[:1], texts[3:7]):
        got = signatures(batch)
        assert len(got) == len(batch)
        for sig, text in zip(got, batch, strict=True):
            assert sig.dtype == signature(text).dtype
            assert sig.tolist() == signature(text).tolist(), text
    assert signatures([]) == []


def test_memory_limiter_is_gcra_burst_then_rate() -> None:
    async def go() -> None:
        lim = MemoryLimiter()
        req = (Limit("*:req", "3/hour"),)
        got = [await lim.check("a", req, "1/10s") for _ in range(4)]
        assert [d.allowed for d in got] == [True, True, True, False]
        # GCRA: after a burst of 3, the next request is allowed one emission interval later
        assert 1190 < got[3].retry_after <= 1200
        assert got[3].reason == "rate-limited"
        assert (await lim.check("b", req, "1/10s")).allowed  # per account
        # a request costing more than the whole limit is refused, with the period as retry
        big = await lim.check("c", (Limit("*:tok", "100/hour", 101),), "1/10s")
        assert not big.allowed and 3599 < big.retry_after <= 3600
        # all limits or none: a refusal by one limit consumes nothing from the others
        both = (Limit("*:req", "10/hour"), Limit("*:tok", "100/hour", 60))
        assert (await lim.check("d", both, "1/10s")).allowed
        assert not (await lim.check("d", both, "1/10s")).allowed
        only_req = await lim.check("d", (Limit("*:req", "10/hour"),), "1/10s")
        assert only_req.allowed  # 2 of 10 used, not 3
        # detector actions: throttle adds the throttle limit, block refuses outright
        await lim.set_actions("e", frozenset({"throttle"}), 60)
        throttled = [await lim.check("e", (), "2/hour") for _ in range(3)]
        assert [d.allowed for d in throttled] == [True, True, False]
        assert throttled[0].actions == frozenset({"throttle"})
        await lim.set_actions("f", frozenset({"block"}), 60)
        blocked = await lim.check("f", req, "1/10s")
        assert not blocked.allowed and blocked.retry_after < 0 and blocked.reason == "blocked"

    asyncio.run(go())


@pytest.mark.skipif(
    not os.environ.get("AISEC_TEST_REDIS_URL"), reason="AISEC_TEST_REDIS_URL is not set"
)
def test_memory_and_redis_limiters_decide_alike() -> None:
    async def go() -> None:
        client = aioredis.from_url(os.environ["AISEC_TEST_REDIS_URL"], decode_responses=True)
        prefix = f"aisec:test:{uuid.uuid4().hex}"
        try:
            redis_lim = RedisLimiter(client, prefix, fail_open=False)
            mem_lim = MemoryLimiter()
            rng = random.Random(9)  # noqa: S311 -- test data, not secrets
            for i in range(60):
                cost = rng.choice([1, 30, 80, 150])
                limits = (Limit("/v1:req", "20/hour"), Limit("*:tok", "1000/hour", cost))
                r = await redis_lim.check("acct", limits, "1/10s")
                m = await mem_lim.check("acct", limits, "1/10s")
                assert (r.allowed, r.reason) == (m.allowed, m.reason), i
                assert abs(r.retry_after - m.retry_after) < 1.0, i
        finally:
            async for key in client.scan_iter(match=f"{prefix}:*"):
                await client.delete(key)
            await client.aclose()

    asyncio.run(go())


def test_audit_log_is_buffered_and_loses_nothing(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path)
    log.write({"event": "request", "n": 0})
    assert path.read_text() == ""  # buffered until a flush
    log.flush()
    assert path.read_text() == '{"event":"request","n":0}\n'
    for n in range(1, AUDIT_MAX_PENDING + 1):  # a full buffer flushes by itself
        log.write({"event": "request", "n": n, "prompt": "ü\n" * 3})
    assert len(path.read_text(encoding="utf-8").splitlines()) == AUDIT_MAX_PENDING + 1
    log.write({"event": "request", "n": "last"})
    log.close()
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(x)["n"] for x in lines] == [*range(AUDIT_MAX_PENDING + 1), "last"]
    AuditLog(None).write({"event": "x"})  # no file: nothing to do


def test_fast_path_leaves_other_requests_to_starlette(tmp_path: Path) -> None:
    async def go() -> None:
        async with running(tmp_path) as (mock, gw, http):
            url = gw.url + "/v1/chat/completions"
            async with http.get(url, headers=auth("alice")) as r:
                assert r.status == 405
            async with http.post(gw.url + "/v1/nope", json=chat("x"), headers=auth("alice")) as r:
                assert r.status == 404
            async with http.get(gw.url + "/healthz") as r:
                assert (await r.json())["status"] == "ok"
            async with http.post(url, data=b"[1, 2]", headers=auth("alice")) as r:
                assert r.status == 400
                assert r.headers["x-aisec-action"] == "bad-request"
            async with http.post(url, json=chat("hello"), headers=auth("alice")) as r:
                assert r.status == 200
                assert r.headers["content-type"].startswith("application/json")
                assert int(r.headers["content-length"]) == len(await r.read())
            assert mock.requests == 1

    asyncio.run(go())


@pytest.mark.skipif(
    not os.environ.get("AISEC_TEST_REDIS_URL"), reason="AISEC_TEST_REDIS_URL is not set"
)
def test_redis_limiter_batches_concurrent_checks_in_order() -> None:
    async def go() -> None:
        client = aioredis.from_url(os.environ["AISEC_TEST_REDIS_URL"], decode_responses=True)
        prefix = f"aisec:test:{uuid.uuid4().hex}"
        try:
            lim = RedisLimiter(client, prefix, fail_open=False)
            calls = []
            script = lim._script

            async def counted(**kw: object) -> object:
                calls.append(kw)
                return await script(**kw)

            lim._script = counted  # type: ignore[method-assign]
            limits = (Limit("*:req", "50/hour"),)
            got = await asyncio.gather(*(lim.check("a", limits, "1/10s") for _ in range(200)))
            assert [d.allowed for d in got] == [True] * 50 + [False] * 150  # arrival order
            assert all(0 < d.retry_after <= 3600 for d in got[50:])
            assert len(calls) < 20  # one round trip served many requests
            other = await asyncio.gather(*(lim.check(f"u{i}", limits, "1/10s") for i in range(5)))
            assert all(d.allowed for d in other)  # per account, inside one batch
            await client.aclose()
            # Redis gone: every request of a batch gets the configured policy
            dead = aioredis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
            down_lim = RedisLimiter(dead, prefix, fail_open=True)
            down = await asyncio.gather(*(down_lim.check("b", limits, "1/10s") for _ in range(5)))
            assert {(d.allowed, d.reason) for d in down} == {(True, "redis-down-fail-open")}
            await dead.aclose()
        finally:
            cleanup = aioredis.from_url(os.environ["AISEC_TEST_REDIS_URL"])  # client is closed
            async for key in cleanup.scan_iter(match=f"{prefix}:*"):
                await cleanup.delete(key)
            await cleanup.aclose()

    asyncio.run(go())
