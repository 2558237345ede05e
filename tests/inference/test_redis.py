"""Shared state in a real Redis: one limit across replicas, one detector view of an account.

Needs ``AISEC_TEST_REDIS_URL`` (e.g. redis://127.0.0.1:6379/0); skipped otherwise.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
import redis
import redis.asyncio as aioredis
from tests.inference.conftest import auth, chat, config_dict, write_config
from tests.inference.test_detection import _paraphrases

from aisec.inference import Limit, RedisLimiter
from aisec.inference.mock import MockUpstream

REDIS_URL = os.environ.get("AISEC_TEST_REDIS_URL")
pytestmark = pytest.mark.skipif(not REDIS_URL, reason="AISEC_TEST_REDIS_URL is not set")


@pytest.fixture
def prefix() -> Iterator[str]:
    """A key prefix of this test alone; its keys are deleted afterwards."""
    value = f"aisec:test:{uuid.uuid4().hex}"
    yield value
    client = redis.Redis.from_url(str(REDIS_URL))
    keys = list(client.scan_iter(match=f"{value}:*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


def test_gcra_is_exact_across_two_limiters(prefix: str) -> None:
    async def go() -> int:
        clients = [aioredis.from_url(str(REDIS_URL), decode_responses=True) for _ in range(2)]
        limiters = [RedisLimiter(c, prefix, fail_open=False) for c in clients]
        limits = (Limit("*:req", "25/hour"),)
        results = await asyncio.gather(
            *(limiters[i % 2].check("acct", limits, "1/10s") for i in range(100))
        )
        denied = [d for d in results if not d.allowed]
        assert all(0 < d.retry_after <= 3600 for d in denied)
        for c in clients:
            await c.aclose()
        return sum(d.allowed for d in results)

    assert asyncio.run(go()) == 25


def test_redis_down_fails_closed_or_open() -> None:
    async def go(fail_open: bool) -> tuple[bool, str]:
        client = aioredis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
        d = await RedisLimiter(client, "x", fail_open=fail_open).check(
            "a", (Limit("*:req", "5/hour"),), "1/10s"
        )
        await client.aclose()
        return d.allowed, d.reason

    assert asyncio.run(go(False)) == (False, "redis-down-fail-closed")
    assert asyncio.run(go(True)) == (True, "redis-down-fail-open")


def _start_replica(config: Path) -> tuple[subprocess.Popen[str], str]:
    code = "import sys; from aisec.cli.guard import guard_group; guard_group(sys.argv[1:])"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "serve", "--config", str(config), "--port", "0"],
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    line = proc.stderr.readline()  # the process prints its address once it is serving
    m = re.search(r"listening on (http://127\.0\.0\.1:\d+)", line)
    if m is None:
        proc.kill()
        raise AssertionError(f"replica did not start: {line}{proc.stderr.read()}")
    return proc, m.group(1)


def test_two_gateway_processes_share_limits_and_detection(tmp_path: Path, prefix: str) -> None:
    async def go() -> None:
        async with MockUpstream() as mock:
            data = config_dict(
                mock.url,
                redis=REDIS_URL,
                **{"redis-prefix": prefix},
                limits={"requests": "20/hour"},
                detectors={"min-queries": 20, "actions": {"*": ["log", "throttle"]}},
            )
            data["accounts"][1]["limits"] = {"requests": "1000/hour"}  # bob: detection test
            data["audit-log"] = str(tmp_path / "audit.jsonl")
            config = write_config(tmp_path / "guard.yaml", data)
            procs = [await asyncio.to_thread(_start_replica, config) for _ in range(2)]
            try:
                urls = [u for _, u in procs]
                async with aiohttp.ClientSession() as http:

                    async def post(i: int, name: str, text: str) -> tuple[int, str]:
                        async with http.post(
                            urls[i % 2] + "/v1/chat/completions",
                            json=chat(text),
                            headers=auth(name),
                        ) as r:
                            return r.status, r.headers.get("x-aisec-action", "")

                    results = await asyncio.gather(
                        *(post(i, "alice", f"question {i}") for i in range(60))
                    )
                    assert sum(s == 200 for s, _ in results) == 20
                    assert sum(s == 429 for s, _ in results) == 40
                    # paraphrases spread over both replicas: one account's stream in Redis
                    bob = [await post(i, "bob", t) for i, t in enumerate(_paraphrases(40))]
                    await asyncio.sleep(0.5)  # detection runs off the request path
                    late = [await post(i, "bob", "one more question") for i in range(4)]
                    assert [s for s, _ in late].count(429) >= 3
                    assert {a for s, a in late if s == 429} == {"throttle"}
                assert mock.requests == 20 + sum(s == 200 for s, _ in bob + late)
            finally:
                for proc, _ in procs:
                    proc.terminate()
                for proc, _ in procs:
                    proc.wait(timeout=10)
                    assert proc.stderr is not None
                    proc.stderr.close()

    asyncio.run(go())


def test_redis_memory_grows_with_accounts_not_requests(tmp_path: Path, prefix: str) -> None:
    """Every shared key is per account and bounded: after each account's window is full, more
    requests add no key and (almost) no byte. Keys carry the state layout's version."""
    from tests.inference.conftest import running

    from aisec.inference.state import STATE_VERSION

    client = redis.Redis.from_url(str(REDIS_URL))

    def usage() -> tuple[int, int]:
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        assert all(k.decode().startswith(f"{prefix}:{STATE_VERSION}:") for k in keys)
        return len(keys), sum(int(client.memory_usage(k) or 0) for k in keys)

    async def go() -> tuple[tuple[int, int], tuple[int, int]]:
        async with running(
            tmp_path, redis=REDIS_URL, **{"redis-prefix": prefix},
            detectors={"window": 20, "min-queries": 20},
        ) as (_, gw, http):  # fmt: skip
            url = gw.url + "/v1/chat/completions"

            async def burst(start: int, n: int) -> None:
                for i in range(start, start + n):
                    name = ("alice", "bob")[i % 2]
                    async with http.post(url, json=chat(f"q{i} about {i * 7919 % 1009}"),
                                         headers=auth(name)) as r:  # fmt: skip
                        assert r.status == 200
                await gw.gateway.pipeline.drain()

            await burst(0, 80)
            first = usage()
            await burst(80, 240)
            return first, usage()

    (keys_1, bytes_1), (keys_2, bytes_2) = asyncio.run(go())
    client.close()
    assert keys_2 == keys_1  # four times the requests, not one key more
    assert bytes_2 <= bytes_1 * 1.25


def test_charge_after_the_fact_is_shared(prefix: str) -> None:
    """Output counted after a call (``charge``) consumes the same shared limit as ``check``."""

    async def go() -> int:
        clients = [aioredis.from_url(str(REDIS_URL), decode_responses=True) for _ in range(2)]
        limiters = [RedisLimiter(c, prefix, fail_open=False) for c in clients]
        await limiters[0].charge("acct", (Limit("*:tok", "100/hour", 80),))
        results = [
            await limiters[1].check("acct", (Limit("*:tok", "100/hour", 5),), "1/10s")
            for _ in range(10)
        ]
        for c in clients:
            await c.aclose()
        return sum(d.allowed for d in results)

    assert asyncio.run(go()) == 4  # 100 - 80 = 20 left: four requests of 5
