"""Provenance records: register, versions, history, Croissant round trip, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aisec.cli import main
from aisec.core.digest import digest_path
from aisec.core.errors import InputError
from aisec.core.evidence import EvidenceStore, SigningKey
from aisec.data import (
    PROVENANCE_PREDICATE,
    ProvenanceFlag,
    SourceRecord,
    latest_records,
    record_from_croissant,
    record_to_croissant,
    register_source,
    source_history,
)

FIELDS = {
    "name": "forum",
    "origin": "https://forum.example/symptoms",
    "owner": "public",
    "licence": "unknown",
    "collection_method": "web scrape",
    "flags": ["scraped", "self-reported"],
    "issues": ["labels are self-reported"],
    "transformations": ["dropped usernames"],
}


def test_register_versions_and_history(
    tmp_path: Path, signing_key: SigningKey, store_url: str
) -> None:
    data = tmp_path / "forum.csv"
    data.write_text("a,label\n1,0\n2,1\n")
    record = SourceRecord.parse(FIELDS)
    with EvidenceStore.open(store_url) as store:
        v1, created = register_source(store, signing_key, data, record)
        assert created and v1.version == 1
        assert v1.digest == digest_path(data).digest
        again, created = register_source(store, signing_key, data, record)
        assert not created and again.index == v1.index
        data.write_text("a,label\n1,0\n2,0\n")
        changed = record.model_copy(update={"licence": "CC-BY-4.0"})
        v2, created = register_source(store, signing_key, data, changed)
        assert created and v2.version == 2 and v2.digest != v1.digest
        hist = source_history(store, "forum")
        entry = store.get(v2.index)
    assert entry.predicate_type == PROVENANCE_PREDICATE
    assert entry.statement.subjects[0].digest == v2.digest
    assert [h["version"] for h in hist] == [1, 2]
    ch = hist[1]["changes"]
    assert ch["digest"] == {"from": v1.digest, "to": v2.digest}
    assert ch["files"]["changed"] == ["forum.csv"]
    assert ch["fields"] == {"licence": {"from": "unknown", "to": "CC-BY-4.0"}}


def test_croissant_round_trip(tmp_path: Path, signing_key: SigningKey) -> None:
    data = tmp_path / "d.csv"
    data.write_text("a,label\n1,0\n")
    record = SourceRecord.parse({**FIELDS, "consent": "none", "access": "internal only"})
    with EvidenceStore.open() as store:
        version, _ = register_source(store, signing_key, data, record)
    doc = record_to_croissant(version)
    assert doc["@type"] == "sc:Dataset"
    assert doc["conformsTo"] == "http://mlcommons.org/croissant/1.0"
    assert doc["rai:dataCollection"] == "web scrape"
    assert doc["rai:dataLimitations"] == ["labels are self-reported"]
    assert doc["distribution"][0]["sha256"] == version.digest.removeprefix("sha256:")
    path = tmp_path / "x.json"
    path.write_text(json.dumps(doc))
    assert record_from_croissant(path) == record


def test_record_validation_is_one_line() -> None:
    with pytest.raises(InputError, match="flags"):
        SourceRecord.parse({**FIELDS, "flags": ["made-up"]})
    with pytest.raises(InputError, match="origin"):
        SourceRecord.parse({k: v for k, v in FIELDS.items() if k != "origin"})
    assert SourceRecord.parse(FIELDS).flags == (
        ProvenanceFlag.SCRAPED,
        ProvenanceFlag.SELF_REPORTED,
    )


def test_cli_register_history_croissant(
    tmp_path: Path, data_cli: None, default_key: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "vendor.csv"
    data.write_text("a,label\n1,0\n")
    args = [
        "data",
        "register",
        str(data),
        "--name",
        "vendor",
        "--origin",
        "Vendor Y",
        "--owner",
        "Vendor Y",
        "--licence",
        "commercial",
        "--collection-method",
        "undisclosed",
        "--flag",
        "no-audit-trail",
        "--issue",
        "no lineage",
        "-f",
        "json",
    ]
    assert main(args) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["created"] and first["record"]["flags"] == ["no-audit-trail"]
    data.write_text("a,label\n1,1\n")
    assert main(args) == 0
    capsys.readouterr()
    assert main(["data", "history", "vendor"]) == 0
    out = capsys.readouterr().out
    assert "v1" in out and "v2" in out and "file changed: vendor.csv" in out
    cro = tmp_path / "vendor.json"
    assert main(["data", "export-croissant", "vendor", "-o", str(cro)]) == 0
    again = tmp_path / "copy.csv"
    again.write_text("a,label\n1,1\n")
    assert main(["data", "register", str(again), "--croissant", str(cro), "--name", "copy"]) == 0
    capsys.readouterr()
    with EvidenceStore.open() as store:
        (copy,) = latest_records(store, names=["copy"])
    assert copy.record.flags == (ProvenanceFlag.NO_AUDIT_TRAIL,)
    assert copy.record.issues == ("no lineage",)


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (
            [
                "data",
                "register",
                "missing.csv",
                "--name",
                "x",
                "--origin",
                "o",
                "--owner",
                "o",
                "--licence",
                "l",
                "--collection-method",
                "c",
            ],
            "missing.csv",
        ),
        (["data", "register", "d.csv", "--name", "x"], "origin"),
        (["data", "history", "nobody"], "nobody"),
        (["data", "register", "d.csv", "--croissant", "bad.json"], "bad.json"),
    ],
)
def test_cli_bad_input_exits_2_with_one_line(
    tmp_path: Path,
    data_cli: None,
    default_key: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    needle: str,
) -> None:
    (tmp_path / "d.csv").write_text("a\n1\n")
    (tmp_path / "bad.json").write_text("{not json")
    with EvidenceStore.open():
        pass
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("aisec: error:") and needle in err and "\n" not in err
