"""Triage decisions are signed evidence: recorded from the CLI, shown with every finding."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from aisec.cli import main
from aisec.core.errors import InputError
from aisec.core.evidence import EvidenceStore, generate_keypair
from aisec.core.evidence.triage import find_finding, triage_predicate, triage_states
from aisec.core.predicates.enums import TriageState
from aisec.deployment import scan_model, scan_predicate

PAYLOAD = b"cos\nsystem\n(S'touch triage-payload-ran'\ntR."


@pytest.fixture
def db(tmp_path: Path) -> str:
    generate_keypair(tmp_path / ".aisec" / "keys" / "aisec.key")
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "model.pkl").write_bytes(PAYLOAD)
    url = f"sqlite:///{tmp_path / 'e.db'}"
    from aisec.core.evidence import load_signing_key

    key = load_signing_key(tmp_path / ".aisec" / "keys" / "aisec.key")
    with EvidenceStore.open(url) as store:
        store.record(scan_predicate(scan_model(["m"], digest=True)).statement(), key)
    return url


def test_triage_round_trip_on_the_command_line(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evidence", "findings", "--db", db, "-f", "json"]) == 1
    listed = json.loads(capsys.readouterr().out)["findings"]
    fp = listed[0]["fingerprint"]
    assert listed[0]["triage"] is None and fp.startswith("fp:")
    until = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()
    args = ["evidence", "triage", fp, "--db", db, "--by", "sec-lead@example.com"]
    assert main([*args, "--state", "accepted-risk", "--reason", "sandboxed loader"]) == 2
    assert "expiry date" in capsys.readouterr().err  # an acceptance needs --until
    code = main([*args, "--state", "false-positive", "--reason", "fixture", "--until", until])
    assert code == 0, capsys.readouterr().err
    capsys.readouterr()
    assert main(["evidence", "findings", "--db", db, "--status", "open"]) == 0
    capsys.readouterr()
    assert main(["evidence", "findings", "--db", db, "-f", "sarif"]) == 0
    sarif = json.loads(capsys.readouterr().out)
    result = sarif["runs"][0]["results"][0]
    assert result["suppressions"][0]["status"] == "accepted"
    assert "false-positive by sec-lead@example.com" in result["suppressions"][0]["justification"]
    assert result["partialFingerprints"]["aisecFinding/v1"] == fp
    assert not Path("triage-payload-ran").exists()


def test_newest_decision_wins_and_reopen_ends_it(db: str, signing_key: object) -> None:
    from aisec.core.evidence import load_signing_key

    key = load_signing_key(Path(".aisec/keys/aisec.key"))
    with EvidenceStore.open(db) as store:
        idx, finding = find_finding(store, "0:0")
        until = (datetime.now(UTC) + timedelta(days=5)).date()
        for state in (TriageState.ACCEPTED_RISK, TriageState.REOPENED):
            p = triage_predicate(finding, idx, state=state, reason="why not", by="a", until=until)
            store.record(p.statement(), key)
        t = triage_states(store)[finding.fingerprint]
        assert t.state is TriageState.REOPENED and not t.active()
        with pytest.raises(InputError, match="not a finding"):
            find_finding(store, "nonsense")
        with pytest.raises(InputError, match="in the past"):
            triage_predicate(
                finding,
                idx,
                state=TriageState.SUPPRESSED,
                reason="later",
                by="a",
                until=(datetime.now(UTC) - timedelta(days=1)).date(),
            )
