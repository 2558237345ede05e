"""The core install (no extras) scans, signs and verifies; every other stage names its extra.

This test runs the CLI in a subprocess whose import system refuses every package that only an
extra installs — the same ModuleNotFoundError a core-only install raises — so it covers every
command quickly and offline. test_clean_venv.py makes the real thing: the wheel installed alone
into a fresh venv.
"""

from __future__ import annotations

import pickle
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

_RUNNER = textwrap.dedent(
    """
    import importlib.abc, sys

    BLOCKED = set(sys.argv[1].split(","))

    class Refuse(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None

    sys.meta_path.insert(0, Refuse())
    from aisec.cli import main
    sys.exit(main(sys.argv[2:]))
    """
)


def _core_requirements() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = set()
    for req in project["dependencies"]:
        name = req.split(">")[0].split("=")[0].split("[")[0].split("<")[0].strip()
        names.add(name.lower())
    return names


# import names of the packages that only an extra brings
_EXTRA_ONLY = (
    "polars,numpy,scipy,sklearn,cleanlab,aiohttp,redis,datasketch,prometheus_client,"
    "starlette,uvicorn,multipart,python_multipart,safetensors,httpx,cyclonedx,psycopg,"
    "ray,torch,h5py,pandas,pyarrow,rapidfuzz,orjson,regex,hcl2,phonenumbers,art,fairlearn,onnxruntime,skops,skl2onnx"
)


def _run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _RUNNER, _EXTRA_ONLY, *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )


def test_core_dependencies_are_the_light_set() -> None:
    assert _core_requirements() == {
        "click",
        "rich",
        "pydantic",
        "sqlalchemy",
        "cryptography",
        "pyyaml",
        "jinja2",
    }


def test_core_install_scans_and_signs(tmp_path: Path) -> None:
    class Boom:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (eval, ("1+1",))

    (tmp_path / "bad.pkl").write_bytes(pickle.dumps(Boom()))
    (tmp_path / "good.pkl").write_bytes(pickle.dumps({"weights": [1.0, 2.0]}))

    assert _run(tmp_path, "--help").returncode == 0
    bad = _run(tmp_path, "model", "scan", "bad.pkl", "--format", "json")
    assert bad.returncode == 1, bad.stderr
    assert "critical" in bad.stdout
    good = _run(tmp_path, "model", "scan", "good.pkl")
    assert good.returncode == 0, good.stderr

    key = _run(tmp_path, "keys", "generate", "--out", "k")
    assert key.returncode == 0, key.stderr


@pytest.mark.parametrize(
    ("args", "extra"),
    [
        (("data", "audit", "x.csv", "--label", "b"), "data"),
        (("inventory", "discover", "."), "inventory"),
        (("dashboard",), "dashboard"),
    ],
)
def test_missing_extra_names_the_install_line(
    tmp_path: Path, args: tuple[str, ...], extra: str
) -> None:
    (tmp_path / "x.csv").write_text("a,b\n1,2\n")
    assert _run(tmp_path, "keys", "generate").returncode == 0
    result = _run(tmp_path, *args)
    assert result.returncode == 2, result.stderr
    assert f"pip install 'aisec[{extra}]'" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
