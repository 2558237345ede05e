"""Gateway overhead and multi-replica limit accuracy: aisec guard vs direct vs LiteLLM's proxy.

Everything on 127.0.0.1, against one mock upstream (aisec.inference.mock, in its own process):

1. latency: N sequential chat completions per target (p50/p99, added = target - direct);
2. throughput: M requests at concurrency C per target, bounded in time (req/s);
3. fixed rate, after a 2 s pause: K requests sent open-loop at R req/s (1,000 by default: the
   issue's latency point), bounded in count and time; latency is measured from each request's
   scheduled send time, so a target that falls behind is charged for the queueing it causes
   (no coordinated omission); p50/p99 and added = target - direct at the same rate;
4. limit accuracy: two replicas of each proxy, one limit L, 4L requests spread over both;
   allowed vs L. aisec shares Redis (GCRA Lua script); LiteLLM with its per-deployment rpm
   (usage-based-routing-v2, pre-call checks), once without and once with its Redis settings.

The anchor, ``litellm[proxy]`` from PyPI, is installed by this script into its own venv
(~/.cache/aisec-bench/litellm-venv) so its pins never touch the project's environment.
Run: .venv/bin/python bench/bench_gateway.py [--quick] [--rate 1000] [--no-litellm] [--no-accuracy]
The load generator runs on uvloop when it is installed (``uvicorn[standard]`` brings it).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import redis
import yaml

VENV = Path.home() / ".cache" / "aisec-bench" / "litellm-venv"
LITELLM = VENV / "bin" / "litellm"
REDIS = os.environ.get("AISEC_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
MOCK_CODE = """
import asyncio
from aisec.inference.mock import MockUpstream
async def main():
    async with MockUpstream() as m:
        print(m.url, flush=True)
        await asyncio.sleep(3600)
asyncio.run(main())
"""
GUARD_CODE = "import sys; from aisec.cli.guard import guard_group; guard_group(sys.argv[1:])"
KEY = "sk-bench-0123456789abcdef"
_RNG = random.Random(1)  # noqa: S311 -- varied benign prompts, not secrets
# varied prompts: one prompt repeated would (rightly) look like extraction to the detectors
_VOCAB = [f"w{i}x{_RNG.randint(0, 9999)}" for i in range(2000)]
BODIES = [
    {"model": "mock", "messages": [{"role": "user", "content": " ".join(_RNG.sample(_VOCAB, 8))}]}
    for _ in range(16384)
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _accepts(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _drop_keys(pattern: str) -> None:
    """Leave nothing of this run behind in the shared Redis."""
    client = redis.Redis.from_url(REDIS)
    keys = list(client.scan_iter(match=pattern, count=5000))
    for i in range(0, len(keys), 1000):
        client.delete(*keys[i : i + 1000])
    client.close()


def ensure_litellm() -> str | None:
    """Install litellm[proxy] into the bench venv; return why not when impossible."""
    if LITELLM.exists():
        return None
    try:
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True, timeout=120)
        subprocess.run(
            [str(VENV / "bin" / "pip"), "install", "-q", "litellm[proxy]"], check=True, timeout=900
        )
    except (subprocess.SubprocessError, OSError) as exc:
        return f"litellm[proxy] did not install: {exc}"
    return None if LITELLM.exists() else "litellm[proxy] installed no 'litellm' command"


@contextlib.contextmanager
def process(cmd: list[str], ready: str, *, env: dict[str, str] | None = None,
            timeout: float = 90, port: int | None = None) -> Iterator[str]:  # fmt: skip
    """Start ``cmd``; wait for a line matching ``ready`` on stdout/stderr (or for ``port`` to
    accept connections); yield the match (or the base URL)."""
    with tempfile.TemporaryFile("w+") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, text=True,
                                env={**os.environ, **(env or {})})  # fmt: skip
        try:
            deadline = time.monotonic() + timeout
            while True:
                if port is not None and _accepts(port):
                    yield f"http://127.0.0.1:{port}"
                    return
                log.seek(0)
                m = re.search(ready, log.read()) if ready else None
                if m:
                    break
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    raise RuntimeError(f"{cmd[0]} did not start: {log.read()[-2000:]}")
                time.sleep(0.2)
            yield m.group(1) if m.groups() else m.group(0)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def guard_config(tmp: Path, upstream: str, *, limit: str, redis: str | None, prefix: str) -> Path:
    data: dict[str, Any] = {
        "upstream": upstream,
        "routes": [{"path": "/v1/chat/completions", "kind": "openai-chat",
                    "hardening": {"strip-logprobs": True, "max-tokens": 256, "redact-secrets": True,
                                  "max-prompt-chars": 20000,
                                  "deny-patterns": ["ignore (all )?previous instructions"]}}],
        "accounts": [{"name": "bench", "api-key": KEY}],
        "limits": {"requests": limit, "tokens": "1000000000/hour"},
        "audit-log": str(tmp / f"audit-{prefix}.jsonl"),
        "redis": redis,
        "redis-prefix": f"aisec:bench:{prefix}",
    }  # fmt: skip
    path = tmp / f"guard-{prefix}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def litellm_config(tmp: Path, upstream: str, *, rpm: int, redis: bool, name: str) -> Path:
    router: dict[str, Any] = {
        "routing_strategy": "usage-based-routing-v2",
        "enable_pre_call_checks": True,
        "num_retries": 0,
    }
    if redis:
        router |= {"redis_host": "127.0.0.1", "redis_port": 6379}
    data = {
        "model_list": [{"model_name": "mock", "litellm_params": {
            "model": "openai/mock", "api_base": upstream + "/v1", "api_key": "fake", "rpm": rpm}}],
        "router_settings": router,
        "general_settings": {"master_key": KEY},
    }  # fmt: skip
    path = tmp / f"litellm-{name}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def start_guard(config: Path) -> contextlib.AbstractContextManager[str]:
    return process(
        [sys.executable, "-c", GUARD_CODE, "serve", "--config", str(config), "--port", "0"],
        r"listening on (http://127\.0\.0\.1:\d+)",
    )


def start_guard_workers(config: Path, workers: int) -> contextlib.AbstractContextManager[str]:
    """One replica of ``workers`` processes (uvicorn's ``--workers``) on one port, sharing
    Redis: how a host with several cores runs the gateway."""
    port = free_port()
    return process(
        [sys.executable, "-c", GUARD_CODE, "serve", "--config", str(config), "--port", str(port),
         "--workers", str(workers)],
        "", port=port, timeout=120,
    )  # fmt: skip


def start_litellm(config: Path) -> contextlib.AbstractContextManager[str]:
    port = free_port()
    return process(
        [str(LITELLM), "--config", str(config), "--host", "127.0.0.1", "--port", str(port)],
        "",
        port=port,
        env={"LITELLM_LOCAL_MODEL_COST_MAP": "True", "LITELLM_LOG": "ERROR"},
        timeout=120,
    )


async def latency(url: str, n: int, ids: Iterator[int]) -> list[float]:
    out = []
    headers = {"authorization": f"Bearer {KEY}"}
    async with aiohttp.ClientSession() as http:
        for i in range(n + 20):
            t0 = time.perf_counter()
            async with http.post(url, json=BODIES[next(ids)], headers=headers) as r:
                await r.read()
                assert r.status == 200, r.status
            if i >= 20:  # warm-up
                out.append(time.perf_counter() - t0)
    return out


async def throughput(
    url: str, n: int, concurrency: int, limit_s: float, ids: Iterator[int]
) -> tuple[float, int]:
    headers = {"authorization": f"Bearer {KEY}"}
    done = 0
    errors = 0
    start = time.perf_counter()
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def worker() -> None:
            nonlocal done, errors
            while done + errors < n and time.perf_counter() - start < limit_s:
                body = BODIES[next(ids)]  # every prompt once: repeats look like extraction
                async with http.post(url, json=body, headers=headers) as r:
                    await r.read()
                    if r.status == 200:
                        done += 1
                    else:
                        errors += 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return done / (time.perf_counter() - start), errors


async def fixed_rate(
    url: str, rate: float, n: int, limit_s: float, ids: Iterator[int]
) -> tuple[list[float], int]:
    """Open loop: request i is due at ``start + i / rate`` whether or not earlier ones have
    answered; its latency runs from that due time. Stops after ``n`` requests or ``limit_s``."""
    headers = {"authorization": f"Bearer {KEY}"}
    lat: list[float] = []
    errors = 0
    connector = aiohttp.TCPConnector(limit=512)
    timeout = aiohttp.ClientTimeout(total=10)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:

        async def one(body: dict[str, Any], due: float) -> None:
            nonlocal errors
            try:
                async with http.post(url, json=body, headers=headers) as r:
                    await r.read()
                    ok = r.status == 200
            except (aiohttp.ClientError, TimeoutError):
                ok = False
            if ok:
                lat.append(time.perf_counter() - due)
            else:
                errors += 1

        tasks = []
        start = time.perf_counter() + 0.01
        for i in range(n):
            due = start + i / rate
            if due - start > limit_s:
                break
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(BODIES[next(ids)], due)))
        await asyncio.gather(*tasks)
    return lat, errors


def run(coro: Any) -> Any:
    """``asyncio.run`` on uvloop when available: a cheaper load generator leaves more of the
    two shared cores to the target under test."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coro)


async def limit_accuracy(urls: list[str], requests: int) -> int:
    headers = {"authorization": f"Bearer {KEY}"}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=16)) as http:

        async def one(i: int) -> int:
            async with http.post(urls[i % len(urls)], json=BODIES[i], headers=headers) as r:
                await r.read()
                return r.status

        statuses = await asyncio.gather(*(one(i) for i in range(requests)))
    return sum(s == 200 for s in statuses)


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] * 1000 if len(values) > 2 else 0.0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="smaller counts")
    ap.add_argument("--rate", type=float, default=1000.0, help="fixed-rate point, req/s")
    ap.add_argument("--no-litellm", action="store_true", help="skip the LiteLLM anchor")
    ap.add_argument("--no-accuracy", action="store_true", help="skip the limit-accuracy part")
    ap.add_argument(
        "--workers",
        type=int,
        default=2,
        help="also measure one replica of this many processes sharing Redis (0: no)",
    )
    args = ap.parse_args()
    load_before = os.getloadavg()
    n_lat, n_tp, conc, limit = (200, 1000, 16, 50) if args.quick else (1000, 4000, 32, 100)
    n_fixed = int(args.rate * (1 if args.quick else 3))  # 1 s or 3 s of traffic
    anchor_missing = "skipped (--no-litellm)" if args.no_litellm else ensure_litellm()
    rows: list[tuple[str, list[float], float, int]] = []
    fixed: list[tuple[list[float], int]] = []
    acc: list[tuple[str, int]] = []
    chat = "/v1/chat/completions"
    with (
        tempfile.TemporaryDirectory() as tmpdir,
        process([sys.executable, "-c", MOCK_CODE], r"(http://127\.0\.0\.1:\d+)") as mock,
    ):
        tmp = Path(tmpdir)
        big = "1000000000/hour"
        targets: list[tuple[str, Any]] = [("direct (mock upstream)", contextlib.nullcontext(mock))]
        targets.append(
            (
                "aisec guard, in-process state",
                start_guard(guard_config(tmp, mock, limit=big, redis=None, prefix="mem")),
            )
        )
        targets.append(("aisec guard, Redis state",
                        start_guard(guard_config(tmp, mock, limit=big, redis=REDIS,
                                                 prefix=uuid.uuid4().hex))))  # fmt: skip
        if args.workers > 1:
            targets.append((f"aisec guard, Redis state, {args.workers} workers",
                            start_guard_workers(guard_config(tmp, mock, limit=big, redis=REDIS,
                                                             prefix=uuid.uuid4().hex),
                                                args.workers)))  # fmt: skip
        if anchor_missing is None:
            targets.append(("LiteLLM proxy (rpm limit on)",
                            start_litellm(litellm_config(tmp, mock, rpm=10**9, redis=False,
                                                         name="perf"))))  # fmt: skip
        for name, ctx in targets:
            with ctx as base:
                ids = itertools.count()
                lat = run(latency(base + chat, n_lat, ids))
                rps, errors = run(throughput(base + chat, n_tp, conc, 30.0, ids))
                rows.append((name, lat, rps, errors))
                time.sleep(2)  # let the target work off what saturation left queued
                # last: a target far slower than the rate is left with a queue it would bring
                # into any later measurement
                fixed.append(run(fixed_rate(base + chat, args.rate, n_fixed, 10.0, ids)))
                p50, p99 = statistics.median(lat) * 1000, pct(lat, 99)
                f50, f99 = statistics.median(fixed[-1][0]) * 1000, pct(fixed[-1][0], 99)
                print(f"measured {name}: p50 {p50:.2f} ms p99 {p99:.2f} ms {rps:.0f} req/s "
                      f"errors {errors}; at {args.rate:.0f} req/s p50 {f50:.2f} ms "
                      f"p99 {f99:.2f} ms errors {fixed[-1][1]}", file=sys.stderr)  # fmt: skip
        prefix = uuid.uuid4().hex
        cfg = guard_config(tmp, mock, limit=f"{limit}/hour", redis=REDIS, prefix=prefix)
        if not args.no_accuracy:
            with start_guard(cfg) as a, start_guard(cfg) as b:
                allowed = run(limit_accuracy([a + chat, b + chat], 4 * limit))
                acc.append(("aisec guard x2, Redis (GCRA Lua)", allowed))
                print(f"limit accuracy aisec: {allowed}", file=sys.stderr)
        if anchor_missing is None and not args.no_accuracy:
            for redis in (False, True):
                cfg = litellm_config(tmp, mock, rpm=limit, redis=redis, name=f"acc{redis}")
                with start_litellm(cfg) as a, start_litellm(cfg) as b:
                    label = "LiteLLM x2, " + ("its Redis settings" if redis else "no Redis")
                    allowed = run(limit_accuracy([a + chat, b + chat], 4 * limit))
                    acc.append((label, allowed))
                    print(f"limit accuracy {label}: {allowed}", file=sys.stderr)
    _drop_keys("aisec:bench:*")
    load_after = os.getloadavg()
    print(f"\nmachine: {os.cpu_count()} cores; load average (1/5/15 min) before "
          f"{load_before[0]:.2f}/{load_before[1]:.2f}/{load_before[2]:.2f}, after "
          f"{load_after[0]:.2f}/{load_after[1]:.2f}/{load_after[2]:.2f} (the targets' own load "
          "is part of the second)")  # fmt: skip
    direct = statistics.median(rows[0][1]) * 1000
    direct99 = pct(rows[0][1], 99)
    print(f"\n## Gateway overhead ({n_lat} sequential requests; {n_tp} at concurrency {conc})\n")
    print("| target | p50 ms | p99 ms | added p50 ms | added p99 ms | req/s | errors |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, lat, rps, errors in rows:
        p50 = statistics.median(lat) * 1000
        p99 = pct(lat, 99)
        print(f"| {name} | {p50:.2f} | {p99:.2f} | {p50 - direct:.2f} | {p99 - direct99:.2f} "
              f"| {rps:.0f} | {errors} |")  # fmt: skip
    by = {name: (statistics.median(lat) * 1000 - direct, rps) for name, lat, rps, _ in rows}
    lite = by.get("LiteLLM proxy (rpm limit on)")
    if lite is not None:
        for name in [n for n in by if n.startswith("aisec")]:
            added, rps = by[name]
            print(f"\n{name} vs LiteLLM: added p50 {lite[0] / added:.1f}x lower, "
                  f"throughput {rps / lite[1]:.1f}x")  # fmt: skip
    else:
        print(f"\nLiteLLM anchor not run: {anchor_missing}")
    d50, d99 = statistics.median(fixed[0][0]) * 1000, pct(fixed[0][0], 99)
    print(f"\n## Fixed rate: {n_fixed} requests open-loop at {args.rate:.0f} req/s\n")
    print("| target | p50 ms | p99 ms | added p50 ms | added p99 ms | answered | errors |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for (name, *_), (lat, errors) in zip(rows, fixed, strict=True):
        p50, p99 = statistics.median(lat) * 1000, pct(lat, 99)
        print(f"| {name} | {p50:.2f} | {p99:.2f} | {p50 - d50:.2f} | {p99 - d99:.2f} "
              f"| {len(lat)} | {errors} |")  # fmt: skip
    if args.no_accuracy:
        return
    print(f"\n## Limit accuracy: 2 replicas, limit {limit}, {4 * limit} requests\n")
    print("| setup | allowed | limit | allowed / limit |")
    print("| --- | --- | --- | --- |")
    for name, allowed in acc:
        print(f"| {name} | {allowed} | {limit} | {allowed / limit:.2f} |")


if __name__ == "__main__":
    main()
