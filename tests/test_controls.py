"""The contract every registered control keeps (one shape for all; see docs/design.md).

For each control of :data:`aisec.registry.CONTROLS`: its rules are core rules with unique ids,
complete mappings and a rationale; an example of its predicate round-trips through the
evidence store; the dashboard shows the control with the result it recorded; and the gate's
reader sees the same result. A control added without an example below fails here first.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from aisec.core.controls import Control, ControlResult, Rule
from aisec.core.evidence import EvidenceStore, SigningKey
from aisec.core.findings import Severity
from aisec.core.frameworks import load_catalog
from aisec.core.predicates import InputRef, Predicate, RunInfo, SubjectRef, result_of
from aisec.core.predicates.core import ArtifactInfo, ArtifactPredicate, TriagePredicate
from aisec.core.predicates.data import AuditPredicate, AuditRisk, AuditSource, ProvenancePredicate
from aisec.core.predicates.deployment import (
    ConvertedFile,
    ConvertPredicate,
    GatePredicate,
    GateReasonInfo,
    ScannedFile,
    ScanPredicate,
    SignaturePredicate,
)
from aisec.core.predicates.enums import GateDecisionKind, ScanVerdict, TriageState
from aisec.core.predicates.evaluation import (
    CategoryResult,
    RedteamPredicate,
    ValidationMetric,
    ValidationPredicate,
)
from aisec.core.predicates.inference import AlertPredicate, GatewayConfigPredicate, RouteInfo
from aisec.core.predicates.monitoring import (
    BomPredicate,
    GovernancePredicate,
    InventoryPredicate,
    InventorySystem,
    InventoryUpdatePredicate,
)
from aisec.core.predicates.training import (
    CheckpointPredicate,
    CheckpointVerifyPredicate,
    InfraCheckPredicate,
)
from aisec.registry import CONTROLS, RULES, control_for_predicate


def d(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def _subjects(*names: str) -> tuple[SubjectRef, ...]:
    return tuple(SubjectRef(name=n, digest=d(n)) for n in names)


def _finding(control: Control) -> tuple[object, ...]:
    """One finding of the control's first rule, if it has rules."""
    if not control.rules:
        return ()
    return (control.rules[0].finding("x", "example", digest=d("x")),)


EXAMPLES: dict[str, Callable[[Control], Predicate]] = {
    "core/artifact": lambda c: ArtifactPredicate(
        result=ControlResult.RECORDED,
        subjects=_subjects("model"),
        inputs=(InputRef(name="data.csv", digest=d("data.csv"), role="source"),),
        artifacts=(ArtifactInfo(name="model", kind="file", digest=d("model"), files=1, bytes=3),),
    ),
    "core/triage": lambda c: TriagePredicate(
        result=ControlResult.RECORDED,
        subjects=_subjects("model"),
        fingerprint="fp:" + "0" * 24,
        rule_id="AISEC-EVA-004",
        finding_stage="evaluation",
        state=TriageState.ACCEPTED_RISK,
        reason="the prompt holds no secret in production",
        by="risk-owner@example.com",
        until=date(2030, 1, 1),
    ),
    "data/provenance": lambda c: ProvenancePredicate(
        result=ControlResult.RECORDED,
        subjects=_subjects("forum"),
        record={"name": "forum", "origin": "https://forum.example"},
        version=1,
        manifest={"kind": "file"},
    ),
    "data/audit": lambda c: AuditPredicate(
        result=ControlResult.FAIL,
        findings=_finding(c),  # type: ignore[arg-type]
        subjects=_subjects("patients.csv"),
        inputs=(InputRef(name="forum", digest=d("forum"), role="provenance"),),
        risk=AuditRisk(overall=0.4),
        sources=(AuditSource(name="forum", risk=0.4, ci=(0.3, 0.5), rank=1, rows=10),),
    ),
    "training/checkpoint": lambda c: CheckpointPredicate(
        result=ControlResult.RECORDED,
        subjects=_subjects("step-1.pt"),
        run=RunInfo(id="run-1", status="running"),
        step=1,
        sequence=0,
        time="2026-12-03T00:00:00Z",
        path="step-1.pt",
        kind="file",
    ),
    "training/checkpoint-verify": lambda c: CheckpointVerifyPredicate(
        result=ControlResult.FAIL,
        findings=_finding(c),  # type: ignore[arg-type]
        subjects=_subjects("ckpt"),
        run_id="run-1",
        records=2,
    ),
    "training/infra-check": lambda c: InfraCheckPredicate(
        result=ControlResult.FAIL,
        findings=_finding(c),  # type: ignore[arg-type]
        subjects=_subjects("plan.json"),
        resources=3,
        rules=len(c.rules),
    ),
    "evaluation/redteam": lambda c: RedteamPredicate(
        result=ControlResult.INCONCLUSIVE,
        subjects=_subjects("model"),
        model_digest=d("model"),
        suite_digest=d("suite"),
        transcripts_digest=d("transcripts"),
        confidence=0.95,
        categories={"jailbreak": CategoryResult(attempts=10, successes=0, rate=0.0, ci=(0, 0.3))},
    ),
    "evaluation/model-validation": lambda c: ValidationPredicate(
        result=ControlResult.FAIL,
        findings=_finding(c),
        subjects=_subjects("model.onnx"),
        model_digest=d("model.onnx"),
        target_kind="onnx",
        checks=("membership",),
        metrics={"membership.auc": ValidationMetric(value=0.8, ci=(0.75, 0.85), limit=0.6)},
    ),
    "deployment/model-scan": lambda c: ScanPredicate(
        result=ControlResult.PASS,
        subjects=_subjects("model.safetensors"),
        verdict=ScanVerdict.CLEAN,
        files=(
            ScannedFile(
                path="model.safetensors",
                digest=d("model.safetensors"),
                format="safetensors",
                verdict=ScanVerdict.CLEAN,
            ),
        ),
    ),
    "deployment/convert": lambda c: ConvertPredicate(
        result=ControlResult.PASS,
        subjects=_subjects("out.safetensors"),
        inputs=(InputRef(name="in.pt", digest=d("in.pt"), role="source"),),
        source=ConvertedFile(path="in.pt", digest=d("in.pt"), format="pytorch-zip"),
        output=ConvertedFile(
            path="out.safetensors", digest=d("out.safetensors"), format="safetensors"
        ),
        tensors=2,
    ),
    "deployment/model-signature": lambda c: SignaturePredicate(
        result=ControlResult.PASS,
        subjects=_subjects("model"),
        action="sign",
        valid=True,
        serialization="files",
        format="openssf-model-signing/v1.0",
    ),
    "deployment/gate": lambda c: GatePredicate(
        result=ControlResult.FAIL,
        findings=_finding(c),  # type: ignore[arg-type]
        subjects=_subjects("model"),
        decision=GateDecisionKind.DENY,
        reasons=(GateReasonInfo(check="input", ok=False, message="no files"),),
    ),
    "inference/gateway-config": lambda c: GatewayConfigPredicate(
        result=ControlResult.RECORDED,
        subjects=_subjects("gateway-config"),
        config_digest=d("gateway-config"),
        routes=(RouteInfo(path="/v1/chat/completions", kind="chat"),),
        accounts=1,
        shared_state="memory",
        fail_open=False,
        detectors={},
    ),
    "inference/alert": lambda c: AlertPredicate(
        result=ControlResult.FAIL,
        findings=_finding(c),  # type: ignore[arg-type]
        subjects=_subjects("gateway-config"),
        config_digest=d("gateway-config"),
        recorded_at=0.0,
        alerts=({"account": "a"},),
    ),
    "monitoring/inventory": lambda c: InventoryPredicate(
        result=ControlResult.FAIL,
        findings=_finding(c),  # type: ignore[arg-type]
        subjects=_subjects("inventory.json"),
        summary={"systems": 1, "registered": 0, "shadow": 1},
        catalog_version="1",
        systems=(InventorySystem(id="s1", name="x", kind="hosted-api-use", registered=False),),
    ),
    "monitoring/inventory-update": lambda c: InventoryUpdatePredicate(
        result=ControlResult.RECORDED,
        subjects=_subjects("inventory-system:s1"),
        update={"system": "s1", "owner": "a@example.com"},
    ),
    "monitoring/ai-bom": lambda c: BomPredicate(
        result=ControlResult.RECORDED,
        subjects=_subjects("bom.json"),
        components=1,
        services=0,
        validated=True,
    ),
    "monitoring/governance": lambda c: GovernancePredicate(
        result=ControlResult.RECORDED,
        subjects=_subjects("governance-report"),
        coverage={"saif": 0.5},
        stages_covered=("monitoring",),
        store_entries=3,
        shadow=1,
    ),
}


def test_every_control_has_an_example() -> None:
    assert sorted(EXAMPLES) == sorted(c.id for c in CONTROLS)


@pytest.mark.parametrize("control", CONTROLS, ids=lambda c: c.id)
def test_rules_are_core_rules_with_complete_mappings(control: Control) -> None:
    catalog = load_catalog()
    assert control.question.endswith("?") and control.description and control.commands
    for rule in control.rules:
        assert isinstance(rule, Rule)
        assert rule.stage == control.stage
        assert rule.title and rule.remediation and rule.rationale, rule.id
        m = rule.mappings
        assert m.saif and m.nist_ai_rmf, f"{rule.id}: SAIF and NIST AI RMF mappings are required"
        catalog.check_refs(
            atlas=m.atlas, owasp=m.owasp_llm, saif=m.saif, nist=m.nist_ai_rmf, iso=m.iso_42001
        )
    m = control.mappings
    catalog.check_refs(
        atlas=m.atlas, owasp=m.owasp_llm, saif=m.saif, nist=m.nist_ai_rmf, iso=m.iso_42001
    )
    assert m.saif and m.nist_ai_rmf, f"{control.id}: the control maps to SAIF and NIST"


def test_finding_ids_are_unique_across_the_tool() -> None:
    seen: dict[str, str] = {}
    for control in CONTROLS:
        for rule in control.rules:
            assert rule.id not in seen or seen[rule.id] == control.id, rule.id
            seen[rule.id] = control.id
    assert set(seen) == set(RULES)
    assert all(r.severity in Severity for r in RULES.values())


@pytest.mark.parametrize("control", CONTROLS, ids=lambda c: c.id)
def test_predicate_round_trips_and_every_reader_sees_its_result(
    control: Control, tmp_path: Path, signing_key: SigningKey
) -> None:
    from aisec.dashboard.views import lifecycle

    example = EXAMPLES[control.id](control)
    assert type(example) is control.predicate
    statement = example.statement()
    assert statement.predicate_type == control.predicate_type
    assert control_for_predicate(statement.predicate_type) is control
    with EvidenceStore.open(f"sqlite:///{tmp_path / 'e.db'}") as store:
        entry = store.record(statement, signing_key)
        back = control.predicate.from_statement(store.get(entry.index).statement)
        assert back == example
        # the gate and the chain read results through result_of; the dashboard shows them
        assert result_of(entry) is example.result
        views = lifecycle(store, load_catalog())
        shown = {c.control.id: c for v in views for c in v.controls}
        if control.stage != "core":
            assert shown[control.id].runs == 1
            assert shown[control.id].result == example.result.value
        assert len(store.findings()) == len(example.findings)


def test_the_store_refuses_a_predicate_that_does_not_fit(
    tmp_path: Path, signing_key: SigningKey
) -> None:
    from aisec.core.errors import FormatError
    from aisec.core.evidence import ArtifactRef, Statement

    with EvidenceStore.open(f"sqlite:///{tmp_path / 'e.db'}") as store:
        bad = Statement(
            (ArtifactRef("m", d("m")),), ScanPredicate.predicate_type(), {"verdict": "maybe"}
        )
        with pytest.raises(FormatError, match="model-scan"):
            store.record(bad, signing_key)
        unknown = Statement((ArtifactRef("m", d("m")),), "urn:aisec:predicate:data/nope:v1", {})
        with pytest.raises(FormatError, match="unknown aisec predicate type"):
            store.record(unknown, signing_key)
        assert store.size() == 0  # nothing was appended


def test_controls_cli_lists_every_control(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from aisec.cli import main

    assert main(["controls", "list", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [c["id"] for c in doc["controls"]] == [c.id for c in CONTROLS]
    scan = next(c for c in doc["controls"] if c["id"] == "deployment/model-scan")
    assert scan["rules"][0]["mappings"]["atlas"] and scan["predicate_type"].endswith(":v2")
    assert main(["controls", "list", "--stage", "4"]) == 0
    out = capsys.readouterr().out
    assert "deployment/gate" in out and "data/audit" not in out
    assert main(["controls", "show", "deployment/gate"]) == 0
    assert "AISEC-DEP-051" in capsys.readouterr().out
    assert main(["controls", "show", "nope/x"]) == 2
    assert capsys.readouterr().err.count("\n") == 1
