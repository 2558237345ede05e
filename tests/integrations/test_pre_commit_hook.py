"""The hook in .pre-commit-hooks.yaml, run by pre-commit itself on a repository of models.

``pre-commit try-repo`` installs the hook's environment from this checkout with pip (from the
wheelhouse in conftest.py, offline) and runs it on every file of a fresh git repository. With
uncommitted changes in the checkout, pre-commit runs the working tree's state.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT, offline_pip_env

pytest.importorskip("pre_commit", reason="pre-commit is a dev extra")


class _Payload:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, (f"touch {self.marker}",))


def _git_repo(folder: Path, files: dict[str, bytes]) -> Path:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    folder.mkdir()
    for name, data in files.items():
        (folder / name).write_bytes(data)
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.invalid",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.invalid",
    }
    for args in (["init", "-q"], ["add", "."], ["commit", "-q", "-m", "models"]):
        subprocess.run(["git", *args], cwd=folder, env=env, check=True, timeout=60)
    return folder


def _try_repo(repo: Path, wheelhouse: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = offline_pip_env(wheelhouse, PRE_COMMIT_HOME=str(home))
    env.pop("PYTHONPATH", None)
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), "aisec-model-scan",
         "--all-files", "--color", "never"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )  # fmt: skip


def test_hook_refuses_a_malicious_pickle(tmp_path: Path, wheelhouse: Path) -> None:
    marker = tmp_path / "payload-ran"
    repo = _git_repo(
        tmp_path / "models",
        {
            "classifier.pkl": pickle.dumps(_Payload(marker)),
            "config.json": json.dumps({"layers": 2}).encode(),
        },
    )
    result = _try_repo(repo, wheelhouse, tmp_path / "pre-commit-home")
    assert result.returncode != 0, result.stdout + result.stderr
    assert "aisec model scan" in result.stdout and "Failed" in result.stdout
    assert "AISEC-DEP-001" in result.stdout and "classifier.pkl" in result.stdout
    assert not marker.exists()


def test_hook_passes_a_benign_model(tmp_path: Path, wheelhouse: Path) -> None:
    header = json.dumps({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}).encode()
    repo = _git_repo(
        tmp_path / "models",
        {"model.safetensors": len(header).to_bytes(8, "little") + header + bytes(4)},
    )
    result = _try_repo(repo, wheelhouse, tmp_path / "pre-commit-home")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Passed" in result.stdout
