"""Our own enterprise (not the dev set) reconciled end to end: every system once, no decoys."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

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
        "--assets",
        str(r / "assets.csv"),
    ]


def _score(t: EnterpriseTruth, doc: dict[str, Any]) -> dict[str, Any]:
    """The dev set's matching rule on our own enterprise: registry id or a unique identifier."""
    matched: dict[str, list[str]] = {}
    false, decoys = [], []
    for s in doc["systems"]:
        blob = json.dumps(s).lower()
        hits = [
            x["id"]
            for x in t.systems
            if (s["registry_id"] and s["registry_id"] == x["registry_id"])
            or any(i.lower() in blob for i in x["idents"])
        ]
        decoys += [d for d in t.decoys if d in blob]
        if len(hits) != 1:
            false.append((s["name"], hits))
        for h in hits:
            matched.setdefault(h, []).append(s["id"])
    by_id = {s["id"]: s for s in doc["systems"]}
    teams = sum(
        1
        for x in t.systems
        if len(matched.get(x["id"], [])) == 1 and by_id[matched[x["id"]][0]]["team"] == x["team"]
    )
    reconciled = sum(
        1
        for x in t.systems
        if x["registered"]
        and len(matched.get(x["id"], [])) == 1
        and by_id[matched[x["id"]][0]]["registry_id"] == x["registry_id"]
        and by_id[matched[x["id"]][0]]["evidence"]
    )
    return {
        "found_once": sum(1 for x in t.systems if len(matched.get(x["id"], [])) == 1),
        "double": sum(max(0, len(v) - 1) for v in matched.values()),
        "false": false,
        "decoys": decoys,
        "reconciled": reconciled,
        "teams": teams / len(t.systems),
        "mislabelled": sum(
            1
            for x in t.systems
            if not x["registered"]
            for sid in matched.get(x["id"], [])
            if by_id[sid]["registered"]
        ),
    }


def test_own_enterprise_every_system_once(enterprise: EnterpriseTruth) -> None:
    r = enterprise.root
    inv = discover(
        registry=str(r / "registry.json"),
        logs=[r / "logs"],
        billing=[r / "billing"],
        saas=[r / "saas"],
        code=[r / "repo"],
        assets=r / "assets.csv",
        git=False,
    )
    doc = inv.to_json()
    assert not doc["skipped"]
    got = _score(enterprise, doc)
    assert got == {
        "found_once": enterprise.total,
        "double": 0,
        "false": [],
        "decoys": [],
        "reconciled": enterprise.registered,
        "teams": got["teams"],
        "mislabelled": 0,
    }
    assert got["teams"] >= 0.9
    assert doc["summary"]["systems"] == enterprise.total == 16
    by_id = {s["registry_id"]: s for s in doc["systems"] if s["registry_id"]}
    # one tenant resource seen in Zeek, code and the Azure bill is one system, by its key
    care = by_id["BW-2"]
    assert set(care["sources"]) == {"billing", "code", "network"}
    assert care["match"]["via"].startswith("key res:azure-openai:bw-care-weu")
    # the registry's model column meets the model file; the Name tag meets the endpoint
    assert set(by_id["BW-1"]["sources"]) == {"billing", "code"}
    # decoys are decided, with the reason shown by --explain
    reasons = {d["subject"]: d["reason"] for d in doc["not_ai"]}
    assert any("cancelled" in v for k, v in reasons.items() if k.startswith("Jasper"))
    assert any("stated off" in v for k, v in reasons.items() if k.startswith("Zoom"))
    assert any("holidays.pkl" in k for k in reasons)
    assert any("transcode-01" in k for k in reasons)
    assert any("DNS lookups only" in v for v in reasons.values())
    assert any("read-only management" in v for v in reasons.values())
    assert any("blocked" in v for k, v in reasons.items() if "deepseek" in k)
    # network-only systems get the team of their clients, not of the proxy
    together = next(s for s in doc["systems"] if "api.together.xyz" in s["hosts"])
    assert together["team"] == "warehouse-ops"
    assert "asset inventory" in together["team_evidence"]
    bom = build_bom(doc)
    assert (
        len(bom["services"]) + sum(c["type"] == "machine-learning-model" for c in bom["components"])
        == 16
    )


def test_unknown_owner_is_a_finding(tmp_path: Path) -> None:
    repo = tmp_path / "code" / "notes-bot"
    repo.mkdir(parents=True)
    (repo / "bot.py").write_text("import anthropic\n")
    reg = tmp_path / "reg.csv"
    reg.write_text("id,name,owner,endpoint\n")
    inv = discover(registry=str(reg), code=[tmp_path / "code"], git=False)
    (system,) = inv.systems
    assert system.team is None
    (finding,) = [f for f in inv.findings if f.id == "AISEC-MON-005"]
    assert "unknown owner" in finding.detail
    (repo / "CODEOWNERS").write_text("* @acme/research\n")
    (owned,) = discover(registry=str(reg), code=[tmp_path / "code"], git=False).systems
    assert owned.team == "research"


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
    assert "16 AI systems: 7 registered, 9 shadow AI" in capsys.readouterr().err
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
    assert "<svg" in page and "<script" not in page and "9 shadow AI" in page
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
        assert len(store.findings()) >= 9


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
    assert len(shadow) == 9
    assert main(["inventory", "assign-owner", "Fireflies Business", "cmo@acme.example", *k]) == 0
    assert (
        main(
            [
                "inventory",
                "mark-reviewed",
                "Fireflies Business",
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
    assert main(["inventory", "show", "fireflies business"]) == 0
    jasper = json.loads(capsys.readouterr().out)
    assert jasper["owner"] == "cmo@acme.example" and jasper["reviewed_by"] == "ciso"
    assert (jasper["risk_tier"], jasper["lifecycle"], jasper["reviewed"]) == (
        "high",
        "inference",
        True,
    )
    assert main(["inventory", "list", "--unowned"]) == 0
    assert "Fireflies Business" not in capsys.readouterr().out
    assert main(["inventory", "report", "-f", "json"]) == 0
    inv = json.loads(capsys.readouterr().out)["inventory"]
    assert inv["summary"]["shadow"] == 9 and len(inv["not_reviewed"]) == 15
    assert "Fireflies Business" not in inv["no_owner"]


def test_explain_prints_merges_owners_and_decoys(
    enterprise: EnterpriseTruth, inventory_cli: None, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["inventory", "discover", *_args(enterprise), "--no-git", "--explain"]
    assert main([*args, "--fail-on", "critical"]) == 0
    out = capsys.readouterr().out
    assert "reconciled with BW-2: key res:azure-openai:bw-care-weu" in out
    assert "merged: same res key res:azure-openai:bw-care-weu" in out
    assert "team: warehouse-ops (asset inventory: client" in out
    assert "not AI systems:" in out and "holidays.pkl" in out and "Jasper" in out


def test_one_public_api_two_teams_two_systems(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "ssl.log").write_text(
        "".join(
            json.dumps({"ts": 1767225600 + i, "id.orig_h": ip, "server_name": "api.openai.com"})
            + "\n"
            for i, ip in enumerate(["10.1.0.1"] * 3 + ["10.2.0.1"] * 2)
        )
    )
    (tmp_path / "assets.csv").write_text(
        "ip,hostname,team\n10.1.0.1,pricing-01,pricing\n10.2.0.1,claims-01,claims\n"
    )
    for repo in ("pricing-notebooks", "claims-triage"):
        (tmp_path / "code" / repo).mkdir(parents=True)
        (tmp_path / "code" / repo / "run.py").write_text("import openai\n")
    reg = tmp_path / "reg.csv"
    reg.write_text("id,name,endpoint\n")
    inv = discover(
        registry=str(reg),
        logs=[logs],
        code=[tmp_path / "code"],
        assets=tmp_path / "assets.csv",
        git=False,
    )
    got = sorted(
        (s.team, sorted({o.identifiers[0] for o in s.observations if o.source == "code"}))
        for s in inv.systems
    )
    # each repository joins the system of the team its name shares a word with
    assert got == [
        ("claims", ["repos/claims-triage"]),
        ("pricing", ["repos/pricing-notebooks"]),
    ]
