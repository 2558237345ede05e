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


def test_model_dossier_walks_the_chain_and_names_gaps(client: Any, sample: dict[str, str]) -> None:
    doc = client.get(f"/api/model/{sample['model']}").json()
    chain = doc["chain"]
    states = {s["stage"]: s["state"] for s in chain["stages"]}
    assert states == {
        "data": "ok",  # the audit is reached through the training record's source input
        "training": "ok",
        "evaluation": "ok",
        "deployment": "ok",
        "inference": "missing",
        "monitoring": "missing",
    }
    assert {g["stage"] for g in chain["gaps"]} == {"inference", "monitoring"}
    results = {x["control"]: x["result"] for s in chain["stages"] for x in s["links"]}
    assert results["deployment/model-scan"] == "fail" and results["data/audit"] == "fail"
    assert [f["id"] for f in doc["findings"]] == ["AISEC-DEP-001"]
    page = client.get(f"/model/{sample['model']}")
    assert page.status_code == 200 and "<svg" in page.text and 'id="gaps"' in page.text
    assert "&lt;script&gt;" in page.text  # a finding title from evidence is escaped
    page = client.get(f"/artifact/{sample['data']}")
    assert page.status_code == 200 and "patients.csv" in page.text
    assert client.get("/artifact/sha256:1234").status_code == 404
    models = client.get("/api/models").json()["models"]
    assert models == [] or all(m["digest"].startswith("sha256:") for m in models)


def test_findings_filters_and_search(client: Any) -> None:
    everything = client.get("/api/findings").json()["findings"]
    assert [f["id"] for f in everything] == ["AISEC-DEP-001"]
    assert client.get("/api/findings?severity=critical").json()["findings"]
    assert not client.get("/api/findings?stage=data").json()["findings"]
    assert client.get("/api/findings?q=posix.system").json()["findings"]
    assert not client.get("/api/findings?q=nothing-like-it").json()["findings"]
    assert not client.get("/api/findings?status=triaged").json()["findings"]
    assert client.get("/api/findings?severity=worst").status_code == 404
    page = client.get("/findings?status=open")
    assert page.status_code == 200 and 'id="filters"' in page.text
    assert '<form class="triage"' not in page.text  # read-only: no triage forms


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


ADMIN = "an-admin-token-of-enough-length"


def _admin_app(world: Any) -> Any:
    from aisec.core.evidence.recorder import StoreRecorder

    return create_app(
        world.store, admin_token=ADMIN, recorder=StoreRecorder.for_store(world.store, world.key)
    )


def test_triage_round_trip_accept_honour_expire(gate_world: Any, make_client: Any) -> None:
    from datetime import UTC, date, datetime, timedelta

    assert not gate_world.allows()
    c = make_client(_admin_app(gate_world), follow_redirects=False)
    page = c.get(f"/model/{gate_world.digest}")
    assert 'class="triage"' not in page.text  # no session yet: no form
    assert c.get("/admin?token=wrong").status_code == 403
    login = c.get(f"/admin?token={ADMIN}")
    assert login.status_code == 303 and "samesite=strict" in login.headers["set-cookie"].lower()
    page = c.get(f"/model/{gate_world.digest}")
    assert 'class="triage"' in page.text
    csrf = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    until = (datetime.now(UTC) + timedelta(days=7)).date()
    form = {
        "fingerprint": gate_world.finding.fingerprint,
        "state": "accepted-risk",
        "reason": "every tool call needs the user's confirmation",
        "by": "risk-owner@example.com",
        "until": until.isoformat(),
        "back": f"/model/{gate_world.digest}",
    }
    assert c.post("/triage", data={**form, "csrf": "forged"}).status_code == 403
    cross = c.post("/triage", data={**form, "csrf": csrf}, headers={"origin": "https://evil"})
    assert cross.status_code == 403
    done = c.post("/triage", data={**form, "csrf": csrf})
    assert done.status_code == 303 and done.headers["location"] == form["back"]
    row = c.get(f"/api/model/{gate_world.digest}").json()["findings"][0]
    assert row["status"] == f"accepted-risk until {until}" and not row["open"]
    assert gate_world.allows()  # the gate honours the signed acceptance
    later = datetime.combine(until + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    assert not gate_world.allows(now=later)  # and not after it expires
    assert date.today() <= until


def test_read_only_dashboard_refuses_triage(gate_world: Any, make_client: Any) -> None:
    c = make_client(create_app(gate_world.store), follow_redirects=False)
    assert c.get(f"/admin?token={ADMIN}").status_code == 403
    refused = c.post("/triage", data={"fingerprint": gate_world.finding.fingerprint})
    assert refused.status_code == 403 and not gate_world.allows()


def test_alert_buckets_fit_a_short_run() -> None:
    from datetime import UTC, datetime, timedelta

    from aisec.dashboard.views import time_buckets

    t0 = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
    buckets, unit = time_buckets([t0 + timedelta(minutes=m) for m in (0, 1, 12, 40)])
    assert unit == "5 minutes" and len(buckets) == 9 and buckets[0] == ("10:00", 2)
    assert len({label for label, _ in buckets}) == len(buckets)  # no two bars share a label
    _, unit = time_buckets([t0, t0 + timedelta(days=10)])
    assert unit == "day"
