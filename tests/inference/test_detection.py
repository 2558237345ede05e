"""Extraction detection: end to end through the real server, offline, and each detector."""

from __future__ import annotations

import asyncio
import json
import random
from pathlib import Path
from typing import Any

from aiohttp import web
from tests.inference.conftest import KEYS, auth, chat, config_dict, running

from aisec.inference import DetectorsConfig, GuardConfig, QueryEvent
from aisec.inference.campaign import Shape, request_shape
from aisec.inference.detect import Detection
from aisec.inference.replay import replay_traffic
from aisec.inference.state import MemoryState

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

FAST = {
    "min-queries": 20,
    "logit-probes": 8,
    "actions": {"*": ["log", "alert", "throttle"]},
}


def _shape(text: str) -> Shape:
    return Shape(kind="openai-chat", content=text)


def _paraphrases(n: int, seed: int = 1) -> list[str]:
    rng = random.Random(seed)  # noqa: S311 -- reproducible test data, not secrets
    return [rng.choice(_PREFIX) + rng.choice(_CORE) + rng.choice(_SUFFIX) for _ in range(n)]


class Receiver:
    """A local webhook receiver on 127.0.0.1."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def __aenter__(self) -> Receiver:
        async def hook(request: web.Request) -> web.Response:
            self.received.append(await request.json())
            return web.Response(status=204)

        app = web.Application()
        app.router.add_post("/hook", hook)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/hook"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()


def test_paraphrase_attacker_flagged_throttled_and_webhooked(tmp_path: Path) -> None:
    """The 847-call scenario, shortened: paraphrases of one question with logprobs, through the
    real HTTP server; a benign user beside it is not flagged."""

    async def go() -> tuple[list[dict[str, Any]], list[int], list[str]]:
        async with Receiver() as receiver:
            async with running(tmp_path, detectors=FAST, webhook=receiver.url) as (_, gw, http):
                statuses: list[int] = []
                actions: list[str] = []
                benign = [
                    f"Explain topic number {i} about {w}"
                    for i, w in enumerate(
                        [
                            "rust",
                            "jazz",
                            "tax",
                            "bread",
                            "chess",
                            "sql",
                            "css",
                            "git",
                            "sleep",
                            "art",
                        ]
                        * 3
                    )
                ]
                for i, text in enumerate(_paraphrases(60)):
                    async with http.post(
                        gw.url + "/v1/chat/completions",
                        json=chat(text, logprobs=True),
                        headers=auth("mallory"),
                    ) as r:
                        statuses.append(r.status)
                        actions.append(r.headers.get("x-aisec-action", ""))
                    if i < len(benign):
                        async with http.post(
                            gw.url + "/v1/chat/completions",
                            json=chat(benign[i]),
                            headers=auth("alice"),
                        ):
                            pass
                    if i == 30:
                        await gw.gateway.pipeline.drain()  # let the detector catch up
                await gw.gateway.pipeline.drain()
                await gw.gateway.pipeline.stop()  # flush the webhook posts
            return receiver.received, statuses, actions

    received, statuses, actions = asyncio.run(go())
    assert received, "no webhook alert"
    assert {a["account"] for a in received} == {"mallory"}
    assert received[0]["detector"] == "paraphrase-concentration"
    assert "AML.T0024.002" in received[0]["atlas"]
    assert received[0]["evidence"]["paraphrases"] >= 20
    assert "AML.T0024" in received[0]["atlas"]
    assert statuses[:20] == [200] * 20
    assert 429 in statuses[31:] and "throttle" in actions[31:]
    audit = [json.loads(x) for x in (tmp_path / "audit.jsonl").read_text().splitlines()]
    alerts = [a for a in audit if a["event"] == "alert"]
    assert alerts and all(
        {"account", "detector", "score", "time", "request_id"} <= a.keys() for a in alerts
    )
    for key in KEYS.values():
        assert key not in json.dumps(received)


def test_logit_bias_probe_detected_and_blocked(tmp_path: Path) -> None:
    det = FAST | {"actions": {"logit-probing": ["log", "block"], "*": ["log"]}}

    async def go() -> list[int]:
        async with running(tmp_path, detectors=det) as (_, gw, http):
            out = []
            for i in range(14):
                async with http.post(
                    gw.url + "/v1/chat/completions",
                    json=chat("Say one word.", logit_bias={str(100 + i): 100}, logprobs=True),
                    headers=auth("mallory"),
                ) as r:
                    out.append(r.status)
                if i == 9:
                    await gw.gateway.pipeline.drain()
            return out

    statuses = asyncio.run(go())
    assert statuses[:8] == [200] * 8
    assert statuses[-1] == 403


def _detection(**cfg: Any) -> Detection:
    return Detection(DetectorsConfig.model_validate(cfg), MemoryState(), hash_prompts=True)


async def _feed(det: Detection, events: list[QueryEvent]) -> list[str]:
    names = []
    for ev in events:
        names += [f"{a.account}:{a.detector}" for a in await det.observe(ev)]
    return names


def test_volume_anomaly_against_own_baseline() -> None:
    det = _detection(**{"volume-bucket-seconds": 60, "min-queries": 20})
    events = [
        QueryEvent("a", 60.0 * m + s, f"question {m} {s} about topic{m * 7 + s}", f"{m}-{s}")
        for m in range(10)
        for s in range(3)
    ]
    events += [QueryEvent("a", 600.0 + i, f"burst {i} item{i} zone{i}", f"b{i}") for i in range(40)]
    names = asyncio.run(_feed(det, events))
    assert "a:volume-anomaly" in names
    steady = [
        QueryEvent("b", 60.0 * m + s, f"q {m} {s} t{m}{s}", f"{m}{s}")
        for m in range(20)
        for s in range(3)
    ]
    assert "b:volume-anomaly" not in asyncio.run(_feed(_detection(), steady))


def test_boundary_probing_on_classifier_margins() -> None:
    det = _detection(**{"min-queries": 20})
    rng = random.Random(3)  # noqa: S311 -- reproducible test data, not secrets
    probes = [
        QueryEvent("p", float(i), f"mix {i} w{rng.random()}", str(i), margin=rng.random() * 0.1)
        for i in range(25)
    ]
    normal = [
        QueryEvent(
            "n", float(i), f"review {i} v{rng.random()}", str(i), margin=0.8 + rng.random() / 10
        )
        for i in range(25)
    ]
    names = asyncio.run(_feed(det, probes + normal))
    assert "p:boundary-probing" in names
    assert not [n for n in names if n.startswith("n:")]


def test_cross_account_paraphrases_from_several_keys() -> None:
    det = _detection(**{"min-queries": 20})
    texts = _paraphrases(40, seed=5)
    events = [
        QueryEvent(f"k{i % 5}", float(i), t, str(i), shape=_shape(t)) for i, t in enumerate(texts)
    ]
    # the same question now and then from many other keys is not a campaign
    events += [
        QueryEvent(f"user{i}", 50.0 + i, t, f"u{i}", shape=_shape(t))
        for i, t in enumerate(_paraphrases(10, seed=8))
    ]
    names = asyncio.run(_feed(det, events))
    flagged = {n.split(":")[0] for n in names if n.endswith("cross-account")}
    assert len(flagged) >= 3 and flagged <= {f"k{i}" for i in range(5)}


def test_replay_agrees_with_live_detection(tmp_path: Path) -> None:
    """The same traffic, replayed from a file with its own timestamps, raises the same alerts
    as feeding the events live."""
    cfg = GuardConfig.model_validate(config_dict("http://127.0.0.1:9", detectors=FAST))
    texts = _paraphrases(40) + [f"unrelated question {i} on subject{i}" for i in range(30)]
    rng = random.Random(2)  # noqa: S311 -- reproducible test data, not secrets
    rng.shuffle(texts)
    lines = []
    events = []
    for i, text in enumerate(texts):
        name = "mallory" if text.startswith(tuple(_PREFIX[1:])) or "warfarin" in text else "bob"
        lines.append(
            json.dumps(
                {
                    "t": 1000.0 + i,
                    "api_key": KEYS[name],
                    "route": "/v1/chat/completions",
                    "body": chat(text),
                }
            )
        )
        route = cfg.routes[0]
        events.append(
            QueryEvent(name, 1000.0 + i, text, str(i), shape=request_shape(chat(text), route))
        )
    path = tmp_path / "traffic.jsonl"
    path.write_text("\n".join(lines) + "\n")
    replayed = asyncio.run(replay_traffic(path, cfg))
    live = Detection(cfg.detectors, MemoryState(), hash_prompts=True)

    async def feed() -> list[tuple[str, str, str]]:
        return [
            (a.account, a.detector, a.request_id) for ev in events for a in await live.observe(ev)
        ]

    assert [(a["account"], a["detector"], str(a["i"])) for a in replayed] == asyncio.run(feed())
    assert {a["account"] for a in replayed} == {"mallory"}


def test_diverse_traffic_raises_nothing() -> None:
    """Unrelated queries (a batch job over distinct documents) are not extraction: PRADA's
    normality test must not judge the degenerate all-far distance distribution."""
    rng = random.Random(9)  # noqa: S311 -- reproducible test data, not secrets
    vocab = [f"term{i}" for i in range(3000)]
    events = [
        QueryEvent("batch", float(i), " ".join(rng.sample(vocab, 8)), str(i)) for i in range(300)
    ]
    assert asyncio.run(_feed(_detection(), events)) == []


def test_prada_flags_tight_synthetic_probes() -> None:
    det = _detection(**{"min-queries": 20, "prada": True})
    texts = _paraphrases(60, seed=4)
    events = [QueryEvent("m", float(i), t, str(i)) for i, t in enumerate(texts)]
    assert "m:prada" in asyncio.run(_feed(det, events))
