"""Traffic simulator: a realistic generated day (:mod:`aisec.inference.population`) sent through
a real gateway in front of a mock upstream, or replayed offline.

Live, everything runs on 127.0.0.1 in one event loop: the mock upstream (aiohttp.web), the
gateway (uvicorn) and the clients (aiohttp), in the day's order with bounded concurrency (the
six hours are compressed into as long as the requests take). The result scores every account
against the day's truth: per attacker class whether and at which of its queries it was first
flagged and by which detector, and which benign accounts were flagged.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from aisec.core.digest import digest_bytes
from aisec.core.evidence import SigningKey
from aisec.inference.accounts import Account, AccountTable
from aisec.inference.config import GuardConfig
from aisec.inference.mock import MockUpstream
from aisec.inference.population import ROUTES, generate_day
from aisec.inference.server import GatewayServer
from aisec.inference.tune import score, truth_from

__all__ = ["SimulationResult", "run_simulation", "simulation_config", "write_day"]


def simulation_config(
    upstream: str, keys: list[str], *, redis: str | None = None, prefix: str = "aisec:sim"
) -> GuardConfig:
    """One account per key (``acct-NNN``), the day's routes, limits out of the way."""
    return GuardConfig.model_validate(
        {
            "upstream": upstream,
            "redis": redis,
            "redis-prefix": prefix,
            "routes": ROUTES,
            "accounts": [{"name": f"acct-{i:03d}", "api-key": k} for i, k in enumerate(keys)],
            "limits": {"requests": "100000/minute"},
            "detectors": {"actions": {"*": ["log"]}},
        }
    )


@dataclass
class SimulationResult:
    seed: int
    requests: int
    seconds: float
    live: bool
    report: dict[str, Any]  # aisec.inference.tune.score
    alerts: list[dict[str, Any]]

    @property
    def classes_detected(self) -> int:
        return sum(1 for e in self.report["classes"].values() if e["detected"])

    @property
    def false_positive_rate(self) -> float:
        return float(self.report["benign"]["rate"])

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": "aisec.guard-simulation/v2",
            "seed": self.seed,
            "mode": "live" if self.live else "offline",
            "requests": self.requests,
            "seconds": round(self.seconds, 3),
            **{k: v for k, v in self.report.items() if k != "schema"},
        }


def write_day(directory: Path, seed: int, individuals: int) -> tuple[Path, Path]:
    """Write the generated day as ``traffic.jsonl`` and ``TRUTH.json`` into ``directory``."""
    rows, truth = generate_day(seed, individuals)
    directory.mkdir(parents=True, exist_ok=True)
    traffic = directory / "traffic.jsonl"
    with traffic.open("w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r, separators=(",", ":")) + "\n")
    truth_path = directory / "TRUTH.json"
    truth_path.write_text(json.dumps(truth, indent=1), encoding="utf-8")
    return traffic, truth_path


async def run_simulation(
    *,
    seed: int = 11,
    individuals: int = 120,
    live: bool = True,
    concurrency: int = 8,
    redis: str | None = None,
    time_limit: float = 300.0,
    signing_key: SigningKey | None = None,
    store_url: str | None = None,
    thin: int = 1,
    classes: Collection[str] | None = None,
) -> SimulationResult:
    """Generate the day and run it once (live through a gateway, or offline); scored.

    Live, requests stop after ``time_limit`` seconds (the score then covers what was sent).
    ``thin`` keeps every n-th request of each benign account and ``classes`` only those
    attacker classes (a lighter day for demos). With ``signing_key`` and ``store_url`` the
    gateway records its configuration and alerts in that evidence store, as ``aisec guard
    serve`` does.
    """
    rows, truth = generate_day(seed, individuals)
    if thin > 1 or classes is not None:  # a lighter day (the demo): every n-th benign request
        accounts = truth["accounts"]
        counter: dict[str, int] = {}

        def keep(row: dict[str, Any]) -> bool:
            info = accounts[row["api_key"]]
            if info["label"] != "benign":
                return classes is None or info["class"] in classes
            counter[row["api_key"]] = n = counter.get(row["api_key"], 0) + 1
            return n % thin == 1 % thin

        rows = [r for r in rows if keep(r)]
        sent_keys = {r["api_key"] for r in rows}
        truth = truth | {"accounts": {k: v for k, v in accounts.items() if k in sent_keys}}
    keys = list(dict.fromkeys(r["api_key"] for r in rows))
    start = time.monotonic()
    if not live:
        from aisec.inference.replay import replay_events

        cfg = simulation_config("http://127.0.0.1:9", keys)
        alerts = await replay_events(rows, cfg)
        sent = len(rows)
    else:
        alerts, sent, cfg = await _live(rows, keys, concurrency, redis, time_limit,
                                        signing_key, store_url)  # fmt: skip
    table = AccountTable(Account(a.name, a.key_hash()) for a in cfg.accounts)
    names = {k: f"acct-{i:03d}" for i, k in enumerate(keys)}
    order = [names[r["api_key"]] for r in rows[:sent]]
    report = score(order, alerts, truth_from(truth, table))
    return SimulationResult(seed, sent, time.monotonic() - start, live, report, alerts)


async def _live(
    rows: list[dict[str, Any]], keys: list[str], concurrency: int, redis: str | None,
    time_limit: float, signing_key: SigningKey | None, store_url: str | None,
) -> tuple[list[dict[str, Any]], int, GuardConfig]:  # fmt: skip
    start = time.monotonic()
    index: dict[str, int] = {}
    async with MockUpstream() as mock:
        prefix = f"aisec:sim:{os.urandom(8).hex()}"
        cfg = simulation_config(mock.url, keys, redis=redis, prefix=prefix)
        if signing_key is not None:
            cfg = cfg.model_copy(update={"evidence": True})
        async with GatewayServer(
            cfg, digest_bytes(b"simulation"), signing_key=signing_key, store_url=store_url
        ) as gw:
            sem = asyncio.Semaphore(concurrency)
            sent = 0
            async with aiohttp.ClientSession() as http:

                async def one(i: int, row: dict[str, Any]) -> None:
                    async with http.post(
                        gw.url + row["route"], json=row["body"],
                        headers={"authorization": f"Bearer {row['api_key']}"},
                    ) as resp:  # fmt: skip
                        await resp.read()
                        index[resp.headers.get("x-aisec-request-id", "")] = i

                async def bounded(i: int, row: dict[str, Any]) -> None:
                    async with sem:
                        await one(i, row)

                tasks = []
                for i, row in enumerate(rows):
                    if time.monotonic() - start > time_limit:
                        break
                    # in the day's order: the next request waits for a free slot
                    await sem.acquire()
                    sem.release()
                    tasks.append(asyncio.create_task(bounded(i, row)))
                    sent = i + 1
                    if len(tasks) >= 4 * concurrency:
                        await asyncio.gather(*tasks)
                        tasks = []
                await asyncio.gather(*tasks)
            await asyncio.wait_for(gw.gateway.pipeline.drain(), timeout=60)
            alerts = [
                a | {"i": index[a["request_id"]]}
                for a in gw.gateway.pipeline.alerts
                if a["request_id"] in index
            ]
            if gw.gateway.redis is not None:  # leave nothing behind in a shared Redis
                stale = [k async for k in gw.gateway.redis.scan_iter(match=f"{prefix}:*")]
                for j in range(0, len(stale), 500):
                    await gw.gateway.redis.delete(*stale[j : j + 500])
    return alerts, sent, cfg
