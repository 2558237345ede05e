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


def test_simulation_flags_every_attacker_and_no_benign_account(
    capsys: pytest.CaptureFixture[str], guard_cli: None
) -> None:
    code = main(
        ["guard", "simulate", "--seed", "7", "--normal", "10", "--attack", "120", "-f", "json"]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    result = json.loads(out)
    assert result["schema"] == "aisec.guard-simulation/v1"
    accounts = {a["account"]: a for a in result["accounts"]}
    attackers = [a for a in accounts.values() if a["attacker"]]
    assert len(attackers) == 8  # extractor, boundary, logit, 5 cross-account keys
    assert result["recall"] == 1.0
    assert result["false_positive_rate"] == 0.0 and result["precision"] == 1.0
    assert all(a["queries_to_detect"] <= 100 for a in attackers)
    assert accounts["extractor"]["throttled"] > 50  # throttled after detection
    assert "paraphrase-density" in accounts["extractor"]["detectors"]


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
