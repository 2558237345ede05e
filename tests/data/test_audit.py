"""The audit finds injected problems, measured by precision and recall against floors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
from _data_factory import (
    Injected,
    base,
    flip_random,
    hospital_like,
    make_frame,
    random_flips,
    write,
)

from aisec.core.errors import InputError
from aisec.core.stats import wilson
from aisec.data import audit_dataset, audit_statement


def rows_with(report: dict[str, Any], *checks: str) -> set[int]:
    return {
        r["row"] for r in report["flagged_rows"] if any(c["check"] in checks for c in r["checks"])
    }


def precision_recall(found: set[int], truth: set[int]) -> tuple[float, float]:
    tp = len(found & truth)
    return tp / max(len(found), 1), tp / max(len(truth), 1)


@pytest.fixture(scope="module")
def poisoned(tmp_path_factory: pytest.TempPathFactory) -> tuple[Injected, dict[str, Any]]:
    inj = hospital_like(seed=0)
    path = write(inj.frame, tmp_path_factory.mktemp("d") / "hosp.parquet")
    report = audit_dataset(path, label="label", source_column="source", id_column="id")
    return inj, report


def test_noisy_and_poisoned_sources_rank_riskiest(
    poisoned: tuple[Injected, dict[str, Any]],
) -> None:
    _, report = poisoned
    ranked = [s["name"] for s in report["sources"]]
    assert set(ranked[:2]) == {"noisy", "poisoned"}
    clean = [s for s in report["sources"] if s["name"].startswith("hosp")]
    worst_bad = min(s["risk"] for s in report["sources"] if s["name"] in ("noisy", "poisoned"))
    assert all(s["risk"] < worst_bad for s in clean)
    for s in report["sources"]:
        assert s["ci"][0] <= s["risk"] <= s["ci"][1]
        assert {"label_issues", "poisoning", "provenance"} <= s["components"].keys()
    noisy = next(s for s in report["sources"] if s["name"] == "noisy")
    lo, hi = noisy["components"]["label_issues"]["ci"]
    assert lo > 0.1 and hi < 0.4  # 25 % injected


def test_label_issues_precision_recall(poisoned: tuple[Injected, dict[str, Any]]) -> None:
    inj, report = poisoned
    # a backdoor row is mislabelled too: flagging it is not a false alarm
    p, r = precision_recall(rows_with(report, "label_issue") - inj.poisoned, inj.flipped)
    assert p >= 0.7 and r >= 0.7, (p, r)


def test_backdoor_trigger_found(poisoned: tuple[Injected, dict[str, Any]]) -> None:
    inj, report = poisoned
    p, r = precision_recall(rows_with(report, "trigger_feature"), inj.poisoned)
    assert p >= 0.9 and r >= 0.9, (p, r)
    trig = report["triggers"]
    assert trig and {t["source"] for t in trig} == {"poisoned"}
    assert {c["column"] for t in trig for c in t["conditions"]} <= {"f00", "f01", "f08", "f09"}
    ids = {f["id"] for f in report["findings"]}
    assert {"AISEC-DAT-006", "AISEC-DAT-005", "AISEC-DAT-011"} <= ids


def test_attestation_predicate_shape(poisoned: tuple[Injected, dict[str, Any]]) -> None:
    _, report = poisoned
    st = audit_statement(report)
    assert st.predicate_type == "urn:aisec:predicate:data/audit:v1"
    assert st.subjects[0].digest == report["dataset"]["digest"]
    assert 0 <= st.predicate["risk"]["overall"] <= 1
    assert {"name", "risk", "ci"} <= st.predicate["sources"][0].keys()


@pytest.mark.parametrize("name", ["breast_cancer"])
def test_random_flips_one_source(tmp_path: Path, name: str) -> None:
    inj = random_flips(name, 0.05, seed=0)
    path = write(inj.frame, tmp_path / "d.csv")
    report = audit_dataset(path, label="label", id_column="id")
    # a backdoor row is mislabelled too: flagging it is not a false alarm
    p, r = precision_recall(rows_with(report, "label_issue") - inj.poisoned, inj.flipped)
    assert p >= 0.7 and r >= 0.7, (p, r)
    assert report["flagged_rows"][0]["id"].startswith("r")


def test_targeted_flips_in_one_source(tmp_path: Path) -> None:
    x, y, cols = base("wine")
    rng = np.random.default_rng(1)
    src = np.array(["a", "b", "c"])[rng.integers(0, 3, size=len(y))]
    target = np.flatnonzero((src == "c") & (y == 0))
    flipped = rng.choice(target, size=int(len(target) * 0.5), replace=False)
    y = y.copy()
    y[flipped] = 1
    path = write(make_frame(x, y, cols, src.tolist()), tmp_path / "w.jsonl")
    report = audit_dataset(path, label="label", source_column="source")
    assert report["sources"][0]["name"] == "c"
    p, r = precision_recall(rows_with(report, "label_issue"), {int(i) for i in flipped})
    assert r >= 0.6 and p >= 0.5, (p, r)


def test_duplicates_leakage_drift_pii(tmp_path: Path) -> None:
    x, y, cols = base("breast_cancer")
    rng = np.random.default_rng(2)
    y = flip_random(y, np.array([], dtype=int), rng)
    frame = make_frame(x, y, cols, ["s"] * len(y))
    notes = ["ok"] * len(y)
    pii_rows = {
        3: "mail jane.doe@example.org",
        7: "call 555-123-4567 today",
        9: "ssn 123-45-6789",
        11: "card 4111 1111 1111 1111",
        13: "card 4111 1111 1111 1112",
        15: "from 10.0.0.7",
    }
    for i, text in pii_rows.items():
        notes[i] = text
    frame = frame.with_columns(pl.Series("note", notes))
    dup_src = frame[20:30].with_columns(pl.Series("id", [f"d{i}" for i in range(10)]))
    near = frame[40:45].with_columns(
        pl.col("f00") * 1.0001, pl.Series("id", [f"n{i}" for i in range(5)])
    )
    train = pl.concat([frame, dup_src, near])
    test = frame[100:110]
    idx = pl.int_range(pl.len())
    shift = pl.when((idx >= 200) & (idx < len(y))).then(pl.col("f03") * 1.8).otherwise("f03")
    current = train.with_columns(shift.alias("f03"))
    p_train = write(current, tmp_path / "train.csv")
    p_test = write(test, tmp_path / "test.csv")
    p_ref = write(frame, tmp_path / "ref.parquet")
    report = audit_dataset(
        p_train, label="label", id_column="id", reference=p_ref, test_split=p_test
    )
    exact = {tuple(d["ids"]) for d in report["duplicates"] if d["kind"] == "exact"}
    assert {(f"r{20 + i:05d}", f"d{i}") for i in range(10)} <= exact
    near_pairs = {tuple(d["ids"]) for d in report["duplicates"] if d["kind"] == "near"}
    assert {(f"r{40 + i:05d}", f"n{i}") for i in range(5)} <= near_pairs
    leaked = {d["ids"][0] for d in report["leakage"]}
    assert {f"r{i:05d}" for i in range(100, 110)} <= leaked
    drifted = {d["column"] for d in report["drift"] if d["drifted"]}
    assert "f03" in drifted and len(drifted) <= 3, drifted
    pii = {p["id"]: p["kinds"] for p in report["pii"]}
    assert pii["r00003"] == ["email"]
    assert pii["r00007"] == ["phone"]
    assert pii["r00009"] == ["ssn"]
    assert pii["r00011"] == ["credit_card"]
    assert "r00013" not in pii  # fails the Luhn check
    assert pii["r00015"] == ["ip_address"]
    ids = {f["id"] for f in report["findings"]}
    assert {"AISEC-DAT-003", "AISEC-DAT-004", "AISEC-DAT-008", "AISEC-DAT-009"} <= ids


def test_missing_label_column_is_input_error(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(InputError, match="no label column 'label'"):
        audit_dataset(path, label="label")


def test_continuous_label_is_rejected(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    frame = pl.DataFrame({"a": rng.normal(size=400), "y": rng.normal(size=400)})
    path = write(frame, tmp_path / "d.csv")
    with pytest.raises(InputError, match="classification label"):
        audit_dataset(path, label="y")


def test_wilson_interval() -> None:
    lo, hi = wilson(10, 100)
    assert lo == pytest.approx(0.0552, abs=1e-3) and hi == pytest.approx(0.1744, abs=1e-3)
    assert wilson(0, 0) == (0.0, 1.0)
