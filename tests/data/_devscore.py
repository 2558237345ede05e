"""Score a data-audit report against a truth file (injected problems by row id).

Used by the dev-set test, the second evaluation set's test and bench/bench_data_audit.py.
The truth layout is the one of the evaluation README: label errors by kind, backdoor rows
and trigger, exact duplicates, gross errors, PII rows and decoys, drifted columns, leaked
test ids and the expected source order (with tiers for ties).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def eval_dir() -> Path | None:
    """``$AISEC_EVAL_DIR``, else ``<repo>/../shared/eval``, else ``/work/shared/eval``."""
    env = os.environ.get("AISEC_EVAL_DIR")
    repo = Path(__file__).resolve().parents[2]
    for cand in (
        Path(env) if env else None,
        repo.parent / "shared" / "eval",
        Path("/work/shared/eval"),
    ):
        if cand is not None and (cand / "data-dev" / "TRUTH.json").is_file():
            return cand
    return None


@dataclass(frozen=True)
class PR:
    flagged: int
    hit: int
    truth: int

    @property
    def precision(self) -> float:
        return self.hit / self.flagged if self.flagged else 1.0

    @property
    def recall(self) -> float:
        return self.hit / self.truth if self.truth else 1.0

    def row(self, name: str) -> str:
        return (
            f"{name:<14} flagged {self.flagged:>5}  hit {self.hit:>4}/{self.truth:<4} "
            f"precision {self.precision:.3f}  recall {self.recall:.3f}"
        )


def pr(flagged: Iterable[str], truth: Iterable[str]) -> PR:
    f, t = set(flagged), set(truth)
    return PR(len(f), len(f & t), len(t))


def rows_by_check(report: dict[str, Any]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for rec in report["flagged_rows"]:
        for c in rec["checks"]:
            out.setdefault(c["check"], set()).add(str(rec["id"]))
    return out


def kendall_tau(order: list[str], tiers: dict[str, int]) -> float:
    """Kendall tau-b between the report's rank and the truth tiers (ties in the tiers)."""
    from scipy.stats import kendalltau

    names = [n for n in order if n in tiers]
    got = list(range(len(names)))
    want = [tiers[n] for n in names]
    return float(kendalltau(got, want).statistic)


def score_delivery(report: dict[str, Any], truth: dict[str, Any]) -> dict[str, Any]:
    """Per-kind precision/recall of a delivery audit (the hospital-like file)."""
    by = rows_by_check(report)
    ids = lambda xs: {str(x) for x in xs}  # noqa: E731
    label_truth = ids(truth["label_errors"]["all"])
    backdoor = ids(truth["backdoor"]["rows"])
    label_flag = by.get("label_issue", set())
    poison_flag = by.get("trigger_feature", set())
    decoys = ids(d["id"] for d in truth["pii"]["decoys_not_pii"])
    pii_flag = by.get("pii", set())
    out: dict[str, Any] = {
        # a backdoor row is a label error too: either check may name it
        "label_issues": pr(label_flag | poison_flag, label_truth),
        "backdoor": pr(poison_flag, backdoor),
        "outliers": pr(
            by.get("gross_error") or by.get("outlier", set()),
            ids(o["id"] for o in truth["outliers"]),
        ),
        # a duplicate is a pair: which of the two is the copy cannot be known from the data
        "duplicates": pr(
            {frozenset(map(str, p["ids"])) for p in report["duplicates"] if p["kind"] == "exact"},
            {
                frozenset((str(d["id"]), str(d["duplicate_of"])))
                for d in truth["duplicates"]["exact"]
            },
        ),
        "pii": pr(pii_flag, ids(truth["pii"]["rows"])),
        "pii_decoys_flagged": len(pii_flag & decoys),
    }
    want = truth["backdoor"]["trigger"]
    named = [t for t in report["triggers"] if set(want) <= set(_trigger_columns(t))]
    out["trigger_named"] = bool(named)
    order = [s["name"] for s in report["sources"]]
    out["ranking"] = order
    out["kendall_tau"] = kendall_tau(order, truth["source_ranking"]["tiers"])
    out["top3"] = set(order[:3]) == set(truth["source_ranking"]["risky"])
    out["first"] = order[:1] == truth["source_ranking"]["expected_order"][:1]
    return out


def _trigger_columns(t: dict[str, Any]) -> list[str]:
    return [c["column"] for c in t.get("conditions", [])] or [t.get("column", "")]


def drifted(report: dict[str, Any]) -> set[str]:
    return {d["column"] for d in report["drift"] if d["drifted"]}


def score_leakage(report: dict[str, Any], truth: dict[str, Any]) -> dict[str, Any]:
    pairs = {(str(p["ids"][0]), str(p["ids"][1])) for p in report["leakage"]}
    want = {(str(x["train_id"]), str(x["test_id"])) for x in truth["leaked"]}
    return {"pairs": pr(pairs, want), "false_pairs": len(pairs - want)}


def table(scores: dict[str, Any]) -> str:
    lines = [v.row(k) for k, v in scores.items() if isinstance(v, PR)]
    lines += [f"{k:<14} {v}" for k, v in scores.items() if not isinstance(v, PR)]
    return "\n".join(lines)


def run_set(folder: Path, delivery: str, fmt: str = "csv") -> dict[str, Any]:
    """Audit a set's delivery (against its reference), its drifted delivery and its leak
    split; score all three against the set's TRUTH.json."""
    import json

    from aisec.data import audit_dataset

    truth = json.loads((folder / "TRUTH.json").read_text())
    files = truth["files"]
    h = files[delivery]
    common = {
        "label": h["label_column"],
        "source_column": h["source_column"],
        "id_column": h["id_column"],
    }
    stem = Path(delivery).stem
    main = audit_dataset(folder / f"{stem}.{fmt}", reference=folder / "reference.csv", **common)
    drift = audit_dataset(folder / "drifted.csv", reference=folder / "reference.csv", **common)
    leak = audit_dataset(folder / "leak_train.csv", test_split=folder / "leak_test.csv", **common)
    scores = score_delivery(main, h)
    scores["drift_false_alarms"] = sorted(drifted(main))
    scores["drifted_found"] = sorted(drifted(drift))
    scores["drifted_truth"] = sorted(files["drifted.csv"]["drifted_columns"])
    scores.update(score_leakage(leak, files["leak_train.csv"]))
    return {"scores": scores, "reports": {"main": main, "drift": drift, "leak": leak}}


def run_dev(root: Path, fmt: str = "csv") -> dict[str, Any]:
    """The shared development delivery (``data-dev``)."""
    return run_set(root / "data-dev", "hospital.csv", fmt)


if __name__ == "__main__":
    import sys

    if len(sys.argv) > 1 and sys.argv[1] == "lending":
        import tempfile

        from make_lending import build

        with tempfile.TemporaryDirectory() as tmp:
            build(Path(tmp))
            res = run_set(Path(tmp), "loans.csv")
            print(table(res["scores"]))
        sys.exit(0)
    root = eval_dir()
    if root is None:
        sys.exit("no evaluation data (set AISEC_EVAL_DIR)")
    res = run_dev(root, sys.argv[1] if len(sys.argv) > 1 else "csv")
    print(table(res["scores"]))
