"""``aisec data audit`` end to end: the hospital scenario, outputs, hostile cells, bad input."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import polars as pl
import pytest
from _data_factory import HOSPITAL_RECORDS, hospital_scenario, write

from aisec.cli import main
from aisec.core.evidence import EvidenceStore


def test_hospital_scenario_end_to_end(
    tmp_path: Path, data_cli: None, default_key: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inj = hospital_scenario(seed=0)
    for name, fields in HOSPITAL_RECORDS.items():
        part = write(inj.frame.filter(pl.col("source") == name), tmp_path / f"{name}.csv")
        args = ["data", "register", str(part), "--name", name]
        for key, value in fields.items():
            opt = "--" + key.replace("_", "-")
            if isinstance(value, list):
                for v in value:
                    args += ["--flag", v]
            else:
                args += [opt, str(value)]
        assert main(args) == 0, capsys.readouterr().err
    data = write(inj.frame, tmp_path / "all.csv")
    out = tmp_path / "audit.json"
    flagged = tmp_path / "flagged.csv"
    code = main(
        [
            "data",
            "audit",
            str(data),
            "--label",
            "label",
            "--source-column",
            "source",
            "--id-column",
            "id",
            "-f",
            "json",
            "-o",
            str(out),
            "--flagged-rows",
            str(flagged),
        ]
    )
    assert code == 1  # high findings reach the default --fail-on high
    assert "riskiest source" in capsys.readouterr().err
    report = json.loads(out.read_text())
    assert report["schema"] == "aisec.data-audit/v1"
    ranked = [s["name"] for s in report["sources"]]
    assert set(ranked[:2]) == {"forum", "vendor"}, ranked
    assert ranked.index("retracted") < min(ranked.index(h) for h in ranked if "hosp" in h)
    assert set(ranked[3:]) == {"hosp_north", "hosp_south", "hosp_east"}
    forum = report["sources"][ranked.index("forum")]
    assert forum["components"]["provenance"]["flags"] == ["scraped", "self-reported"]
    assert any("vendor lineage" in c for c in report["sources"][ranked.index("vendor")]["controls"])
    for s in report["sources"]:
        assert s["components"]["provenance"]["records"], s["name"]
        assert s["ci"][0] <= s["risk"] <= s["ci"][1]
    for key in ("flagged_rows", "sources", "drift", "pii", "duplicates", "leakage"):
        assert key in report
    row = report["flagged_rows"][0]
    assert {"id", "checks"} <= row.keys() and {"check", "score"} <= row["checks"][0].keys()
    with flagged.open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == len(report["flagged_rows"])
    with EvidenceStore.open() as store:
        (entry,) = store.entries(predicate_type="urn:aisec:predicate:data/audit:v1")
        assert entry.statement.subjects[0].digest == report["dataset"]["digest"]
        assert store.findings(stage="data")
        assert not store.verify().problems


def test_hostile_cells_are_never_evaluated(
    tmp_path: Path, data_cli: None, capsys: pytest.CaptureFixture[str]
) -> None:
    marker = tmp_path / "pwned"
    payloads = [
        f"=cmd|' /C touch {marker}'!A0",
        f"@SUM(1+1)*cmd|' /C touch {marker}'!A0",
        f"+__import__('os').system('touch {marker}')",
        "<script>alert(1)</script>",
    ]
    rows = ["id,source,a,b,label"]
    for i in range(80):
        ident = payloads[i % len(payloads)] if i < 8 else f"r{i}"
        src = "<script>alert(1)</script>" if i % 2 else "ok"
        rows.append(f'"{ident}","{src}",{i % 7},{(i * 3) % 5},{i % 2}')
    rows += ['"dup","ok",1,1,1'] * 3
    path = tmp_path / "hostile.csv"
    path.write_text("\n".join(rows) + "\n")
    flagged = tmp_path / "flagged.csv"
    html = tmp_path / "r.html"
    assert (
        main(
            [
                "data",
                "audit",
                str(path),
                "--label",
                "label",
                "--source-column",
                "source",
                "--id-column",
                "id",
                "-f",
                "html",
                "-o",
                str(html),
                "--flagged-rows",
                str(flagged),
                "--no-record",
                "--fail-on",
                "critical",
            ]
        )
        == 0
    ), capsys.readouterr().err
    assert not marker.exists()
    page = html.read_text()
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert page.count("<svg") == 2  # per-source risk and issue counts, inline
    assert "src=" not in page and "<link" not in page  # self-contained: nothing loaded
    with flagged.open() as fh:
        lines = list(csv.reader(fh))
    for line in lines:
        assert not line[0].startswith(("=", "+", "-", "@")), line
        assert not line[2].startswith(("=", "+", "-", "@")), line


@pytest.mark.parametrize(
    ("setup", "args", "needle"),
    [
        (None, ["nope.csv", "--label", "y"], "nope.csv"),
        ("a,b\n1,2\n", ["d.csv", "--label", "y"], "no label column 'y'"),
        ("a,b\n1,2\n", ["d.csv", "--label", "a", "--source-column", "s"], "no source column"),
        ("a,b\n1,2\n", ["d.xlsx", "--label", "a"], "unsupported dataset format"),
        ("\x00\x01\x02garbage", ["d.parquet", "--label", "a"], "cannot read dataset"),
        ("a,b\n1,2\n", ["d.csv", "--label", "a", "--schema", "s.yaml"], "schema"),
        ("a,b\n1,2\n", ["d.csv", "--label", "a", "--reference", "nope.csv"], "reference"),
        (
            "a,label\n" + "1,0\n" * 10_050 + "abc,1\n",
            ["d.csv", "--label", "label"],
            "could not parse `abc`",
        ),
    ],
)
def test_bad_input_exits_2_with_one_line(
    tmp_path: Path,
    data_cli: None,
    capsys: pytest.CaptureFixture[str],
    setup: str | None,
    args: list[str],
    needle: str,
) -> None:
    if setup is not None:
        for name in ("d.csv", "d.xlsx", "d.parquet"):
            (tmp_path / name).write_text(setup)
    (tmp_path / "s.yaml").write_text("columns: {a: {type: decimal}}\n")
    assert main(["data", "audit", *args, "--no-record"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("aisec: error:") and needle in err and "\n" not in err, err


def test_schema_mismatch_is_a_finding(
    tmp_path: Path, data_cli: None, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "d.csv"
    path.write_text("a,b,label\n" + "".join(f"{i},x{i % 3},{i % 2}\n" for i in range(60)))
    schema = tmp_path / "s.yaml"
    schema.write_text(
        "columns:\n  a: {type: int, max: 50}\n  b: {type: float}\n  c: {type: string}\n"
    )
    assert (
        main(
            [
                "data",
                "audit",
                str(path),
                "--label",
                "label",
                "--schema",
                str(schema),
                "-f",
                "json",
                "--no-record",
                "--fail-on",
                "critical",
            ]
        )
        == 0
    )
    report = json.loads(capsys.readouterr().out)
    problems = {(p["column"], p["problem"]) for p in report["schema_problems"]}
    assert ("a", "9 values above 50") in problems
    assert ("b", "type string, expected float") in problems
    assert ("c", "missing column") in problems
    assert "AISEC-DAT-001" in {f["id"] for f in report["findings"]}


def test_text_and_sarif_outputs(
    tmp_path: Path, data_cli: None, capsys: pytest.CaptureFixture[str]
) -> None:
    import jsonschema

    path = tmp_path / "d.csv"
    body = "".join(f"{i % 9},{(i * 7) % 11},s{i % 2},x{i}@example.org,{i % 2}\n" for i in range(90))
    path.write_text("a,b,src,note,label\n" + body)
    base = ["data", "audit", str(path), "--label", "label", "--source-column", "src"]
    assert main([*base, "--no-record", "--fail-on", "critical"]) == 0
    out = capsys.readouterr().out
    assert "sources, riskiest first" in out and "control for s" in out
    assert main([*base, "-f", "sarif", "--no-record"]) == 1  # PII is a high finding
    sarif = json.loads(capsys.readouterr().out)
    schema_path = Path(__file__).parents[1] / "assets" / "sarif-schema-2.1.0.json"
    jsonschema.validate(sarif, json.loads(schema_path.read_text()))
    rules = {r["ruleId"] for r in sarif["runs"][0]["results"]}
    assert "AISEC-DAT-009" in rules


def test_register_from_record_file(
    tmp_path: Path, data_cli: None, default_key: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "d.csv"
    data.write_text("a,label\n1,0\n")
    rec = tmp_path / "r.yaml"
    rec.write_text(
        "name: vendor\norigin: Vendor Y\nowner: Vendor Y\nlicence: commercial\n"
        "collection_method: undisclosed\nflags: [no-audit-trail]\n"
    )
    assert main(["data", "register", str(data), "--record", str(rec), "-f", "json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["record"]["flags"] == ["no-audit-trail"] and got["version"] == 1
    rec.write_text("name: vendor\nflags: [nonsense]\n")
    assert main(["data", "register", str(data), "--record", str(rec)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("aisec: error:") and "\n" not in err
