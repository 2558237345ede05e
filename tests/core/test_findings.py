"""Findings: ordering, JSON round trip, SARIF 2.1.0 validated against the OASIS schema."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console

from aisec.core.controls import Rule
from aisec.core.findings import (
    Finding,
    Mappings,
    Severity,
    Subject,
    exceeds,
    finding_from_json,
    findings_to_json,
    findings_to_sarif,
    render_findings_text,
)

SCHEMA = json.loads((Path(__file__).parents[1] / "assets" / "sarif-schema-2.1.0.json").read_text())


def _finding(
    sev: Severity = Severity.HIGH, rule: str = "AISEC-DEP-001", path: str = "m.pt"
) -> Finding:
    return Finding(
        id=rule,
        stage="deployment",
        severity=sev,
        title="Pickle reaches os.system",
        detail="GLOBAL posix.system is called by REDUCE at offset 42",
        subject=Subject(path, "sha256:" + "cd" * 32),
        remediation="Convert the weights to SafeTensors",
        mappings=Mappings(
            atlas=("AML.T0011.000",),
            owasp_llm=("LLM03",),
            saif=("SAIF-1",),
            nist_ai_rmf=("MANAGE 2.3",),
        ),
        evidence={"opcode_offset": 42, "callable": "posix.system"},
    )


def test_severity_order_and_fail_on() -> None:
    assert [s.rank for s in Severity] == [0, 1, 2, 3, 4]
    assert exceeds([_finding(Severity.MEDIUM)], Severity.MEDIUM)
    assert not exceeds([_finding(Severity.MEDIUM)], Severity.HIGH)
    assert not exceeds([], Severity.INFO)


def test_ids_are_checked() -> None:
    with pytest.raises(ValueError, match="AISEC-<STAGE>-<NNN>"):
        Finding("DEP-1", "deployment", Severity.LOW, "t", "d", Subject("x"), "r")


def test_json_round_trip_and_schema_tag() -> None:
    f = _finding()
    doc = findings_to_json([_finding(Severity.LOW, "AISEC-DEP-002"), f])
    assert doc["schema"] == "aisec.findings/v1"
    assert doc["summary"]["high"] == 1 and doc["summary"]["low"] == 1
    assert doc["findings"][0]["severity"] == "high"  # most severe first
    assert finding_from_json(json.loads(json.dumps(f.to_json()))) == f


def test_sarif_validates_against_the_oasis_schema() -> None:
    items = [
        _finding(sev, f"AISEC-DEP-00{i}", f"dir/file {i}.pt") for i, sev in enumerate(Severity)
    ]
    sarif = findings_to_sarif(items)
    jsonschema.validate(sarif, SCHEMA)
    run = sarif["runs"][0]
    assert len(run["tool"]["driver"]["rules"]) == 5
    assert {r["level"] for r in run["results"]} == {"note", "warning", "error"}
    res = next(r for r in run["results"] if r["ruleId"] == "AISEC-DEP-004")
    assert res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "dir/file%204.pt"
    assert "atlas:AML.T0011.000" in run["tool"]["driver"]["rules"][0]["properties"]["tags"]


def test_empty_sarif_is_valid() -> None:
    jsonschema.validate(findings_to_sarif([]), SCHEMA)


@given(
    st.lists(
        st.builds(
            _finding,
            st.sampled_from(list(Severity)),
            st.from_regex(r"AISEC-(DAT|TRN|EVA|DEP|INF|MON)-\d{3}", fullmatch=True),
            st.text(min_size=1, max_size=30),
        ),
        max_size=8,
    )
)
def test_any_findings_make_valid_sarif(items: list[Finding]) -> None:
    sarif = findings_to_sarif(items)
    jsonschema.validate(sarif, SCHEMA)
    assert code_scanning_problems(sarif) == []


@pytest.mark.parametrize("path", ["\\", "..\\x.pt", "C:\\models\\x.pt", "a/./b//c.pt", "c:x"])
def test_odd_subject_paths_stay_relative_uris(path: str) -> None:
    """Found by the property above: a file named by a backslash became the URI "/"."""
    sarif = findings_to_sarif([_finding(path=path)])
    assert code_scanning_problems(sarif) == []


def test_text_rendering_does_not_interpret_markup() -> None:
    console = Console(record=True, width=200)
    f = _finding(path="[bold]evil[/bold].pt")
    render_findings_text([f], console)
    out = console.export_text()
    assert "[bold]evil[/bold].pt" in out and "AISEC-DEP-001" in out


# --- SARIF as GitHub code scanning ingests it ---------------------------------------------------


def _rule() -> Rule:
    return Rule(
        "AISEC-DEP-001",
        "deployment",
        Severity.CRITICAL,
        "Pickle calls a callable that can execute code",
        "Convert to SafeTensors.",
        Mappings(atlas=("AML.T0011.000",), saif=("SAIF-1",), nist_ai_rmf=("MAP 4.1",)),
        "Loading the file runs the attacker's code.",
    )


def code_scanning_problems(sarif: dict[str, object]) -> list[str]:
    """What GitHub's documented ingestion rules would refuse or misplace."""
    problems = []
    (run,) = sarif["runs"]  # type: ignore[index]
    rules = run["tool"]["driver"]["rules"]
    if len({r["id"] for r in rules}) != len(rules):
        problems.append("duplicate rule ids")
    for r in rules:
        if len(r["properties"]["tags"]) > 20:
            problems.append(f"{r['id']}: more than 20 tags")
        float(r["properties"]["security-severity"])
    if len(run["results"]) > 25_000:
        problems.append("more than 25,000 results")
    for res in run["results"]:
        if not res.get("partialFingerprints"):
            problems.append("a result without partialFingerprints")
        for loc in res["locations"]:
            art = loc["physicalLocation"]["artifactLocation"]
            uri = art["uri"]
            first = uri.split("/")[0]
            if uri.startswith("/") or ":" in first or ".." in uri.split("/"):
                problems.append(f"uri {uri!r} is not relative to the checkout")
            if art.get("uriBaseId") not in run.get("originalUriBaseIds", {}):
                problems.append(f"uri {uri!r} has no declared base")
    return problems


def test_sarif_for_code_scanning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from aisec.core.findings import Region
    from aisec.core.paths import use_evidence_root

    rule = _rule()
    inside = tmp_path / "models" / "m.pkl"

    def run(detail: str) -> dict[str, object]:
        items = [
            rule.finding(
                str(inside), detail, digest="sha256:" + "a" * 64, region=Region(byte_offset=17)
            ),
            rule.finding("account:acme", detail),
            rule.finding("/elsewhere/outside.bin", detail),
        ]
        with use_evidence_root(tmp_path):
            return findings_to_sarif(
                items, rules={rule.id: rule}, suppressions={items[1].fingerprint: "accepted"}
            )

    one, two = run("3 of 9 attacks"), run("5 of 9 attacks")
    jsonschema.validate(one, SCHEMA)
    assert code_scanning_problems(one) == []
    assert one["runs"][0]["tool"] == two["runs"][0]["tool"]  # rules do not change per run
    res = one["runs"][0]["results"]
    uris = [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in res]
    assert sorted(uris) == [".", "models/m.pkl", "outside.bin"]
    located = next(r for r in res if r["locations"][0]["physicalLocation"].get("region"))
    assert located["locations"][0]["physicalLocation"]["region"] == {"byteOffset": 17}
    account = next(r for r in res if r.get("suppressions"))
    assert account["locations"][0]["logicalLocations"][0]["name"] == "account:acme"
    assert "3 of 9" in res[0]["message"]["text"]
    rule_doc = one["runs"][0]["tool"]["driver"]["rules"][0]
    assert rule_doc["fullDescription"]["text"] == rule.rationale


def test_sarif_stays_within_the_result_limit() -> None:
    rule = _rule()
    many = [rule.finding(f"f{i}.pkl", "x") for i in range(25_010)]
    sarif = findings_to_sarif(many)
    assert len(sarif["runs"][0]["results"]) == 25_000
    assert "truncated" in sarif["runs"][0]["properties"]
