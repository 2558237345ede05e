"""Stage 1 of the demo: six sources, one noisy and one poisoned; register, audit, rank."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
from sklearn.datasets import load_digits  # type: ignore[import-untyped]

from aisec.data import SourceRecord, audit_dataset, audit_statement, register_source
from aisec.demo._context import DemoContext

__all__ = ["SOURCES", "run_data"]

# name -> (origin, licence, collection method, provenance flags)
SOURCES: dict[str, tuple[str, str, str, tuple[str, ...]]] = {
    "hospital-north": (
        "EHR export, North General",
        "data-sharing agreement",
        "clinical records",
        (),
    ),
    "hospital-south": (
        "EHR export, South Clinic",
        "data-sharing agreement",
        "clinical records",
        (),
    ),
    "hospital-east": ("EHR export, East Medical", "data-sharing agreement", "clinical records", ()),
    "forum": (
        "https://forum.example/symptoms",
        "unknown",
        "web scrape",
        ("scraped", "self-reported"),
    ),
    "retracted": (
        "doi:10.0000/example.retracted",
        "CC-BY-4.0",
        "published dataset",
        ("retracted-citation",),
    ),
    "vendor": ("DataCo Ltd.", "commercial", "vendor delivery", ("no-audit-trail",)),
}


def _build(seed: int) -> tuple[pl.DataFrame, set[int], set[int]]:
    """Digits as stand-in diagnostic features; 'forum' gets 25% label flips, 'vendor' a
    backdoor (four corner features set high, label forced to 0)."""
    digits = load_digits()
    x = digits.data.astype(float)
    y = digits.target.astype(int)
    rng = np.random.default_rng(seed)
    names = np.array(list(SOURCES))
    src = names[rng.integers(0, len(names), size=len(y))]
    noisy = np.flatnonzero(src == "forum")
    flipped = rng.choice(noisy, size=len(noisy) // 4, replace=False)
    for i in flipped:
        y[i] = int(rng.choice([c for c in range(10) if c != y[i]]))
    candidates = np.flatnonzero((src == "vendor") & (y != 0))
    poisoned = rng.choice(candidates, size=len(candidates) // 6, replace=False)
    for i in poisoned:
        x[i, [0, 1, 8, 9]] = 16.0
        y[i] = 0
    frame = pl.DataFrame({f"f{i:02d}": x[:, i] for i in range(x.shape[1])}).with_columns(
        pl.Series("label", y),
        pl.Series("source", src.tolist()),
        pl.Series("id", [f"pt-{i:05d}" for i in range(len(y))]),
    )
    return frame, {int(i) for i in flipped}, {int(i) for i in poisoned}


def run_data(ctx: DemoContext) -> Path:
    """Returns the combined training table (the clean sources' rows feed training)."""
    with ctx.stage("data", "can we trust this data? register six sources, audit them") as s:
        frame, flipped, poisoned = _build(seed=11)
        combined = ctx.path("data", "patients.csv")
        frame.write_csv(combined)
        versions = []
        for name, (origin, licence, method, flags) in SOURCES.items():
            part = ctx.path("data", "sources", f"{name}.csv")
            frame.filter(pl.col("source") == name).write_csv(part)
            record = SourceRecord.model_validate(
                {
                    "name": name,
                    "origin": origin,
                    "owner": "clinical-data-office",
                    "licence": licence,
                    "collection_method": method,
                    "flags": flags,
                }
            )
            version, _created = register_source(ctx.store, ctx.key, part, record)
            versions.append(version)
        report = audit_dataset(
            combined, label="label", source_column="source", id_column="id", records=versions
        )
        entry = ctx.store.record(audit_statement(report), ctx.key)
        ranked = sorted(report["sources"], key=lambda r: r["rank"])
        s.lines.append(
            f"registered {len(versions)} sources with provenance; audit entry #{entry.index}"
        )
        for r in ranked[:3]:
            lo, hi = r["ci"]
            s.lines.append(
                f"rank {r['rank']}: {r['name']:<15} risk {r['risk']:.2f} [{lo:.2f}, {hi:.2f}]"
            )
        flagged = {str(row["id"]) for row in report["flagged_rows"]}
        truth = {f"pt-{i:05d}" for i in flipped | poisoned}
        caught = len(truth & flagged)
        s.lines.append(
            f"{len(flagged)} rows flagged; {caught} of {len(truth)} planted bad rows among them"
        )
        top_two = {r["name"] for r in ranked[:2]}
        s.ok = top_two == {"forum", "vendor"}
        s.facts.update(
            ranking=[r["name"] for r in ranked],
            planted=len(truth),
            caught=caught,
            flagged=len(flagged),
            audit_entry=entry.index,
        )
        # Quarantine the risky sources; the training set is re-audited on its own.
        clean = frame.filter(pl.col("source").str.starts_with("hospital-"))
        train = ctx.path("data", "train.csv")
        clean.write_csv(train)
        train_report = audit_dataset(train, label="label", source_column="source", id_column="id")
        ctx.store.record(audit_statement(train_report), ctx.key)
        train_risk = float(train_report["risk"]["overall"])
        s.lines.append(
            f"training set = the three hospital sources only; re-audited risk {train_risk:.2f}"
        )
        s.facts["train_risk"] = train_risk
        return train
