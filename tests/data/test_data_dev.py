"""The data audit on the shared development delivery, scored against its TRUTH.json.

The goals are the issue's: label issues P and R >= 0.95, backdoor rows found with the
trigger named, gross errors found, leaks found with no false pair, no drift alarm on the
clean reference and exactly the drifted columns on the drifted delivery, PII recall 1
with no decoy, the risky sources ranked first. The data lives outside the repository
(``$AISEC_EVAL_DIR``, ``<repo>/../shared/eval`` or ``/work/shared/eval``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from _devscore import eval_dir, run_dev

from aisec.data import audit_dataset


@pytest.fixture(scope="module")
def dev() -> dict[str, Any]:
    root = eval_dir()
    if root is None:
        pytest.skip("evaluation data not found (set AISEC_EVAL_DIR to the shared eval folder)")
    return run_dev(root)


def test_label_issues(dev: dict[str, Any]) -> None:
    s = dev["scores"]["label_issues"]
    assert s.precision >= 0.95 and s.recall >= 0.95, s


def test_backdoor_found_and_named(dev: dict[str, Any]) -> None:
    s = dev["scores"]["backdoor"]
    assert s.recall >= 0.9 and s.flagged - s.hit <= 10, s
    assert dev["scores"]["trigger_named"]
    trig = dev["reports"]["main"]["triggers"]
    assert len({t["source"] for t in trig}) == 1


def test_gross_errors_ranked_first(dev: dict[str, Any]) -> None:
    s = dev["scores"]["outliers"]
    assert s.recall >= 0.9 and s.precision >= 0.9, s
    causes = {g["cause"] for g in dev["reports"]["main"]["gross_errors"]}
    assert any(c.startswith("unit mix-up") for c in causes)
    assert any(c.startswith("digit or decimal slip") for c in causes)


def test_duplicates(dev: dict[str, Any]) -> None:
    s = dev["scores"]["duplicates"]
    assert s.recall >= 0.9 and s.precision >= 0.9, s


def test_leakage(dev: dict[str, Any]) -> None:
    s = dev["scores"]["pairs"]
    assert s.recall >= 0.9, s
    assert dev["scores"]["false_pairs"] == 0


def test_drift_no_false_alarm(dev: dict[str, Any]) -> None:
    assert dev["scores"]["drift_false_alarms"] == []
    assert dev["scores"]["drifted_found"] == dev["scores"]["drifted_truth"]


def test_pii(dev: dict[str, Any]) -> None:
    s = dev["scores"]["pii"]
    assert s.recall == 1.0 and s.precision == 1.0, s
    assert dev["scores"]["pii_decoys_flagged"] == 0


def test_source_ranking(dev: dict[str, Any]) -> None:
    assert dev["scores"]["top3"]
    assert dev["scores"]["first"]
    assert dev["scores"]["kendall_tau"] >= 0.8


def test_every_row_checked(dev: dict[str, Any]) -> None:
    rep = dev["reports"]["main"]
    assert rep["rows_checked"]["model_based"]["rows"] == rep["dataset"]["rows"]
    assert rep["rows_checked"]["model_based"]["note"] == "every row"


def test_formats_give_identical_risks(dev: dict[str, Any]) -> None:
    root = eval_dir()
    assert root is not None
    main = dev["reports"]["main"]
    want = [(s["name"], s["risk"], s["ci"], s["components"]) for s in main["sources"]]
    roles = {k: main[k] for k in ("label", "source_column", "id_column")}
    for fmt in ("parquet", "jsonl"):
        rep = audit_dataset(
            Path(main["dataset"]["path"]).with_suffix(f".{fmt}"),
            reference=Path(root) / "data-dev" / "reference.csv",
            **roles,
        )
        got = [(s["name"], s["risk"], s["ci"], s["components"]) for s in rep["sources"]]
        assert got == want, fmt
        assert rep["checks"] == main["checks"]
