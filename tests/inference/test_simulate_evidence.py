"""The simulator's measured precision/recall (fixed seed) and the signed evidence."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from tests.inference.conftest import auth, chat, config_dict, write_config

from aisec.cli import main
from aisec.core.evidence import EvidenceStore
from aisec.core.evidence.keys import SigningKey
from aisec.core.predicates.inference import AlertPredicate, GatewayConfigPredicate
from aisec.inference import GatewayServer, MockUpstream, load_config


def test_simulate_cli_scores_a_generated_day(
    capsys: pytest.CaptureFixture[str], guard_cli: None, tmp_path: Path
) -> None:
    code = main(
        ["guard", "simulate", "--offline", "--individuals", "15", "--write", str(tmp_path),
         "-f", "json"]
    )  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 0, err
    result = json.loads(out)
    assert result["schema"] == "aisec.guard-simulation/v2" and result["mode"] == "offline"
    assert set(result["classes"]) == {"H", "K", "L", "M", "P", "S", "T"}
    for c in ("P", "M", "L"):  # the fast classes: caught within 100 of their own queries
        assert result["classes"][c]["detected"], c
        assert result["classes"][c]["first_alert_query"] <= 100, c
    truth = json.loads((tmp_path / "TRUTH.json").read_text())
    lines = (tmp_path / "traffic.jsonl").read_text().splitlines()
    assert len(lines) == result["requests"] == truth["n_requests"]


def test_gateway_config_and_alert_attestations(tmp_path: Path, signing_key: SigningKey) -> None:
    store_url = f"sqlite:///{tmp_path / 'evidence.db'}"

    async def go() -> str:
        async with MockUpstream() as mock:
            data = config_dict(mock.url, evidence=True, detectors={"min-queries": 20})
            cfg, digest = load_config(write_config(tmp_path / "guard.yaml", data))
            async with GatewayServer(
                cfg, digest, signing_key=signing_key, store_url=store_url
            ) as gw:
                import aiohttp

                async with aiohttp.ClientSession() as http:
                    for i in range(25):
                        async with http.post(
                            gw.url + "/v1/chat/completions",
                            json=chat("x", logit_bias={str(i): 100}, logprobs=True),
                            headers=auth("mallory"),
                        ):
                            pass
                await gw.gateway.pipeline.drain()
            return digest

    digest = asyncio.run(go())
    with EvidenceStore.open(store_url) as store:
        configs = store.entries(predicate_type=GatewayConfigPredicate.predicate_type())
        alerts = store.entries(predicate_type=AlertPredicate.predicate_type())
        assert len(configs) == 1
        assert configs[0].statement.predicate["config_digest"] == digest
        assert alerts, "no alert attestation"
        preds = [e.statement.predicate for e in alerts]
        detectors = {a["detector"] for p in preds for a in p["alerts"]}
        finding_ids = {f["id"] for p in preds for f in p["findings"]}
        assert "logit-probing" in detectors and "AISEC-INF-006" in finding_ids
        assert store.findings()
