"""Traffic simulator: benign accounts and attackers against a real gateway and a mock upstream.

Everything runs on 127.0.0.1 in one event loop: the mock upstream (aiohttp.web), the gateway
(uvicorn) and the clients (aiohttp). Traffic is generated from a seed, interleaved across
accounts, and sent with bounded concurrency; the result says per account whether it was
flagged, by which detectors, after how many of its queries, and how often it was throttled.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from aisec.core.digest import digest_bytes
from aisec.core.evidence import SigningKey
from aisec.inference.config import GuardConfig
from aisec.inference.mock import NEGATIVE, POSITIVE, MockUpstream
from aisec.inference.server import GatewayServer

__all__ = ["AccountResult", "SimulationResult", "run_simulation", "simulation_config"]

_TOPICS = (
    "python lists", "rust lifetimes", "sourdough bread", "tax returns", "the roman empire",
    "black holes", "marathon training", "kubernetes ingress", "watercolor painting", "jazz chords",
    "compound interest", "photosynthesis", "the french revolution", "sql joins", "sleep hygiene",
    "container gardening", "public speaking", "linear regression", "chess openings",
    "climate models",
    "git rebase", "vegan protein", "knitting patterns", "electric cars", "impressionism",
    "home insurance", "css grid", "the immune system", "birdwatching", "medieval castles",
)  # fmt: skip
_TEMPLATES = (
    "How do I get started with {t}?", "Explain {t} to a ten year old.",
    "What are common mistakes people make with {t}?", "Give me three facts about {t}.",
    "Write a haiku about {t}.", "What books would you recommend on {t}?",
    "Compare {t} and {u} in a short table.", "Why is {t} considered difficult?",
    "Summarize the key ideas of {t} in two sentences.", "What changed recently in {t}?",
)  # fmt: skip
_PREFIX = (
    "", "Please tell me: ", "Quick question, ", "I need to know ", "Can you say ", "Honestly, ",
    "For my records, ", "As precisely as you can, ", "Hey, ", "One more time: ",
)  # fmt: skip
_CORE = (
    "what is the recommended daily dose of warfarin for a 70 year old patient",
    "what daily warfarin dose is recommended for a patient aged 70",
    "the recommended warfarin dosage per day for a seventy year old patient",
    "how much warfarin per day should a 70 year old patient take",
    "what warfarin dose per day do you recommend for a 70-year-old patient",
    "for a 70 year old patient what is the daily warfarin dose",
)  # fmt: skip
_SUFFIX = ("", "?", " in mg?", " exactly?", ", thanks", " with normal kidneys?", " please?")
_CROSS_CORE = (
    "which features does the fraud model weigh most for wire transfers",
    "what features matter most to the fraud model on wire transfers",
    "for wire transfers which features does the fraud model weight highest",
    "tell me the most important fraud model features for wire transfers",
)  # fmt: skip
_NEUTRAL = [
    "the",
    "food",
    "service",
    "room",
    "staff",
    "price",
    "view",
    "music",
    "seats",
    "wait",
    "time",
    "place",
]
_NAMES = ("Anna", "Marc", "our team", "my sister", "the client", "Dr. Lee", "the board", "Omar")
_VERBS = ("studies", "presented", "will discuss", "asked about", "wrote a report on", "enjoys")
_WHEN = ("on monday", "last year", "tomorrow morning", "every week", "in june", "before lunch")


def simulation_config(
    upstream: str, accounts: list[str], *, redis: str | None, prefix: str = "aisec:sim"
) -> GuardConfig:
    return GuardConfig.model_validate(
        {
            "upstream": upstream,
            "redis": redis,
            "redis-prefix": prefix,
            "routes": [
                {"path": "/v1/chat/completions", "kind": "openai-chat",
                 "hardening": {"max-tokens": 512}},
                {"path": "/classify", "kind": "classifier", "scores": "scores", "labels": "labels",
                 "hardening": {"round-decimals": 2}},
            ],
            "accounts": [{"name": a, "api-key": f"sk-sim-{a}-{'x' * 16}"} for a in accounts],
            "limits": {"requests": "100000/minute"},
            "detectors": {"actions": {"*": ["log", "throttle"]}},
        }
    )  # fmt: skip


@dataclass
class AccountResult:
    account: str
    kind: str
    attacker: bool
    queries: int = 0
    throttled: int = 0
    detectors: list[str] = field(default_factory=list)
    queries_to_detect: int | None = None
    seconds_to_detect: float | None = None

    @property
    def flagged(self) -> bool:
        return bool(self.detectors)


@dataclass
class SimulationResult:
    seed: int
    accounts: list[AccountResult]
    requests: int
    seconds: float
    alerts: list[dict[str, Any]]

    @property
    def precision(self) -> float:
        flagged = [a for a in self.accounts if a.flagged]
        return sum(a.attacker for a in flagged) / len(flagged) if flagged else 1.0

    @property
    def recall(self) -> float:
        attackers = [a for a in self.accounts if a.attacker]
        return sum(a.flagged for a in attackers) / len(attackers) if attackers else 1.0

    @property
    def false_positive_rate(self) -> float:
        benign = [a for a in self.accounts if not a.attacker]
        return sum(a.flagged for a in benign) / len(benign) if benign else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": "aisec.guard-simulation/v1",
            "seed": self.seed,
            "requests": self.requests,
            "seconds": round(self.seconds, 3),
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "false_positive_rate": round(self.false_positive_rate, 4),
            "accounts": [
                {"account": a.account, "kind": a.kind, "attacker": a.attacker,
                 "queries": a.queries, "flagged": a.flagged, "detectors": a.detectors,
                 "queries_to_detect": a.queries_to_detect,
                 "seconds_to_detect": a.seconds_to_detect, "throttled": a.throttled}
                for a in self.accounts
            ],
        }  # fmt: skip


Request = tuple[str, str, dict[str, Any]]  # account, path, body


def _chat(text: str, **extra: Any) -> dict[str, Any]:
    return {"model": "mock", "messages": [{"role": "user", "content": text}], **extra}


def _traffic(rng: random.Random, *, normal: int, attack: int, cross: int) -> dict[str, Any]:
    """Per account: (kind, attacker?, list of (path, body))."""
    plan: dict[str, tuple[str, bool, list[tuple[str, dict[str, Any]]]]] = {}
    chat = "/v1/chat/completions"
    for i in range(normal):
        qs = []
        for _ in range(rng.randint(30, 80)):
            t, u = rng.sample(_TOPICS, 2)
            q = rng.choice(_TEMPLATES).format(t=t, u=u)
            qs.append((chat, _chat(q)))
            if rng.random() < 0.2:  # rephrases after an unhelpful answer
                qs.append((chat, _chat(rng.choice(_PREFIX) + q.lower().rstrip("?") + ", please")))
        plan[f"user-{i:02d}"] = ("benign: varied questions", False, qs)
    plan["translator"] = ("benign: same-shaped prompts", False, [
        (chat, _chat(f"Translate to French: {rng.choice(_NAMES)} {rng.choice(_VERBS)} "
                     f"{rng.choice(_TOPICS)} {rng.choice(_WHEN)}."))
        for _ in range(80)
    ])  # fmt: skip
    plan["token-banner"] = ("benign: fixed logit_bias", False, [
        (chat, _chat(rng.choice(_TEMPLATES).format(t=rng.choice(_TOPICS), u="x"),
                     logit_bias={"50256": -100}, logprobs=True))
        for _ in range(40)
    ])  # fmt: skip
    reviews = []
    for _ in range(60):
        words = rng.sample(sorted(POSITIVE if rng.random() < 0.5 else NEGATIVE), rng.randint(1, 2))
        reviews.append(("/classify", {"text": " ".join(words + rng.sample(_NEUTRAL, 4))}))
    plan["reviews-app"] = ("benign: classifier", False, reviews)
    plan["extractor"] = ("attacker: paraphrase extraction", True, [
        (chat, _chat(rng.choice(_PREFIX) + rng.choice(_CORE) + rng.choice(_SUFFIX),
                     logprobs=True, top_logprobs=5))
        for _ in range(attack)
    ])  # fmt: skip
    probe = []
    for _ in range(150):
        k = rng.randint(1, 3)
        words = rng.sample(sorted(POSITIVE), k) + rng.sample(sorted(NEGATIVE), k)
        probe.append(("/classify", {"text": " ".join(words + rng.sample(_NEUTRAL, 2))}))
    plan["boundary-prober"] = ("attacker: classifier boundary", True, probe)
    plan["logit-prober"] = ("attacker: logit_bias probing", True, [
        (chat, _chat("Say one word.", logit_bias={str(1000 + i): 100}, logprobs=True,
                     top_logprobs=5, max_tokens=1))
        for i in range(100)
    ])  # fmt: skip
    for k in range(cross):
        plan[f"cross-{k}"] = ("attacker: spread over keys", True, [
            (chat, _chat(rng.choice(_PREFIX) + rng.choice(_CROSS_CORE) + rng.choice(_SUFFIX)))
            for _ in range(20)
        ])  # fmt: skip
    return plan


async def run_simulation(
    *,
    seed: int = 7,
    normal: int = 20,
    attack: int = 300,
    cross: int = 5,
    concurrency: int = 8,
    redis: str | None = None,
    time_limit: float = 120.0,
    signing_key: SigningKey | None = None,
    store_url: str | None = None,
) -> SimulationResult:
    """Run the whole scenario once; bounded by ``time_limit`` seconds.

    With ``signing_key`` and ``store_url`` the gateway records its configuration and its
    alerts in that evidence store, as ``aisec guard serve`` does.
    """
    rng = random.Random(seed)  # noqa: S311 -- reproducible traffic, not secrets
    plan = _traffic(rng, normal=normal, attack=attack, cross=cross)
    results = {a: AccountResult(a, kind, attacker) for a, (kind, attacker, _) in plan.items()}
    queue: list[Request] = []
    cursors = {a: list(reversed(qs)) for a, (_, _, qs) in plan.items()}
    while cursors:  # interleave accounts at random, each keeping its own order
        account = rng.choice(sorted(cursors))
        path, body = cursors[account].pop()
        queue.append((account, path, body))
        if not cursors[account]:
            del cursors[account]
    sent: dict[str, tuple[str, int, float]] = {}
    times: dict[str, list[float]] = {a: [] for a in plan}
    first: dict[str, float] = {}
    start = time.monotonic()
    async with MockUpstream() as mock:
        prefix = f"aisec:sim:{os.urandom(8).hex()}"
        cfg = simulation_config(mock.url, sorted(plan), redis=redis, prefix=prefix)
        if signing_key is not None:
            cfg = cfg.model_copy(update={"evidence": True})
        keys = {a.name: a.api_key for a in cfg.accounts}
        async with GatewayServer(
            cfg, digest_bytes(b"simulation"), signing_key=signing_key, store_url=store_url
        ) as gw:
            sem = asyncio.Semaphore(concurrency)
            async with aiohttp.ClientSession() as http:

                async def one(account: str, path: str, body: dict[str, Any]) -> None:
                    async with sem:
                        if time.monotonic() - start > time_limit:
                            return
                        res = results[account]
                        res.queries += 1
                        n = res.queries
                        now = time.monotonic()
                        first.setdefault(account, now)
                        times[account].append(now)
                        async with http.post(
                            gw.url + path, json=body,
                            headers={"authorization": f"Bearer {keys[account]}"},
                        ) as resp:  # fmt: skip
                            await resp.read()
                            rid = resp.headers.get("x-aisec-request-id", "")
                            sent[rid] = (account, n, now)
                            if resp.status == 429:
                                res.throttled += 1

                await asyncio.gather(*(one(a, p, b) for a, p, b in queue))
            await asyncio.wait_for(gw.gateway.pipeline.drain(), timeout=30)
            alerts = list(gw.gateway.pipeline.alerts)
            if gw.gateway.redis is not None:  # leave nothing behind in a shared Redis
                stale = [k async for k in gw.gateway.redis.scan_iter(match=f"{prefix}:*")]
                for i in range(0, len(stale), 500):
                    await gw.gateway.redis.delete(*stale[i : i + 500])
    for alert in alerts:
        res = results[alert["account"]]
        if alert["detector"] not in res.detectors:
            res.detectors.append(alert["detector"])
        origin = sent.get(alert["request_id"])
        if origin is None:
            continue
        acct, n, t = origin
        if acct == res.account and (res.queries_to_detect is None or n < res.queries_to_detect):
            res.queries_to_detect = n
            res.seconds_to_detect = round(t - first[acct], 3)
        elif acct != res.account:  # cross-account: flagged on another key's query
            n = sum(1 for x in times[res.account] if x <= t)
            if res.queries_to_detect is None or n < res.queries_to_detect:
                res.queries_to_detect = n
                res.seconds_to_detect = round(t - first[res.account], 3)
    return SimulationResult(
        seed, list(results.values()), len(queue), time.monotonic() - start, alerts
    )
