"""``aisec model scan`` and ``aisec model convert`` from the command line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest

from aisec.cli import cli, main
from aisec.cli.model import model_group
from aisec.core.controls import ControlResult
from aisec.core.evidence import EvidenceStore, generate_keypair
from aisec.core.frameworks import load_catalog
from aisec.core.predicates.deployment import ConvertPredicate, ScanPredicate, ScanVerdict
from aisec.deployment import RULES

SARIF_SCHEMA = Path(__file__).parents[1] / "assets" / "sarif-schema-2.1.0.json"


@pytest.fixture(autouse=True)
def registered() -> Iterator[None]:
    previous = cli.commands.get("model")
    cli.add_command(model_group)
    yield
    if previous is not None:
        cli.add_command(previous)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_scan_exit_codes_and_warning_without_key(corpus, capsys) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run(capsys, "model", "scan", str(corpus.root / "p4_exec.pkl"))
    assert code == 1
    assert "AISEC-DEP-001" in out and "builtins.exec" in out
    assert "no signing key" in err
    code, out, _ = run(capsys, "model", "scan", str(corpus.root / "array.npy"))
    assert code == 0
    assert "CLEAN" in out
    code, _, _ = run(
        capsys,
        "model",
        "scan",
        "--fail-on",
        "critical",
        "--no-record",
        str(corpus.root / "unknown_module.pkl"),
    )
    assert code == 0


def test_sarif_is_valid_and_levels_follow_severity(corpus, capsys) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run(
        capsys,
        "model",
        "scan",
        "-f",
        "sarif",
        "--no-record",
        str(corpus.root / "crc_mismatch.pt"),
        str(corpus.root / "custom_domain.onnx"),
    )
    assert code == 1
    doc = json.loads(out)
    jsonschema.validate(doc, json.loads(SARIF_SCHEMA.read_text()))
    results = doc["runs"][0]["results"]
    levels = {r["ruleId"]: r["level"] for r in results}
    assert levels["AISEC-DEP-001"] == "error"
    assert levels["AISEC-DEP-008"] == "warning"
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results}
    assert any(u.endswith("crc_mismatch.pt") for u in uris)
    assert any("archive/data.pkl" in r["message"]["text"] for r in results)


def test_scan_records_attestation_for_every_file(
    corpus,
    capsys,
    tmp_path: Path,  # type: ignore[no-untyped-def]
    store_url: str,
) -> None:
    key = tmp_path / "k.key"
    generate_keypair(key)
    db = store_url
    config = tmp_path / "config.json"
    config.write_text('{"model_type": "bert"}')
    code, out, err = run(
        capsys,
        "model",
        "scan",
        "-f",
        "json",
        "--key",
        str(key),
        "--db",
        db,
        str(corpus.root / "array.npy"),
        str(corpus.root / "eval.bin"),
        str(config),
    )
    assert code == 1
    report = json.loads(out)
    assert report["schema"] == "aisec.model-scan/v1"
    assert "recorded entry" in err
    with EvidenceStore.open(db) as store:
        entries = store.entries(predicate_type=ScanPredicate.predicate_type())
        assert len(entries) == 1
        scan = ScanPredicate.from_statement(entries[0].statement)
    files = {Path(f.path).name: f for f in scan.files}
    assert files["array.npy"].verdict is ScanVerdict.CLEAN
    assert files["eval.bin"].verdict is ScanVerdict.UNSAFE
    assert files["config.json"].verdict is ScanVerdict.CLEAN
    assert files["config.json"].format == "hf-config"  # read for auto_map and templates
    assert scan.result is ControlResult.FAIL
    assert len(scan.subjects) == 3
    assert {s.digest for s in scan.subjects} == {f.digest for f in files.values()}


def test_convert_cli_records_and_refuses(corpus, capsys, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    key = tmp_path / "k.key"
    generate_keypair(key)
    db = f"sqlite:///{tmp_path / 'ev.db'}"
    out_file = tmp_path / "a.safetensors"
    code, out, err = run(
        capsys,
        "model",
        "convert",
        str(corpus.root / "arrays.npz"),
        "--to",
        "safetensors",
        "-o",
        str(out_file),
        "--key",
        str(key),
        "--db",
        db,
    )
    assert code == 0, err
    assert out_file.exists() and "2 tensors" in out
    with EvidenceStore.open(db) as store:
        assert store.entries(predicate_type=ConvertPredicate.predicate_type())
    code, _, err = run(
        capsys,
        "model",
        "convert",
        str(corpus.root / "p0_os_system.pkl"),
        "-o",
        str(tmp_path / "b.safetensors"),
        "--no-record",
    )
    assert code == 2
    assert err.startswith("aisec: error: ") and "not clean" in err


def test_rule_framework_ids_resolve_in_the_catalog() -> None:
    catalog = load_catalog()
    for rule in RULES:
        catalog.check_refs(atlas=rule.mappings.atlas, owasp=rule.mappings.owasp_llm)
