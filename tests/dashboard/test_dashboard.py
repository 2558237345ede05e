"""Dashboard pages and API, computed from the evidence; no script, escaped evidence."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from aisec.cli import main
from aisec.core.evidence import EvidenceStore
from aisec.dashboard import create_app


def test_lifecycle_shows_six_stages_with_status(client: Any) -> None:
    page = client.get("/")
    assert page.status_code == 200
    for name in ("Data", "Training", "Evaluation", "Deployment", "Inference", "Monitoring"):
        assert f"<h3>{name}</h3>" in page.text
    api = client.get("/api/lifecycle").json()
    assert api["verified"] is True
    by_id = {s["id"]: s for s in api["stages"]}
    assert [s["number"] for s in api["stages"]] == [1, 2, 3, 4, 5, 6]
    dep = {c["control"]: c for c in by_id["deployment"]["controls"]}
    assert dep["deployment/model-scan"]["runs"] == 1
    assert dep["deployment/model-scan"]["result"] == "fail"
    assert dep["deployment/gate"]["result"] == "not run"
    assert by_id["deployment"]["severity_counts"]["critical"] == 1
    assert by_id["inference"]["controls"][0]["runs"] == 0


def test_stage_page_threats_controls_findings_roles(client: Any, sample: dict[str, str]) -> None:
    page = client.get("/stage/deployment")
    assert page.status_code == 200
    text = page.text
    assert "Stage 4: Deployment" in text
    assert "AML.T0011.000" in text and "AISEC-DEP-001" in text
    assert "ran 1\u00d7" in text and "not run" in text
    assert "AI Security Engineer" in text
    # evidence is data: the title's markup is escaped, never live
    assert sample["xss"] not in text and "&lt;script&gt;" in text
    assert client.get("/stage/model").status_code == 200  # CLI group names are aliases
    assert client.get("/stage/nope").status_code == 404


def test_charts_come_from_the_evidence(client: Any) -> None:
    text = client.get("/").text
    assert "Attack success rate" in text and "LLM07" in text
    assert "Risk per data source" in text and "forum" in text
    assert "<script" not in text.lower()


def test_artifact_chain_walks_lineage_and_names_gaps(client: Any, sample: dict[str, str]) -> None:
    chain = client.get(f"/api/artifact/{sample['model']}").json()
    indexes = [e["index"] for e in chain["entries"]]
    assert indexes[:4] == [0, 1, 2, 3]  # the data audit is reached through derived_from
    assert chain["stages_with_evidence"] == ["data", "training", "evaluation", "deployment"]
    assert any("inference" in g for g in chain["gaps"])
    page = client.get(f"/artifact/{sample['data']}")
    assert page.status_code == 200 and "patients.csv" in page.text
    assert client.get("/artifact/sha256:1234").status_code == 404


def test_framework_coverage(client: Any) -> None:
    cov = client.get("/api/frameworks/atlas").json()
    rows = {r["id"]: r for r in cov["rows"]}
    assert rows["AML.T0011.000"]["state"] == "finding"
    assert rows["AML.T0020"]["state"] == "evidence"  # the data audit ran
    assert rows["AML.T0024"]["state"] == "no evidence"  # nothing from the gateway
    for key in ("owasp-llm-2025", "saif", "nist-ai-rmf", "iso-42001"):
        assert client.get(f"/frameworks/{key}").status_code == 200
    assert client.get("/frameworks/unknown").status_code == 404


def test_security_headers_and_read_only(client: Any) -> None:
    r = client.get("/evidence")
    assert "default-src 'none'" in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff"
    assert client.post("/").status_code == 405


def test_token_required_when_set(store: EvidenceStore, make_client: Any) -> None:
    token = "t" * 24
    c = make_client(create_app(store, token=token), follow_redirects=False)
    assert c.get("/").status_code == 401
    assert c.get("/", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    r = c.get(f"/stage/data?token={token}")
    assert r.status_code == 303 and "token" not in r.headers["location"]
    assert c.get("/stage/data").status_code == 200  # the cookie now carries it
    c.cookies.clear()
    assert c.get("/", headers={"Authorization": "Bearer wrong"}).status_code == 401


def test_tampered_log_is_announced(store: EvidenceStore, tmp_path: Path, make_client: Any) -> None:
    con = sqlite3.connect(tmp_path / "e.db")
    con.execute("UPDATE aisec_tree_heads SET signature = 'AAAA' WHERE size = 2")
    con.commit()
    con.close()
    c = make_client(create_app(store))
    assert "FAILS verification" in c.get("/").text
    assert "tree head of size 2" in c.get("/evidence").text


def test_cli_refuses_public_bind_without_token(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dashboard", "--host", "0.0.0.0"]) == 2  # noqa: S104 - the refusal is tested
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "without a token" in err


def test_ai_systems_from_the_inventory(client: Any) -> None:
    rows = {r["name"]: r for r in client.get("/api/systems").json()["systems"]}
    assert rows["Anthropic API"]["shadow"] is True and rows["Anthropic API"]["evidence"] == []
    assert rows["model"]["shadow"] is False
    assert {"training", "evaluation"} <= set(rows["model"]["stages"])
    page = client.get("/systems").text
    assert "shadow AI" in page and "not reviewed, tested or scanned" in page
