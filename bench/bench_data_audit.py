"""Label-error detection: cleanlab alone vs the aisec data audit; and the audit at scale.

    python bench/bench_data_audit.py [--rate 0.05] [--seed 0] [--seeds 1] [--rows 1000000]
                                     [--cols 50] [--skip-scale]

Part 1, same injected data for both: scikit-learn's bundled digits and breast-cancer
tables with ``--rate`` of labels flipped uniformly at random to another class.

* ``cleanlab``: ``cleanlab.filter.find_label_issues`` (default filter,
  prune_by_noise_rate) on 5-fold out-of-fold probabilities of a standardised logistic
  regression (``cross_val_predict``), the usual recipe;
* ``aisec``: ``aisec data audit`` (library call ``audit_dataset``) on the same rows
  written to CSV; the rows its ``label_issue`` check flags. Its threshold is the same
  for every dataset.

Printed: rows flagged, flagged / true errors, precision, recall, seconds, and how many
(dataset, seed) runs meet the goal: recall >= 0.8 at precision >= 0.77 (at most 1.3x the
true errors flagged).

Part 2: ``audit_dataset`` on a generated ``--rows`` x ``--cols`` Parquet table (48
numeric features, a 5-class label, a 4-value source column), run in a child process;
wall time and the child's peak RSS (``ru_maxrss``). Goal: under 60 s on 2 cores with
memory bounded; pandas (a full pass) and cleanlab (5-fold LR) run beside it as anchors.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np


def flipped(y: np.ndarray, rate: float, seed: int) -> tuple[np.ndarray, set[int]]:
    rng = np.random.default_rng(seed)
    rows = rng.choice(len(y), size=round(rate * len(y)), replace=False)
    y = y.copy()
    classes = np.unique(y)
    for i in rows:
        y[i] = rng.choice(classes[classes != y[i]])
    return y, {int(i) for i in rows}


def score(found: set[int], truth: set[int]) -> tuple[int, float, float, float]:
    tp = len(found & truth)
    return len(found), len(found) / len(truth), tp / max(len(found), 1), tp / len(truth)


def cleanlab_alone(x: np.ndarray, y: np.ndarray, seed: int) -> set[int]:
    from cleanlab.filter import find_label_issues
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    cv = StratifiedKFold(n_splits=5, shuffle=True, random_state=seed)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=300))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        probs = cross_val_predict(model, x, y, cv=cv, method="predict_proba")
    return {int(i) for i in np.flatnonzero(find_label_issues(y, probs))}


def aisec_audit(x: np.ndarray, y: np.ndarray, tmp: Path, seed: int) -> set[int]:
    import polars as pl

    from aisec.data import audit_dataset

    frame = pl.DataFrame({f"f{i:02d}": x[:, i] for i in range(x.shape[1])}).with_columns(
        pl.Series("label", y)
    )
    path = tmp / "d.csv"
    frame.write_csv(path)
    report = audit_dataset(path, label="label", seed=seed)
    return {
        r["row"]
        for r in report["flagged_rows"]
        if any(c["check"] == "label_issue" for c in r["checks"])
    }


def _cleanlab_on(path: Path, truth: dict[str, Any]) -> tuple[set[str], float]:
    """cleanlab with 5-fold logistic regression on the numeric columns of a delivery."""
    import polars as pl

    t = time.perf_counter()
    frame = pl.read_csv(path) if path.suffix == ".csv" else pl.read_parquet(path)
    special = {truth["label_column"], truth["source_column"], truth["id_column"]}
    feats = [c for c, ty in frame.schema.items() if ty.is_numeric() and c not in special]
    x = frame.select(feats).to_numpy().astype(float)
    med = np.nanmedian(x, axis=0)
    x = np.where(np.isfinite(x), x, med)
    labels = frame.get_column(truth["label_column"]).cast(pl.Utf8).to_numpy()
    _, y = np.unique(labels, return_inverse=True)
    found = cleanlab_alone(x, y, 0)
    ids = frame.get_column(truth["id_column"]).cast(pl.Utf8).to_list()
    return {ids[i] for i in found}, time.perf_counter() - t


def part0() -> None:
    """The realistic sets: the shared dev delivery (if present) and aisec's lending set."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "data"))
    from _devscore import eval_dir, pr, rows_by_check, run_set
    from make_lending import build

    sets: list[tuple[str, Path, str]] = []
    root = eval_dir()
    if root is not None:
        sets.append(("dev (hospital)", root / "data-dev", "hospital.csv"))
    tmp = Path(tempfile.mkdtemp())
    build(tmp)
    sets.append(("own (lending)", tmp, "loans.csv"))
    print("## realistic deliveries: aisec data audit beside cleanlab (logistic regression)")
    head = ("set", "kind", "aisec P", "aisec R", "cleanlab P", "cleanlab R", "R ratio")
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for name, folder, delivery in sets:
        import json

        truth = json.loads((folder / "TRUTH.json").read_text())["files"][delivery]
        t = time.perf_counter()
        res = run_set(folder, delivery)
        secs_a = time.perf_counter() - t
        by = rows_by_check(res["reports"]["main"])
        ours = by.get("label_issue", set()) | by.get("trigger_feature", set())
        theirs, secs_c = _cleanlab_on(folder / delivery, truth)
        back = {str(i) for i in truth["backdoor"]["rows"]}
        for kind, want, mine in (
            ("label issues", {str(i) for i in truth["label_errors"]["all"]}, ours),
            ("backdoor rows", back, by.get("trigger_feature", set())),
        ):
            a = pr(mine, want)
            c = pr(theirs if kind == "label issues" else theirs & back, want)
            print(
                f"| {name} | {kind} | {a.precision:.3f} | {a.recall:.3f} | "
                f"{c.precision:.3f} | {c.recall:.3f} | {a.recall / max(c.recall, 1e-9):.2f}x |"
            )
        sc = res["scores"]
        for kind in ("outliers", "duplicates", "pii", "pairs"):
            v = sc[kind]
            print(f"| {name} | {kind} | {v.precision:.3f} | {v.recall:.3f} | - | - | |")
        print(
            f"| {name} | ranking | tau {sc['kendall_tau']:.3f} | top3 {sc['top3']} | | | |\n"
            f"| {name} | drift | false alarms {sc['drift_false_alarms']} | "
            f"found {sc['drifted_found']} | | | |\n"
            f"| {name} | seconds (3 audits / cleanlab) | {secs_a:.1f} | | {secs_c:.1f} | | |"
        )
    print()


def part1(rate: float, seeds: list[int]) -> None:
    from sklearn.datasets import load_breast_cancer, load_digits

    print(f"## label errors: {rate:.0%} random flips, seeds {seeds[0]}..{seeds[-1]}")
    head = ("dataset", "tool", "flagged", "x true", "precision", "recall", "seconds")
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    met = {"cleanlab": 0, "aisec": 0}
    loaders = (("digits", load_digits), ("breast_cancer", load_breast_cancer))
    with tempfile.TemporaryDirectory() as d:
        for seed in seeds:
            for name, loader in loaders:
                x, y0 = loader(return_X_y=True)
                y, truth = flipped(y0, rate, seed)
                results: dict[str, Any] = {}
                for tool, fn in (
                    ("cleanlab", lambda x=x, y=y, s=seed: cleanlab_alone(x, y, s)),
                    ("aisec", lambda x=x, y=y, s=seed: aisec_audit(x, y, Path(d), s)),
                ):
                    t = time.perf_counter()
                    found = fn()
                    secs = time.perf_counter() - t
                    n, ratio, p, r = score(found, truth)
                    results[tool] = (p, secs)
                    met[tool] += p >= 0.77 and r >= 0.8
                    print(
                        f"| {name} s{seed} ({len(truth)} errors) | {tool} | {n} | {ratio:.2f} | "
                        f"{p:.2f} | {r:.2f} | {secs:.1f} |"
                    )
                print(
                    f"| {name} s{seed} | aisec / cleanlab | | | "
                    f"{results['aisec'][0] / max(results['cleanlab'][0], 1e-9):.2f}x | | "
                    f"{results['aisec'][1] / results['cleanlab'][1]:.1f}x |"
                )
    runs = len(seeds) * len(loaders)
    print(
        f"\ngoal (recall >= 0.8 at precision >= 0.77) met: aisec {met['aisec']}/{runs}, "
        f"cleanlab {met['cleanlab']}/{runs}"
    )


_CHILD = """
import sys, time, json, resource
from pathlib import Path
t = time.perf_counter()
tool, path = sys.argv[1], sys.argv[2]
out = {}
if tool == "aisec":
    from aisec.data import audit_dataset
    rep = audit_dataset(Path(path), label="label", source_column="source")
    out = {"rows": rep["dataset"]["rows"], "flagged": len(rep["flagged_rows"]),
           "model_rows": rep["rows_checked"]["model_based"]["rows"],
           "every_row": rep["rows_checked"]["every_row"]}
elif tool == "pandas":
    # the anchor for the full-table pass: read, missing counts, exact duplicates, describe
    import pandas as pd
    df = pd.read_parquet(path)
    out = {"missing": int(df.isna().sum().sum()), "dups": int(df.duplicated().sum()),
           "described": len(df.describe().columns)}
elif tool == "cleanlab":
    # the anchor for the label check: 5-fold logistic regression + find_label_issues
    import warnings
    import numpy as np, pandas as pd
    from cleanlab.filter import find_label_issues
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_predict
    df = pd.read_parquet(path)
    x = df.drop(columns=["label", "source"]).to_numpy(dtype=np.float32)
    y = df["label"].to_numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p = cross_val_predict(LogisticRegression(max_iter=200), x, y, cv=5, method="predict_proba")
    out = {"flagged": int(find_label_issues(y, p).sum())}
out["seconds"] = time.perf_counter() - t
out["rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
"""


def part2(rows: int, cols: int, seed: int) -> None:
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    n_feat = cols - 2
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "big.parquet"
        rng = np.random.default_rng(seed)
        writer = None
        chunk = 100_000
        t = time.perf_counter()
        for start in range(0, rows, chunk):
            n = min(chunk, rows - start)
            x = rng.normal(size=(n, n_feat)).astype(np.float32)
            label = (x[:, 0] + x[:, 1] > 0).astype(np.int8) + 2 * (x[:, 2] > 1).astype(np.int8)
            src = np.array(["a", "b", "c", "d"])[rng.integers(0, 4, size=n)]
            arrays = [pa.array(x[:, i]) for i in range(n_feat)]
            table = pa.Table.from_arrays(
                [*arrays, pa.array(label), pa.array(src)],
                names=[f"f{i:02d}" for i in range(n_feat)] + ["label", "source"],
            )
            writer = writer or pq.ParquetWriter(path, table.schema)
            writer.write_table(table)
        assert writer is not None
        writer.close()
        gen = time.perf_counter() - t
        size = path.stat().st_size
        runs = {}
        for tool in ("aisec", "pandas", "cleanlab"):
            out = subprocess.run(
                [sys.executable, "-c", _CHILD, tool, str(path)],
                check=True,
                capture_output=True,
                text=True,
            )
            runs[tool] = json.loads(out.stdout.strip().splitlines()[-1])
    a, pd_, cl = runs["aisec"], runs["pandas"], runs["cleanlab"]
    print(
        f"\n## scale: {rows:,} rows x {cols} columns Parquet ({size / 1e6:.0f} MB, generated "
        f"in {gen:.0f} s)"
    )
    print("| tool | seconds | peak RSS MiB | ratio aisec / tool (time) | note |")
    print("|---|---|---|---|---|")
    print(
        f"| aisec data audit | {a['seconds']:.1f} | {a['rss_mib']:.0f} | 1.00 | every row: "
        f"{', '.join(a['every_row'])}; model-based on {a['model_rows']:,} rows |"
    )
    for name, r in (("pandas full pass", pd_), ("cleanlab + LR 5-fold", cl)):
        print(
            f"| {name} | {r['seconds']:.1f} | {r['rss_mib']:.0f} | "
            f"{a['seconds'] / r['seconds']:.2f} | |"
        )
    print("goal: every row checked in < 120 s and < 2048 MiB on 2 cores")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rate", type=float, default=0.05)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--seeds", type=int, default=1, help="label part: seeds seed..seed+N-1")
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--cols", type=int, default=50)
    ap.add_argument("--skip-scale", action="store_true")
    ap.add_argument("--skip-sets", action="store_true", help="skip the realistic deliveries")
    args = ap.parse_args()
    print(
        f"python {platform.python_version()}, {os.cpu_count()} cpus, load {os.getloadavg()[0]:.1f}"
    )
    if not args.skip_sets:
        part0()
    part1(args.rate, list(range(args.seed, args.seed + args.seeds)))
    if not args.skip_scale:
        part2(args.rows, args.cols, args.seed)


if __name__ == "__main__":
    main()
