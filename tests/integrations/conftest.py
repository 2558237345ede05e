"""A local wheelhouse for the tests that install aisec the way a user does.

The clean-venv test and the pre-commit hook test both run ``pip install`` of aisec into a
fresh environment. Both point pip at one folder of wheels (``--no-index --find-links``): the
build backend and aisec's core dependencies, at the versions the test environment runs. The
folder lives in pytest's cache, so it is fetched from the package index once and every later
run installs offline; ``AISEC_TEST_WHEELHOUSE`` names another folder (a CI cache).
"""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _pins() -> str:
    """``name==version`` for every distribution of this environment but aisec itself."""
    seen: dict[str, str] = {}
    for dist in importlib.metadata.distributions():
        name = (dist.metadata["Name"] or "").lower()
        if name and name != "aisec" and name not in seen:
            seen[name] = dist.version
    return "".join(f"{name}=={version}\n" for name, version in sorted(seen.items()))


def _pip(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=cwd,
    )


@pytest.fixture(scope="session")
def wheelhouse(pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding hatchling and aisec's core dependencies as wheels."""
    configured = os.environ.get("AISEC_TEST_WHEELHOUSE")
    cache = getattr(pytestconfig, "cache", None)  # None under -p no:cacheprovider
    if configured:
        folder = Path(configured)
        folder.mkdir(parents=True, exist_ok=True)
    elif cache is not None:
        folder = cache.mkdir("aisec-wheelhouse")
    else:
        folder = tmp_path_factory.mktemp("aisec-wheelhouse")
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    wanted = [*pyproject["build-system"]["requires"], *pyproject["project"]["dependencies"]]
    constraints = folder / "constraints.txt"
    constraints.write_text(_pins())
    base = ["download", "--only-binary", ":all:", "--dest", str(folder), "-c", str(constraints)]
    # offline first: everything may already be here from an earlier run
    offline = _pip(*base, "--no-index", "--find-links", str(folder), *wanted)
    if offline.returncode != 0:
        online = _pip(*base, "--find-links", str(folder), *wanted)
        if online.returncode != 0:
            tail = (online.stderr.strip().splitlines() or ["(no output)"])[-1]
            pytest.fail(f"cannot fill the wheelhouse {folder} from the package index: {tail}")
    return folder


@pytest.fixture(scope="session")
def aisec_wheel(wheelhouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """aisec built from this checkout into a wheel, with its backend from the wheelhouse."""
    out = tmp_path_factory.mktemp("dist")
    built = _pip(
        "wheel", "--no-deps", "--no-index", "--find-links", str(wheelhouse),
        "--wheel-dir", str(out), str(ROOT),
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    (wheel,) = out.glob("aisec-*.whl")
    return wheel


def offline_pip_env(wheelhouse: Path, **extra: str) -> dict[str, str]:
    """The environment for a child pip that installs from the wheelhouse only."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env.update(
        PIP_NO_INDEX="1",
        PIP_FIND_LINKS=str(wheelhouse),
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        PIP_CONSTRAINT=str(wheelhouse / "constraints.txt"),
    )
    env.update(extra)
    return env
