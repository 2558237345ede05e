"""The chain of evidence: walked by digest both ways, bundles and files, and its gaps."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from aisec.core.controls import ControlResult
from aisec.core.evidence import EvidenceStore, SigningKey
from aisec.core.evidence.chain import GapKind, Relation, walk_chain
from aisec.core.predicates import InputRef, Predicate, SubjectRef
from aisec.core.predicates.core import ArtifactInfo, ArtifactPredicate
from aisec.core.predicates.data import AuditPredicate, AuditRisk
from aisec.core.predicates.deployment import (
    GatePredicate,
    GateReasonInfo,
    ModelFileInfo,
    ScannedFile,
    ScanPredicate,
)
from aisec.core.predicates.enums import GateDecisionKind, ScanVerdict
from aisec.core.predicates.evaluation import CategoryResult, RedteamPredicate
from aisec.core.predicates.inference import AlertPredicate, GatewayConfigPredicate, RouteInfo
from aisec.core.predicates.monitoring import InventoryPredicate, InventorySystem


def d(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


DATA, WEIGHTS, MODEL_FILE, CONFIG, BUNDLE = (
    d("train.csv"),
    d("weights"),
    d("model.safetensors"),
    d("config.json"),
    d("release-bundle"),
)
OTHER_BUNDLE, PICKLE, GATEWAY = d("candidate-bundle"), d("pytorch_model.bin"), d("guard.yaml")


def _art(name: str, digest: str, stage: str, source: str | None) -> ArtifactPredicate:
    return ArtifactPredicate(
        result=ControlResult.RECORDED,
        subjects=(SubjectRef(name=name, digest=digest),),
        inputs=(InputRef(name="src", digest=source, role="source"),) if source else (),
        artifacts=(ArtifactInfo(name=name, kind="file", digest=digest, files=1, bytes=1),),
        stage=stage,
    )


def _scan(files: dict[str, str], verdict: ScanVerdict) -> ScanPredicate:
    return ScanPredicate(
        result=verdict.result,
        subjects=tuple(SubjectRef(name=n, digest=x) for n, x in files.items()),
        verdict=verdict,
        files=tuple(ScannedFile(path=n, digest=x, verdict=verdict) for n, x in files.items()),
    )


def _gate(bundle: str, files: dict[str, str], allow: bool) -> GatePredicate:
    return GatePredicate(
        result=ControlResult.PASS if allow else ControlResult.FAIL,
        subjects=(SubjectRef(name="model", digest=bundle),),
        inputs=(
            *(InputRef(name=n, digest=x, role="model-file") for n, x in files.items()),
            InputRef(name="training data", digest=DATA, role="requires:dataset"),
        ),
        decision=GateDecisionKind.ALLOW if allow else GateDecisionKind.DENY,
        reasons=(GateReasonInfo(check="scan", ok=allow, message="-"),),
        files=tuple(ModelFileInfo(path=n, digest=x, format="x") for n, x in files.items()),
    )


def _world(store: EvidenceStore, key: SigningKey, *, dangling: bool = False) -> None:
    def rec(p: Predicate, k: SigningKey = key) -> None:
        store.record(p.statement(), k)

    rec(
        AuditPredicate(
            result=ControlResult.PASS,
            subjects=(SubjectRef(name="train.csv", digest=DATA),),
            risk=AuditRisk(overall=0.1),
        )
    )
    rec(_art("weights.npz", WEIGHTS, "training", d("never-audited") if dangling else DATA))
    rec(_art("model.safetensors", MODEL_FILE, "deployment", WEIGHTS))
    release = {"model.safetensors": MODEL_FILE, "config.json": CONFIG}
    rec(_scan(release, ScanVerdict.CLEAN))
    rec(
        RedteamPredicate(
            result=ControlResult.PASS,
            subjects=(SubjectRef(name="model", digest=BUNDLE),),
            model_digest=BUNDLE,
            suite_digest=d("suite"),
            transcripts_digest=d("t"),
            confidence=0.95,
            categories={"x": CategoryResult(attempts=60, successes=0, rate=0, ci=(0, 0.05))},
        )
    )
    rec(_gate(BUNDLE, release, allow=True))
    # a refused candidate that shares the config file must stay out of the release's chain
    candidate = {"pytorch_model.bin": PICKLE, "config.json": CONFIG}
    rec(_scan(candidate, ScanVerdict.UNSAFE))
    rec(_gate(OTHER_BUNDLE, candidate, allow=False))
    rec(
        GatewayConfigPredicate(
            result=ControlResult.RECORDED,
            subjects=(SubjectRef(name="gateway-config", digest=GATEWAY),),
            inputs=(InputRef(name="model", digest=BUNDLE, role="model"),),
            config_digest=GATEWAY,
            routes=(RouteInfo(path="/v1/chat/completions", kind="chat"),),
            accounts=1,
            shared_state="memory",
            fail_open=False,
            detectors={},
            model_digest=BUNDLE,
        )
    )
    rec(
        AlertPredicate(
            result=ControlResult.FAIL,
            subjects=(SubjectRef(name="gateway-config", digest=GATEWAY),),
            config_digest=GATEWAY,
            recorded_at=0.0,
            alerts=({"account": "a"},),
        )
    )
    rec(
        InventoryPredicate(
            result=ControlResult.PASS,
            subjects=(SubjectRef(name="inventory.json", digest=d("inventory")),),
            inputs=(InputRef(name="model", digest=BUNDLE, role="model"),),
            summary={"systems": 1},
            catalog_version="1",
            systems=(InventorySystem(id="s", name="m", kind="self-hosted-model", registered=True),),
        )
    )


@pytest.fixture
def store(tmp_path: Path, signing_key: SigningKey) -> EvidenceStore:
    s = EvidenceStore.open(f"sqlite:///{tmp_path / 'e.db'}", witness_dir=tmp_path / "w")
    _world(s, signing_key)
    return s


def test_a_file_resolves_to_its_bundle_and_every_stage(store: EvidenceStore) -> None:
    chain = walk_chain(store, [MODEL_FILE])
    assert chain.complete, chain.gaps
    assert set(chain.identity) == {MODEL_FILE, BUNDLE, CONFIG}
    by_stage = {s: [x.control for x in chain.stage_links(s)] for s in chain.stages}
    assert by_stage["data"] == ["data/audit"]
    assert by_stage["training"] == ["core/artifact"]
    assert "evaluation/redteam" in by_stage["evaluation"]
    assert by_stage["inference"] == ["inference/gateway-config", "inference/alert"]
    assert by_stage["monitoring"] == ["monitoring/inventory"]
    # the candidate, which only shares config.json, is not part of this chain
    gates = [x for x in chain.links if x.control == "deployment/gate"]
    assert [x.result for x in gates] == [ControlResult.PASS]
    assert all(x.result is not ControlResult.FAIL for x in chain.stage_links("deployment"))
    relations = {x.control: x.relation for x in chain.links}
    assert relations["data/audit"] is Relation.UPSTREAM
    assert relations["inference/alert"] is Relation.DOWNSTREAM
    assert "n" in chain.to_dot() and chain.to_mermaid().startswith("flowchart LR")


def test_the_bundle_reaches_its_files_and_the_candidate_has_gaps(store: EvidenceStore) -> None:
    assert walk_chain(store, [BUNDLE], files=[MODEL_FILE, CONFIG]).complete
    candidate = walk_chain(store, [OTHER_BUNDLE], files=[PICKLE, CONFIG])
    assert {g.stage for g in candidate.gaps} == {
        "data",
        "training",
        "evaluation",
        "inference",
        "monitoring",
    }
    assert all(g.kind is GapKind.MISSING for g in candidate.gaps)
    doc = candidate.to_json()
    assert doc["complete"] is False and doc["stages"][3]["state"] == "ok"


def test_untrusted_and_expired_evidence_are_gaps(
    store: EvidenceStore, signing_key: SigningKey
) -> None:
    other = SigningKey.generate()
    chain = walk_chain(store, [MODEL_FILE], keys=[other.public])
    assert {g.kind for g in chain.gaps} == {GapKind.UNTRUSTED}
    later = datetime.now(UTC) + timedelta(days=40)
    chain = walk_chain(store, [MODEL_FILE], max_age=timedelta(days=30), now=later)
    assert chain.gaps and {g.kind for g in chain.gaps} == {GapKind.EXPIRED}
    assert walk_chain(store, [MODEL_FILE], keys=[signing_key.public], until="deployment").complete


def test_a_link_to_a_digest_without_evidence_is_a_gap(
    tmp_path: Path, signing_key: SigningKey
) -> None:
    with EvidenceStore.open(f"sqlite:///{tmp_path / 'x.db'}") as s:
        _world(s, signing_key, dangling=True)
        chain = walk_chain(s, [MODEL_FILE])
    kinds = {(g.stage, g.kind) for g in chain.gaps}
    assert ("training", GapKind.DANGLING) in kinds and ("data", GapKind.MISSING) in kinds


def test_cli_chain_exit_codes_and_formats(
    store: EvidenceStore, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    import json

    from aisec.cli import main

    db = store.url
    assert main(["evidence", "chain", MODEL_FILE, "--db", db]) == 0
    out = capsys.readouterr().out
    assert "monitoring/inventory" in out and "gaps" not in out
    assert main(["evidence", "chain", OTHER_BUNDLE, "--db", db, "-f", "json"]) == 1
    assert json.loads(capsys.readouterr().out)["complete"] is False
    assert main(["evidence", "chain", MODEL_FILE, "--db", db, "-f", "dot"]) == 0
    assert capsys.readouterr().out.startswith("digraph chain")
    assert main(["evidence", "chain", "nonsense", "--db", db]) == 2
    assert capsys.readouterr().err.count("\n") == 1
