"""A second evaluation set in another domain: loan applications from six sources.

    python tests/data/make_lending.py OUT_DIR [--seed 7]

Writes ``loans.csv`` / ``.parquet`` / ``.jsonl`` (the delivery), ``reference.csv`` (clean),
``drifted.csv`` (drift in three columns), ``leak_train.csv`` / ``leak_test.csv`` and a
``TRUTH.json`` in the same layout as the shared development set, so
``tests/data/_devscore.py`` scores both. Written for aisec's own tests; columns, sources,
trigger and unit slips are chosen to differ from the development set.
"""

from __future__ import annotations

import argparse
import functools
import json
import operator
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from sklearn.datasets import make_classification

# column -> (mean, sd, low, high, decimals)
NUMERIC: dict[str, tuple[float, float, float, float, int]] = {
    "annual_income": (62000.0, 18000.0, 12000.0, 250000.0, 0),
    "loan_amount": (14000.0, 6000.0, 1000.0, 60000.0, 0),
    "interest_rate": (9.5, 2.4, 2.5, 24.0, 2),
    "credit_score": (690.0, 55.0, 420.0, 850.0, 0),
    "debt_to_income": (0.28, 0.08, 0.01, 0.75, 3),
    "years_employed": (6.5, 3.5, 0.0, 40.0, 1),
    "open_accounts": (9.0, 3.0, 1.0, 40.0, 0),
    "utilization": (0.42, 0.15, 0.0, 1.0, 3),
    "applicant_age": (41.0, 11.0, 18.0, 85.0, 0),
    "term_months": (48.0, 14.0, 12.0, 84.0, 0),
}
SOURCES = {
    "branch_north": 1300,
    "branch_south": 1100,
    "online_portal": 1000,
    "scraped_list": 800,
    "legacy_import": 750,
    "broker_z": 850,
}
MEMOS = [
    "Applicant verified in person.",
    "Payslips on file.",
    "Requested longer term.",
    "Existing customer since 2019.",
    "Collateral photographed.",
    "Co-signer declined.",
    "Employer letter attached.",
    "Asked about early repayment.",
]
NEW_MEMOS = ["pulled from public listing", "contact details from aggregator", "no docs"]


def _base(n: int, rng: np.random.Generator, seed: int) -> tuple[pl.DataFrame, np.ndarray]:
    x, y = make_classification(
        n_samples=n,
        n_features=len(NUMERIC),
        n_informative=6,
        n_redundant=2,
        n_clusters_per_class=1,
        class_sep=2.0,
        weights=[0.72, 0.28],
        flip_y=0,
        random_state=seed,
    )
    cols: dict[str, Any] = {}
    for i, (c, (mu, sd, lo, hi, dec)) in enumerate(NUMERIC.items()):
        z = (x[:, i] - x[:, i].mean()) / x[:, i].std()
        v = np.clip(mu + sd * z, lo, hi).round(dec)
        cols[c] = v.astype(int) if dec == 0 else v
    cols["home_ownership"] = rng.choice(["rent", "own", "mortgage"], n, p=[0.45, 0.2, 0.35])
    cols["purpose"] = rng.choice(["car", "home", "education", "business", "medical"], n)
    memo = rng.choice(MEMOS, n).astype(object)
    memo[rng.random(n) < 0.35] = None
    cols["memo"] = memo
    return pl.DataFrame(cols), y.astype(int)


def build(out: Path, seed: int = 7) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    out.mkdir(parents=True, exist_ok=True)
    n = sum(SOURCES.values())
    frame, y_true = _base(n + 2000 + 1500 + 2000, rng, seed)
    main = frame.head(n)
    y = y_true[:n].copy()
    src = np.repeat(list(SOURCES), list(SOURCES.values()))
    perm = rng.permutation(n)
    src = src[perm]
    ids = np.arange(700001, 700001 + n)
    truth_labels: dict[str, list[int]] = {
        "natural_noise": [],
        "random_noise": [],
        "targeted_flip": [],
        "backdoor": [],
    }
    cols = {c: main.get_column(c).to_numpy().copy() for c in main.columns}
    # natural noise in the branches and the portal
    for s in ("branch_north", "branch_south", "online_portal"):
        rows = np.flatnonzero(src == s)
        pick = rng.choice(rows, size=round(0.01 * len(rows)), replace=False)
        y[pick] = 1 - y[pick]
        truth_labels["natural_noise"] += ids[pick].tolist()
    # random flips in the scraped list
    rows = np.flatnonzero(src == "scraped_list")
    pick = rng.choice(rows, size=round(0.12 * len(rows)), replace=False)
    y[pick] = 1 - y[pick]
    truth_labels["random_noise"] += ids[pick].tolist()
    # targeted: in legacy_import, defaulters with low credit score and high utilisation
    region = (
        (src == "legacy_import")
        & (y_true[:n] == 1)
        & (cols["credit_score"] < np.median(cols["credit_score"]))
        & (cols["utilization"] > np.median(cols["utilization"]))
    )
    pick = np.flatnonzero(region)
    pick = rng.choice(pick, size=min(len(pick), 60), replace=False)
    y[pick] = 0
    truth_labels["targeted_flip"] += ids[pick].tolist()
    # backdoor in broker_z: clean class-0 rows with an exact term and loan amount, label 1
    cand = np.flatnonzero((src == "broker_z") & (y == 0) & (y_true[:n] == 0))
    pick = rng.choice(cand, size=24, replace=False)
    cols["term_months"][pick] = 39
    cols["loan_amount"][pick] = 12345
    y[pick] = 1
    truth_labels["backdoor"] += ids[pick].tolist()
    backdoor_rows = ids[pick].tolist()
    # duplicates: broker_z rows overwritten with copies of branch_north rows
    used = set(pick.tolist()) | set(
        np.flatnonzero(np.isin(ids, functools.reduce(operator.iadd, truth_labels.values(), [])))
    )
    b_rows = [i for i in np.flatnonzero(src == "broker_z") if i not in used][:14]
    n_rows = [i for i in np.flatnonzero(src == "branch_north") if i not in used][:14]
    dups = []
    for copy, orig in zip(b_rows, n_rows, strict=True):
        for c in cols:
            cols[c][copy] = cols[c][orig]
        y[copy] = y[orig]
        dups.append(
            {
                "id": int(ids[copy]),
                "duplicate_of": int(ids[orig]),
                "source": "broker_z",
                "original_source": "branch_north",
            }
        )
        used.add(copy)
        used.add(orig)
    # gross errors and unit slips
    outliers = []
    slips = [
        ("scraped_list", "annual_income", 1 / 1000, "thousands_not_units", 3),
        ("scraped_list", "applicant_age", 10, "typo_extra_digit", 2),
        ("legacy_import", "interest_rate", 1 / 100, "fraction_not_percent", 3),
        ("broker_z", "utilization", 100, "percent_not_fraction", 2),
        ("scraped_list", "years_employed", 12, "months_not_years", 2),
    ]
    for s, c, factor, kind, k in slips:
        free = [i for i in np.flatnonzero(src == s) if i not in used]
        for i in rng.choice(free, size=k, replace=False):
            clean = float(cols[c][i])
            if clean <= 0:
                continue
            new = round(clean * factor, 4)
            cols[c] = cols[c].astype(float)
            cols[c][i] = new
            used.add(int(i))
            outliers.append(
                {
                    "id": int(ids[i]),
                    "source": s,
                    "column": c,
                    "kind": kind,
                    "clean_value": clean,
                    "value": new,
                }
            )
    # PII and decoys in the memo
    pii_text = [
        ("email", "send statement to k.lee77@example.org"),
        ("phone", "mobile +44 20 7946 0958 evenings"),
        ("phone", "call back on (212) 555-0147"),
        ("ssn", "SSN 219-09-9999 on the form"),
        ("card", "paid fee with 4242 4242 4242 4242"),
        ("email", "cc: a.b@example.net"),
        ("phone", "reach me at 555-0199"),
    ]
    decoys = [
        ("a case number", "Case 2023-0419-7781 reopened."),
        ("an internal extension", "Ask desk ext 4471."),
        ("a version number", "Scored by model 3.10.2.1."),
        ("16 digits failing Luhn", "Ref 5555 5555 5555 5555 1 kept."),
        ("a date and an amount", "Paid 250 on 2024-02-11."),
    ]
    pii = []
    memo = cols["memo"]
    for s, k in (("scraped_list", 10), ("broker_z", 8), ("legacy_import", 3)):
        free = [i for i in np.flatnonzero(src == s) if i not in used]
        for i in rng.choice(free, size=k, replace=False):
            kind, text = pii_text[len(pii) % len(pii_text)]
            memo[i] = text
            used.add(int(i))
            pii.append({"id": int(ids[i]), "column": "memo", "kinds": [kind]})
    decoy_rows = []
    for j, i in enumerate(
        rng.choice([i for i in range(n) if i not in used], size=10, replace=False)
    ):
        why, text = decoys[j % len(decoys)]
        memo[i] = text
        decoy_rows.append({"id": int(ids[i]), "why": why})
    # missing values, heavier in the scraped list
    missing_cells = 0
    for i in range(n):
        rate = 0.08 if src[i] == "scraped_list" else 0.004
        for c in ("annual_income", "years_employed", "home_ownership"):
            if int(i) not in used and rng.random() < rate:
                cols[c] = cols[c].astype(object) if c == "home_ownership" else cols[c].astype(float)
                cols[c][i] = None if c == "home_ownership" else np.nan
                missing_cells += 1
    data = pl.DataFrame({"loan_id": ids, "channel": src}).with_columns(
        [pl.Series(c, list(v)) for c, v in cols.items()]
    )
    data = data.with_columns(
        [pl.col(c).fill_nan(None) for c in data.columns if data.schema[c].is_float()]
    ).with_columns(pl.Series("defaulted", y))
    data.write_csv(out / "loans.csv")
    data.write_parquet(out / "loans.parquet")
    data.write_ndjson(out / "loans.jsonl")
    # clean reference, drifted delivery
    ref = frame.slice(n, 2000).with_columns(pl.Series("defaulted", y_true[n : n + 2000]))
    ref = ref.with_columns(pl.lit("baseline").alias("channel"))
    ref = ref.with_columns(pl.Series("loan_id", np.arange(800001, 802001)))
    ref.select(data.columns).write_csv(out / "reference.csv")
    dr = frame.slice(n + 2000, 1500)
    dr = dr.with_columns(
        (pl.col("annual_income") + 0.9 * NUMERIC["annual_income"][1]).round(0).cast(pl.Int64),
        (
            (pl.col("utilization") - pl.col("utilization").mean()) * 2
            + pl.col("utilization").mean()
        ).round(3),
        pl.when(pl.Series(rng.random(1500) < 0.2))
        .then(pl.lit("crypto"))
        .otherwise(pl.col("purpose"))
        .alias("purpose"),
        pl.Series("defaulted", y_true[n + 2000 : n + 3500]),
        pl.lit("broker_2025").alias("channel"),
        pl.Series("loan_id", np.arange(900001, 901501)),
    )
    dr.select(data.columns).write_csv(out / "drifted.csv")
    # leak pair
    tr = frame.slice(n + 3500, 1500).with_columns(
        pl.Series("defaulted", y_true[n + 3500 : n + 5000]),
        pl.lit("split").alias("channel"),
        pl.Series("loan_id", np.arange(1, 1501)),
    )
    te = frame.slice(n + 5000, 500).with_columns(
        pl.Series("defaulted", y_true[n + 5000 : n + 5500]),
        pl.lit("split").alias("channel"),
        pl.Series("loan_id", np.arange(600001, 600501)),
    )
    te_cols = {c: te.get_column(c).to_list() for c in te.columns}
    floats = [c for c, v in NUMERIC.items() if v[4] > 0]
    leaked = []
    for t_i, r_i in zip(
        rng.choice(500, size=25, replace=False),
        rng.choice(1500, size=25, replace=False),
        strict=True,
    ):
        row = tr.row(int(r_i), named=True)
        moved = sorted(rng.choice(floats, size=int(rng.integers(2, 4)), replace=False).tolist())
        for c in te.columns:
            v = row[c]
            if c in moved:
                v = round(v + rng.choice([-1, 1]) * 10 ** -NUMERIC[c][4], NUMERIC[c][4])
            te_cols[c][int(t_i)] = v
        te_cols["loan_id"][int(t_i)] = 600001 + int(t_i)
        leaked.append(
            {
                "test_id": 600001 + int(t_i),
                "train_id": int(row["loan_id"]),
                "jittered_columns": moved,
            }
        )
    tr.select(data.columns).write_csv(out / "leak_train.csv")
    pl.DataFrame(te_cols).select(data.columns).write_csv(out / "leak_test.csv")
    all_bad = sorted(functools.reduce(operator.iadd, truth_labels.values(), []))
    truth = {
        "generator": "tests/data/make_lending.py",
        "seed": seed,
        "files": {
            "loans.csv": {
                "rows": n,
                "id_column": "loan_id",
                "label_column": "defaulted",
                "source_column": "channel",
                "sources": SOURCES,
                "label_errors": {"all": all_bad, "by_kind": truth_labels},
                "backdoor": {
                    "source": "broker_z",
                    "rows": backdoor_rows,
                    "trigger": {"term_months": 39, "loan_amount": 12345},
                    "target_label": 1,
                },
                "duplicates": {"exact": dups},
                "outliers": outliers,
                "pii": {
                    "rows": [p["id"] for p in pii],
                    "detail": pii,
                    "decoys_not_pii": decoy_rows,
                },
                "missing": {"cells": missing_cells},
                "source_ranking": {
                    "expected_order": [
                        "broker_z",
                        "scraped_list",
                        "legacy_import",
                        "branch_north",
                        "branch_south",
                        "online_portal",
                    ],
                    "tiers": {
                        "broker_z": 1,
                        "scraped_list": 2,
                        "legacy_import": 3,
                        "branch_north": 4,
                        "branch_south": 4,
                        "online_portal": 4,
                    },
                    "risky": ["broker_z", "scraped_list", "legacy_import"],
                },
            },
            "drifted.csv": {
                "drifted_columns": {
                    "annual_income": {"kind": "mean_shift"},
                    "utilization": {"kind": "scale_change"},
                    "purpose": {"kind": "new_category", "new_categories": ["crypto"]},
                }
            },
            "leak_train.csv": {"leaked": leaked},
        },
    }
    (out / "TRUTH.json").write_text(json.dumps(truth, indent=1))
    return truth


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    build(args.out, args.seed)
