"""``aisec frameworks list|show|import`` and ``aisec lifecycle``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aisec.cli import main
from aisec.core.frameworks import MAX_IMPORT_BYTES

SMALL_ATLAS = """\
version: 9.9.0
matrices:
- id: ATLAS
  name: ATLAS Matrix
  tactics:
  - id: AML.TA0010
    name: Exfiltration
  techniques:
  - id: AML.T0024
    name: Exfiltration via AI Inference API
    description: "Imported description: \\x1b[31mred\\x1b[0m [not markup] text."
    tactics: [AML.TA0010]
  mitigations: []
"""


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code: int, out: str, err: str) -> str:
    assert code == 2
    assert out == ""
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("aisec: error: ")
    assert "Traceback" not in err
    return lines[0]


def test_list_frameworks(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "frameworks", "list")
    assert code == 0
    for key in ("atlas", "owasp-llm-2025", "saif", "nist-ai-rmf", "iso-42001", "cosai"):
        assert key in out
    code, out, _ = run(capsys, "frameworks", "list", "-f", "json")
    doc = json.loads(out)
    assert doc["schema"] == "aisec.frameworks/v1"
    assert {f["key"]: f["entries"] for f in doc["frameworks"]}["owasp-llm-2025"] == 10
    assert doc["atlas_overlay"] is None


def test_list_one_framework(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "frameworks", "list", "--framework", "atlas", "-f", "json")
    assert code == 0
    doc = json.loads(out)
    assert doc["framework"] == "atlas" and len(doc["entries"]) == 221
    code, out, _ = run(
        capsys, "frameworks", "list", "--framework", "nist-ai-rmf", "--kind", "function"
    )
    assert code == 0
    assert "GOVERN" in out and "MANAGE" in out and "GOVERN 1.1" not in out


def test_list_unknown_framework_is_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert_one_line_error(*run(capsys, "frameworks", "list", "--framework", "nope"))


def test_show_text_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "frameworks", "show", "aml.t0024")
    assert code == 0
    assert "AML.T0024" in out and "Exfiltration via AI Inference API" in out
    assert "AML.T0024.002" in out  # its sub-techniques
    assert "aisec frameworks import" in out  # no description shipped
    code, out, _ = run(capsys, "frameworks", "show", "llm01:2025", "-f", "json")
    doc = json.loads(out)
    assert doc["schema"] == "aisec.frameworks/v1"
    assert doc["entry"]["id"] == "LLM01" and doc["entry"]["name"] == "Prompt Injection"
    assert "evaluation" in doc["lifecycle_stages"]


def test_show_unknown_id_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    line = assert_one_line_error(*run(capsys, "frameworks", "show", "AML.T9024"))
    assert "unknown framework id 'AML.T9024'" in line
    assert "closest matches: AML.T0024" in line


def test_show_to_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    target = tmp_path / "entry.json"
    code, out, _ = run(capsys, "frameworks", "show", "GV-1.6", "-f", "json", "-o", str(target))
    assert code == 0 and out == ""
    assert json.loads(target.read_text("utf-8"))["entry"]["id"] == "GOVERN 1.6"


def test_lifecycle_overview(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "lifecycle")
    assert code == 0
    for name in ("Data", "Training", "Evaluation", "Deployment", "Inference", "Monitoring"):
        assert name in out
    code, out, _ = run(capsys, "lifecycle", "-f", "json")
    doc = json.loads(out)
    assert doc["schema"] == "aisec.lifecycle/v1"
    assert [s["id"] for s in doc["stages"]] == [
        "data",
        "training",
        "evaluation",
        "deployment",
        "inference",
        "monitoring",
    ]
    assert len(doc["roles"]) == 12
    assert doc["core_controls"][0]["id"] == "core/artifact"


def test_lifecycle_one_stage(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # wide enough that no cell folds
    code, out, _ = run(capsys, "lifecycle", "guard")
    assert code == 0
    assert "Inference" in out and "AML.T0024" in out and "aisec guard serve" in out
    assert "urn:aisec:predicate:inference/alert:v2" in out
    assert "SAIF-3" in out and "AI Red Teamer" in out
    code, out, _ = run(capsys, "lifecycle", "4", "-f", "json")
    stage = json.loads(out)["stage"]
    assert stage["id"] == "deployment"
    assert {c["id"] for c in stage["controls"]} == {
        "deployment/model-scan",
        "deployment/convert",
        "deployment/model-signature",
        "deployment/gate",
    }
    assert {t["id"]: t["name"] for t in stage["threats"]}["AML.T0011.000"] == "Unsafe AI Artifacts"
    assert stage["roles"]["primary"]


def test_lifecycle_unknown_stage(capsys: pytest.CaptureFixture[str]) -> None:
    line = assert_one_line_error(*run(capsys, "lifecycle", "infer"))
    assert "closest matches: inference" in line


def test_import_then_show_prints_imported_text(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, isolated_home: Path
) -> None:
    source = tmp_path / "ATLAS.yaml"
    source.write_text(SMALL_ATLAS, encoding="utf-8")
    code, out, _ = run(capsys, "frameworks", "import", str(source))
    assert code == 0
    assert "9.9.0" in out and str(isolated_home / "frameworks" / "atlas.json") in out
    code, out, _ = run(capsys, "frameworks", "show", "AML.T0024")
    assert code == 0
    assert "Imported description:" in out and "[not markup]" in out
    assert "\x1b" not in out  # imported text cannot drive the terminal
    assert "MITRE ATLAS 9.9.0" in out
    code, out, _ = run(capsys, "frameworks", "show", "AML.T0024", "-f", "json")
    entry = json.loads(out)["entry"]
    assert entry["description"].startswith("Imported description:")
    assert "9.9.0" in entry["description_source"]
    code, out, _ = run(capsys, "frameworks", "import", str(source), "-f", "json")
    assert json.loads(out)["imported"]["techniques"] == 1


@pytest.mark.parametrize("content", ["version: [unclosed\n", "version: 1\nmatrices: 3\n"])
def test_bad_import_keeps_overlay(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, isolated_home: Path, content: str
) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(SMALL_ATLAS, encoding="utf-8")
    assert run(capsys, "frameworks", "import", str(good))[0] == 0
    overlay = isolated_home / "frameworks" / "atlas.json"
    before = overlay.read_bytes()
    bad = tmp_path / "bad.yaml"
    bad.write_text(content, encoding="utf-8")
    line = assert_one_line_error(*run(capsys, "frameworks", "import", str(bad)))
    assert str(bad) in line
    assert overlay.read_bytes() == before


def test_huge_or_missing_import(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, isolated_home: Path
) -> None:
    huge = tmp_path / "huge.yaml"
    with huge.open("wb") as fh:
        fh.truncate(MAX_IMPORT_BYTES + 1)
    line = assert_one_line_error(*run(capsys, "frameworks", "import", str(huge)))
    assert "larger than 50 MB" in line
    assert_one_line_error(*run(capsys, "frameworks", "import", str(tmp_path / "absent.yaml")))
    assert not (isolated_home / "frameworks").exists()
