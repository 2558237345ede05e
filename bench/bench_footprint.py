"""Claim: `pip install aisec` (the core) is a light install next to the scanners it sits beside.

Each tool is installed from PyPI into its own fresh venv in the same run (`python -m venv`,
then that venv's pip), and measured the same way by a probe run with that venv's python:
the distributions it holds and the bytes under its site-packages, pip, setuptools and wheel
left out of both. aisec is this checkout, built into a wheel first (`pip wheel --no-deps`);
its dependencies come from PyPI like everyone else's.

garak is not installed (it pulls torch and several GB of CUDA libraries): pip resolves it with
`pip install --dry-run --ignore-installed --report`, and its row is the sum of the wheel sizes
PyPI's JSON API gives for the resolved files — download size, not installed size, marked so.

pip runs with no configuration file and no find-links (PIP_CONFIG_FILE=os.devnull), so every
package comes from the public index whatever this machine's pip.conf says.

    .venv/bin/python bench/bench_footprint.py [--with-all] [--format text|json] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
INSTALLED = ["picklescan", "modelscan", "pip-audit"]
RESOLVED_ONLY = ["garak"]
PYPI_JSON = "https://pypi.org/pypi/{name}/json"

# run inside each venv: count and size what is installed, the installer itself left out
_PROBE = r"""
import importlib.metadata as m, json, pathlib, sysconfig
site = pathlib.Path(sysconfig.get_paths()["purelib"]).resolve()
skip = {"pip", "setuptools", "wheel"}
names, installer = set(), set()
for d in m.distributions():
    name = (d.metadata["Name"] or "").lower().replace("_", "-")
    if name in skip:
        installer.update(str(pathlib.Path(d.locate_file(f)).resolve()) for f in d.files or ())
    else:
        names.add(name)
size = 0
for f in site.rglob("*"):
    if f.is_file() and not f.is_symlink() and str(f.resolve()) not in installer:
        if f.parts[len(site.parts)].split("-")[0].split(".")[0] in ("_distutils_hack",
                                                                   "pkg_resources"):
            continue
        size += f.stat().st_size
print(json.dumps({"packages": sorted(names), "bytes": size}))
"""


def _pip_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1")
    if "PIP_CERT" in os.environ:
        env["PIP_CERT"] = os.environ["PIP_CERT"]
    return env


def _run(cmd: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(cmd, capture_output=True, text=True, env=_pip_env(), **kwargs)
    if proc.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{proc.stderr[-2000:]}")
    return proc


def build_wheel(work: Path) -> Path:
    _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(work), str(ROOT)])
    return next(work.glob("aisec-*.whl"))


def measure_installed(label: str, requirement: str, work: Path) -> dict[str, Any]:
    venv = work / label.replace("[", "-").replace("]", "")
    _run([sys.executable, "-m", "venv", str(venv)])
    python = str(venv / "bin" / "python")
    start = time.perf_counter()
    _run([python, "-m", "pip", "install", "-q", requirement])
    seconds = time.perf_counter() - start
    probe = json.loads(_run([python, "-c", _PROBE]).stdout)
    return {
        "tool": label,
        "packages": len(probe["packages"]),
        "mb": probe["bytes"] / 1e6,
        "measure": "installed site-packages",
        "install_seconds": round(seconds, 1),
        "names": probe["packages"],
    }


def _wheel_size(name: str, version: str, url: str) -> int:
    """The size PyPI's JSON API gives for one release file (its Content-Length otherwise)."""
    filename = url.rsplit("/", 1)[-1].split("#")[0]
    with urllib.request.urlopen(PYPI_JSON.format(name=name), timeout=60) as response:  # noqa: S310
        release = json.load(response)
    for entry in release.get("releases", {}).get(version, []):
        if entry["filename"] == filename:
            return int(entry["size"])
    request = urllib.request.Request(url, method="HEAD")  # noqa: S310 - the URL pip resolved
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
        return int(response.headers["Content-Length"])


def measure_resolved(name: str, work: Path) -> dict[str, Any]:
    report = work / f"{name}-report.json"
    _run(
        [sys.executable, "-m", "pip", "install", "-q", "--dry-run", "--ignore-installed",
         "--report", str(report), name]
    )  # fmt: skip
    installs = json.loads(report.read_text())["install"]
    names = [item["metadata"]["name"].lower().replace("_", "-") for item in installs]
    # one JSON request per package: I/O bound, so a few at a time
    with ThreadPoolExecutor(max_workers=8) as pool:
        sizes = pool.map(
            lambda item: _wheel_size(
                item["metadata"]["name"], item["metadata"]["version"], item["download_info"]["url"]
            ),
            installs,
        )
        total = sum(sizes)
    return {
        "tool": name,
        "packages": len(names),
        "mb": total / 1e6,
        "measure": "download size of the resolved wheels (not installed)",
        "install_seconds": None,
        "names": sorted(names),
    }


def _machine() -> dict[str, str]:
    uptime = shutil.which("uptime")
    load = subprocess.run([uptime], capture_output=True, text=True).stdout.strip() if uptime else ""
    return {"python": sys.version.split()[0], "uptime": load}


def render_text(rows: list[dict[str, Any]]) -> str:
    lines = [f"{'tool':<12} {'packages':>8} {'MB':>8} {'pkgs/core':>9} {'MB/core':>8}  measured as"]
    for row in rows:
        mark = "*" if row["install_seconds"] is None else " "
        lines.append(
            f"{row['tool']:<12} {row['packages']:>8} {row['mb']:>8.1f} "
            f"{row['packages_vs_core']:>9.2f} {row['mb_vs_core']:>8.2f} {mark} {row['measure']}"
        )
    lines.append(
        "* resolved by pip from PyPI, not installed: wheel download size, not installed size"
    )
    lines.append(f"aisec core: {', '.join(rows[0]['names'])}")
    machine = _machine()
    lines.append(f"machine: python {machine['python']}; {machine['uptime']}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--with-all", action="store_true", help="also measure aisec[all]")
    parser.add_argument("-f", "--format", choices=["text", "json"], default="text")
    parser.add_argument("--keep", type=Path, help="build the venvs here and keep them")
    args = parser.parse_args()

    work = args.keep or Path(tempfile.mkdtemp(prefix="aisec-footprint-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        wheel = build_wheel(work / "dist")
        rows = [measure_installed("aisec", str(wheel), work)]
        if args.with_all:
            rows.append(measure_installed("aisec[all]", f"aisec[all] @ {wheel.as_uri()}", work))
        rows += [measure_installed(tool, tool, work) for tool in INSTALLED]
        rows += [measure_resolved(tool, work) for tool in RESOLVED_ONLY]
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    core = rows[0]
    for row in rows:
        row["packages_vs_core"] = round(row["packages"] / core["packages"], 2)
        row["mb_vs_core"] = round(row["mb"] / core["mb"], 2)
        row["mb"] = round(row["mb"], 1)

    if args.format == "json":
        print(json.dumps({"machine": _machine(), "rows": rows}, indent=2))
        return 0
    print(render_text(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
