"""The dev enterprise of the evaluation set: every system once, registered ones reconciled.

The data and its scorer live outside the repository (``$AISEC_EVAL_DIR``, then
``<repo>/../shared/eval``, then ``/work/shared/eval``); the test skips when they are absent.
Nothing of that data is in aisec: the scorer's verdict is the test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from aisec.monitoring import discover


@pytest.fixture(scope="module")
def dev_root() -> Path:
    cands = [os.environ.get("AISEC_EVAL_DIR", "")]
    cands += [
        str(Path(__file__).resolve().parents[2].parent / "shared" / "eval"),
        "/work/shared/eval",
    ]
    for c in cands:
        if c and (Path(c) / "enterprise-dev" / "TRUTH.json").is_file():
            return Path(c) / "enterprise-dev"
    pytest.skip("evaluation data (enterprise-dev) not found: set AISEC_EVAL_DIR")


def _run(root: Path, registry: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    inv = discover(
        registry=str(root / registry),
        logs=[root / "network", root / "cloudtrail"],
        billing=[root / "billing"],
        saas=[root / "saas"],
        code=[root / "repos"],
        assets=root / "assets" / "asset_inventory.csv",
        git=False,
    )
    assert not inv.skipped, inv.skipped
    out = tmp_path / "report.json"
    out.write_text(json.dumps(inv.to_json()), "utf-8")
    return subprocess.run(
        [sys.executable, str(root / "score.py"), str(root / "TRUTH.json"), str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    "registry", ["registry/ai_register.csv", "registry/mlflow_registered_models.json"]
)
def test_dev_enterprise_is_reconciled(dev_root: Path, tmp_path: Path, registry: str) -> None:
    res = _run(dev_root, registry, tmp_path)
    last = res.stdout.strip().splitlines()[-1]
    # exit 0: all found once, all registered reconciled, 0 false, 0 double, teams >= 90 %
    assert res.returncode == 0, res.stdout[-3000:]
    assert " 0 false, 0 double-counted" in last
