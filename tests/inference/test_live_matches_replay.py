"""The live gateway and ``aisec guard replay`` raise the same alerts on the same traffic.

A slice of the dev day's chat traffic goes through a real gateway (uvicorn on 127.0.0.1, in
front of the in-process mock upstream) one request at a time, and is replayed offline from
the file; the accounts flagged, by which detector and at which request, must agree.
(Classifier rows are left out: live, the gateway also reads the upstream's scores, which a
recorded file without responses cannot carry.)
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import aiohttp
from tests.inference._eval import eval_dir, write_guard

from aisec.core.digest import digest_bytes
from aisec.inference import Action, GatewayServer, MockUpstream
from aisec.inference.replay import replay_traffic

SLICE = 2600  # requests: enough for the first campaign alerts of the day


def _slice(src: Path, dst: Path) -> list[dict[str, Any]]:
    rows = []
    with src.open(encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            if row["route"].endswith("/chat/completions"):
                rows.append(row)
            if len(rows) >= SLICE:
                break
    dst.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return rows


def test_live_gateway_and_replay_agree(tmp_path: Path) -> None:
    rows = _slice(eval_dir() / "extraction-dev" / "traffic.jsonl", tmp_path / "slice.jsonl")
    routes = [{"path": "/v1/chat/completions", "kind": "openai-chat"}]
    cfg = write_guard(tmp_path, tmp_path / "slice.jsonl", routes)
    # log only: a throttled request would not reach the detectors live
    detectors = cfg.detectors.model_copy(update={"actions": {"*": (Action.LOG,)}})
    cfg = cfg.model_copy(update={"detectors": detectors})
    offline = asyncio.run(replay_traffic(tmp_path / "slice.jsonl", cfg))

    async def live() -> list[dict[str, Any]]:
        async with MockUpstream() as mock:
            live_cfg = cfg.model_copy(update={"upstream": mock.url})
            index: dict[str, int] = {}
            async with GatewayServer(live_cfg, digest_bytes(b"t")) as gw:
                async with aiohttp.ClientSession() as http:
                    for i, row in enumerate(rows):
                        async with http.post(
                            gw.url + row["route"], json=row["body"],
                            headers={"authorization": f"Bearer {row['api_key']}"},
                        ) as resp:  # fmt: skip
                            assert resp.status == 200
                            index[resp.headers["x-aisec-request-id"]] = i
                        if i % 64 == 63:  # examined in the order sent, as the replay does
                            await gw.gateway.pipeline.drain()
                await gw.gateway.pipeline.drain()
                return [a | {"i": index[a["request_id"]]} for a in gw.gateway.pipeline.alerts]

    online = asyncio.run(live())

    def first(alerts: list[dict[str, Any]]) -> dict[tuple[str, str], int]:
        out: dict[tuple[str, str], int] = {}
        for a in alerts:
            key = (a["account"], a["detector"])
            out[key] = min(out.get(key, a["i"]), a["i"])
        return out

    assert offline, "the slice raised no alert: the comparison would prove nothing"
    assert first(online) == first(offline)
