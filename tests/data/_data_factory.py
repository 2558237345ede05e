"""Datasets built from scikit-learn's bundled data with known, injected problems."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl
from sklearn.datasets import load_breast_cancer, load_digits, load_wine

LOADERS = {"digits": load_digits, "breast_cancer": load_breast_cancer, "wine": load_wine}


@dataclass
class Injected:
    frame: pl.DataFrame
    flipped: set[int] = field(default_factory=set)
    poisoned: set[int] = field(default_factory=set)
    duplicated: set[int] = field(default_factory=set)
    pii: set[int] = field(default_factory=set)


def base(name: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    data = LOADERS[name]()
    cols = [f"f{i:02d}" for i in range(data.data.shape[1])]
    return data.data.astype(float), data.target.astype(int), cols


def flip_random(y: np.ndarray, rows: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    y = y.copy()
    classes = np.unique(y)
    for i in rows:
        y[i] = rng.choice(classes[classes != y[i]])
    return y


def make_frame(x: np.ndarray, y: np.ndarray, cols: list[str], sources: list[str]) -> pl.DataFrame:
    frame = pl.DataFrame({c: x[:, i] for i, c in enumerate(cols)})
    return frame.with_columns(
        pl.Series("label", y),
        pl.Series("source", sources),
        pl.Series("id", [f"r{i:05d}" for i in range(len(y))]),
    )


def random_flips(name: str, rate: float, seed: int) -> Injected:
    """One source, ``rate`` of labels flipped uniformly at random."""
    x, y, cols = base(name)
    rng = np.random.default_rng(seed)
    rows = rng.choice(len(y), size=round(rate * len(y)), replace=False)
    frame = make_frame(x, flip_random(y, rows, rng), cols, ["all"] * len(y))
    return Injected(frame, flipped={int(r) for r in rows})


def hospital_like(seed: int = 0) -> Injected:
    """Digits split into five sources: 'noisy' has 25 % random flips, 'poisoned' carries
    a backdoor (top-left pixels set high, label forced to 0), the rest are clean."""
    x, y, cols = base("digits")
    rng = np.random.default_rng(seed)
    names = np.array(["hosp_a", "hosp_b", "hosp_c", "noisy", "poisoned"])
    src = names[rng.integers(0, len(names), size=len(y))]
    noisy = np.flatnonzero(src == "noisy")
    flips = rng.choice(noisy, size=len(noisy) // 4, replace=False)
    y = flip_random(y, flips, rng)
    pois = np.flatnonzero((src == "poisoned") & (y != 0))
    pois = rng.choice(pois, size=len(pois) // 6, replace=False)
    x = x.copy()
    for i in pois:
        x[i, [0, 1, 8, 9]] = 16.0
        y[i] = 0
    return Injected(
        make_frame(x, y, cols, src.tolist()),
        flipped={int(i) for i in flips},
        poisoned={int(i) for i in pois},
    )


def write(frame: pl.DataFrame, path: Path) -> Path:
    if path.suffix == ".parquet":
        frame.write_parquet(path)
    elif path.suffix == ".jsonl":
        frame.write_ndjson(path)
    else:
        frame.write_csv(path)
    return path


HOSPITAL_RECORDS: dict[str, dict[str, object]] = {
    "hosp_north": {
        "origin": "EHR export, North General",
        "owner": "North General IG office",
        "licence": "data-sharing agreement DSA-17",
        "collection_method": "EHR",
        "consent": "GDPR art. 9(2)(h)",
    },
    "hosp_south": {
        "origin": "EHR export, South Clinic",
        "owner": "South Clinic",
        "licence": "DSA-18",
        "collection_method": "EHR",
    },
    "hosp_east": {
        "origin": "EHR export, East Trust",
        "owner": "East Trust",
        "licence": "DSA-19",
        "collection_method": "EHR",
    },
    "forum": {
        "origin": "https://forum.example/symptoms",
        "owner": "public",
        "licence": "unknown",
        "collection_method": "web scrape of forum posts",
        "flags": ["scraped", "self-reported"],
    },
    "retracted": {
        "origin": "doi:10.0000/retracted",
        "owner": "Lab X",
        "licence": "CC-BY-4.0",
        "collection_method": "expert labelling",
        "flags": ["retracted-citation"],
    },
    "vendor": {
        "origin": "Vendor Y delivery 2026-10",
        "owner": "Vendor Y",
        "licence": "commercial",
        "collection_method": "undisclosed",
        "flags": ["no-audit-trail"],
    },
}


def hospital_scenario(seed: int = 0) -> Injected:
    """Digits as six sources: three clean hospitals, a scraped forum with 30 % random
    flips, a retracted-citation source with targeted flips (3 -> 8) and a vendor
    whose rows carry a backdoor trigger (top-left pixels high, label forced to 0)."""
    x, y, cols = base("digits")
    rng = np.random.default_rng(seed)
    names = np.array(list(HOSPITAL_RECORDS))
    src = names[rng.integers(0, len(names), size=len(y))]
    forum = np.flatnonzero(src == "forum")
    flips = set(rng.choice(forum, size=int(len(forum) * 0.3), replace=False).tolist())
    y = flip_random(y, np.array(sorted(flips)), rng)
    threes = np.flatnonzero((src == "retracted") & (y == 3))
    targeted = rng.choice(threes, size=int(len(threes) * 0.6), replace=False)
    y[targeted] = 8
    flips |= {int(i) for i in targeted}
    cand = np.flatnonzero((src == "vendor") & (y != 0))
    pois = rng.choice(cand, size=len(cand) // 6, replace=False)
    x = x.copy()
    for i in pois:
        x[i, [0, 1, 8, 9]] = 16.0
        y[i] = 0
    return Injected(
        make_frame(x, y, cols, src.tolist()),
        flipped={int(i) for i in flips},
        poisoned={int(i) for i in pois},
    )
