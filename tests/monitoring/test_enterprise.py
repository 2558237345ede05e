"""The synthetic enterprise reconciled end to end: 31 systems, 19 shadow, no false systems."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest

from aisec.cli import main
from aisec.core.errors import FormatError
from aisec.core.evidence import EvidenceStore, generate_keypair
from aisec.core.predicates.monitoring import InventoryPredicate
from aisec.monitoring import EnterpriseTruth, discover
from aisec.monitoring._bom import build_bom, validate_bom

SARIF_SCHEMA = Path(__file__).parents[1] / "assets" / "sarif-schema-2.1.0.json"


def _args(t: EnterpriseTruth) -> list[str]:
    r = t.root
    return [
        "--registry",
        str(r / "registry.json"),
        "--logs",
        str(r / "logs"),
        "--billing",
        str(r / "billing"),
        "--saas",
        str(r / "saas"),
        "--code",
        str(r / "repo"),
    ]


def test_discovery_precision_and_recall(enterprise: EnterpriseTruth) -> None:
    r = enterprise.root
    inv = discover(
        registry=str(r / "registry.json"),
        logs=[r / "logs"],
        billing=[r / "billing"],
        saas=[r / "saas"],
        code=[r / "repo"],
    )
    shadow = {s.key for s in inv.systems if s.registry is None}
    found_true = shadow & set(enterprise.shadow)
    precision = len(found_true) / len(shadow)
    recall = len(found_true) / len(enterprise.shadow)
    assert (precision, recall) == (1.0, 1.0), shadow ^ set(enterprise.shadow)
    doc = inv.to_json()
    assert doc["summary"]["systems"] == enterprise.total == 31
    assert doc["summary"]["shadow"] == 19 and doc["summary"]["registered"] == 12
    assert not doc["skipped"]
    by_name = {s["name"]: s for s in doc["systems"]}
    # one system seen in logs and code is one entry, matched by endpoint
    bot = by_name["support-chatbot"]
    assert bot["sources"] == ["code", "network"] and bot["match"]["method"] == "endpoint"
    assert by_name["churn-predictor"]["match"]["method"] == "name"
    assert by_name["demand-forecast"]["kind"] == "registered-internal"
    # evidence carries users, costs and owner candidates
    assert "user:fin-analyst1" in by_name["Anthropic API"]["owner_candidates"]
    assert by_name["Amazon Bedrock"]["cost"] > 0
    assert by_name["Jasper"]["owner_candidates"][0] == "cmo-office@acme.example"
    assert by_name["Obviously AI"]["kind"] == "no-code-model"
    if shutil.which("git"):  # repo owners come from git log of the scanned repository
        llama = by_name["meta-llama/Meta-Llama-3-8B-Instruct"]
        assert llama["owner_candidates"] == ["Dana Eng <dana@acme.example>"]
    ids = [f.id for f in inv.findings]
    assert ids.count("AISEC-MON-005") == 1  # credit-risk-scorer has no owner
    assert (
        sum(i in ("AISEC-MON-001", "AISEC-MON-002", "AISEC-MON-003", "AISEC-MON-004") for i in ids)
        == 19
    )
    bom = build_bom(doc)
    kinds = {c["type"] for c in bom["components"]}
    cards = {c["name"]: c["modelCard"] for c in bom["components"] if "modelCard" in c}
    assert cards["churn-predictor"] == {"considerations": {"useCases": ["churn-predictor model"]}}
    model_file = next(c for c in bom["components"] if c["name"] == "recsys-ranker")
    assert model_file["hashes"][0]["alg"] == "SHA-256"
    assert kinds == {"machine-learning-model", "data"}
    assert (
        len(bom["services"]) + sum(c["type"] == "machine-learning-model" for c in bom["components"])
        == 31
    )


def test_cli_json_sarif_bom_report_and_attestations(
    enterprise: EnterpriseTruth,
    inventory_cli: None,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    key_path = tmp_path / "k.key"
    generate_keypair(key_path)
    common = ["--key", str(key_path), "--no-git"]
    rc = main(
        [
            "inventory",
            "discover",
            *_args(enterprise),
            *common,
            "-f",
            "json",
            "-o",
            "inv.json",
            "--attest",
        ]
    )
    assert rc == 1  # shadow AI is high severity: --fail-on high
    assert "31 AI systems: 12 registered, 19 shadow AI" in capsys.readouterr().err
    assert (
        main(
            [
                "inventory",
                "discover",
                *_args(enterprise),
                "--no-git",
                "-f",
                "sarif",
                "-o",
                "inv.sarif",
                "--fail-on",
                "critical",
            ]
        )
        == 0
    )
    jsonschema.validate(
        json.loads(Path("inv.sarif").read_text()), json.loads(SARIF_SCHEMA.read_text())
    )
    assert (
        main(
            [
                "inventory",
                "bom",
                "--from",
                "inv.json",
                "-o",
                "bom.json",
                "--attest",
                "--key",
                str(key_path),
            ]
        )
        == 0
    )
    validate_bom(json.loads(Path("bom.json").read_text()))
    assert (
        main(
            [
                "inventory",
                "report",
                "--inventory",
                "inv.json",
                "-f",
                "html",
                "-o",
                "r.html",
                "--attest",
                "--key",
                str(key_path),
            ]
        )
        == 0
    )
    page = Path("r.html").read_text()
    assert "<svg" in page and "<script" not in page and "19 shadow AI" in page
    assert main(["inventory", "report", "-f", "json", "-o", "r.json"]) == 0
    report = json.loads(Path("r.json").read_text())
    mon = next(s for s in report["stages"] if s["id"] == "monitoring")
    assert mon["covered"] and {c["id"]: c["attestations"] for c in mon["controls"]} == {
        "monitoring/inventory": 1,
        "monitoring/inventory-update": 0,
        "monitoring/ai-bom": 1,
        "monitoring/governance": 1,
    }
    saif = next(f for f in report["frameworks"] if f["key"] == "saif")
    assert "SAIF-6" in saif["covered"] and "SAIF-1" in saif["missing"]
    with EvidenceStore.open() as store:
        (entry,) = store.entries(predicate_type=InventoryPredicate.predicate_type())
        inv = InventoryPredicate.from_statement(entry.statement)
        names = {s.name for s in inv.subjects} | {i.name for i in inv.inputs}
        # evidence names no local folder: inputs outside the working directory by file name
        assert "inventory.json" in names and "registry.json" in names
        assert len(store.findings()) >= 19


def test_bom_rejects_other_documents() -> None:
    with pytest.raises(FormatError):
        build_bom({"schema": "something-else"})
    with pytest.raises(FormatError):
        validate_bom({"bomFormat": "CycloneDX", "specVersion": "1.6", "components": "x"})


def test_synth_refuses_non_empty_folder(
    tmp_path: Path, inventory_cli: None, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "x").write_text("x")
    assert main(["inventory", "synth-enterprise", str(tmp_path / "d")]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_stored_inventory_owners_and_reviews(
    enterprise: EnterpriseTruth,
    inventory_cli: None,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    key = tmp_path / "k.key"
    generate_keypair(key)
    k = ["--key", str(key)]
    assert main(["inventory", "list"]) == 2  # nothing stored yet
    assert "run inventory discover --attest" in capsys.readouterr().err
    main(["inventory", "discover", *_args(enterprise), "--no-git", "-o", "-", "--attest", *k])
    capsys.readouterr()
    assert main(["inventory", "list", "--shadow", "-f", "json"]) == 0
    shadow = json.loads(capsys.readouterr().out)["systems"]
    assert len(shadow) == 19
    assert main(["inventory", "assign-owner", "Jasper", "cmo@acme.example", *k]) == 0
    assert (
        main(
            [
                "inventory",
                "mark-reviewed",
                "Jasper",
                "--by",
                "ciso",
                "--risk-tier",
                "high",
                "--lifecycle",
                "inference",
                *k,
            ]
        )
        == 0
    )
    assert main(["inventory", "assign-owner", "no such system", "x", *k]) == 2
    capsys.readouterr()
    assert main(["inventory", "show", "jasper"]) == 0
    jasper = json.loads(capsys.readouterr().out)
    assert jasper["owner"] == "cmo@acme.example" and jasper["reviewed_by"] == "ciso"
    assert (jasper["risk_tier"], jasper["lifecycle"], jasper["reviewed"]) == (
        "high",
        "inference",
        True,
    )
    assert main(["inventory", "list", "--unowned"]) == 0
    assert "Jasper" not in capsys.readouterr().out
    assert main(["inventory", "report", "-f", "json"]) == 0
    inv = json.loads(capsys.readouterr().out)["inventory"]
    assert inv["summary"]["shadow"] == 19 and len(inv["not_reviewed"]) == 30
    assert "Jasper" not in inv["no_owner"]
