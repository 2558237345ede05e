"""Models built here from scikit-learn's bundled data sets (no downloads)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("art")
pytest.importorskip("fairlearn")
pytest.importorskip("onnxruntime")
pytest.importorskip("skl2onnx")

from sklearn.datasets import load_breast_cancer, load_digits  # type: ignore[import-untyped]
from sklearn.ensemble import RandomForestClassifier  # type: ignore[import-untyped]
from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]
from sklearn.pipeline import make_pipeline  # type: ignore[import-untyped]
from sklearn.preprocessing import StandardScaler  # type: ignore[import-untyped]


def to_onnx(model: Any, n_features: int, path: Path) -> Path:
    from skl2onnx import to_onnx as convert

    onx = convert(model, np.zeros((1, n_features), dtype=np.float32), options={"zipmap": False})
    path.write_bytes(onx.SerializeToString())
    return path


def write_csv(path: Path, x: Any, y: Any, extra: dict[str, Any] | None = None) -> Path:
    extra = extra or {}
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow([f"f{i}" for i in range(x.shape[1])] + list(extra) + ["label"])
        for i in range(len(x)):
            w.writerow([*x[i].tolist(), *(v[i] for v in extra.values()), y[i]])
    return path


@pytest.fixture(scope="session")
def digits() -> dict[str, Any]:
    """Digits: an overfit forest (members leak) and a strongly regularised linear model."""
    x, y = load_digits(return_X_y=True)
    x = x.astype(np.float64)
    p = np.random.default_rng(1).permutation(len(x))
    m, n = p[:900], p[900:]
    overfit = RandomForestClassifier(n_estimators=100, random_state=0, n_jobs=1).fit(x[m], y[m])
    regular = make_pipeline(StandardScaler(), LogisticRegression(C=0.002, max_iter=500))
    regular.fit(x[m], y[m])
    return {"x": x, "y": y, "m": m, "n": n, "overfit": overfit, "regular": regular}


@pytest.fixture(scope="session")
def cancer() -> dict[str, Any]:
    """Breast cancer with a synthetic group: a fair model, and one with a planted disparity
    (group 1's positives are relabelled negative in training, and the group is a feature)."""
    x, y = load_breast_cancer(return_X_y=True)
    rng = np.random.default_rng(3)
    g = rng.integers(0, 2, len(x))
    xg = np.column_stack([x, g]).astype(np.float64)
    train, test = np.arange(300), np.arange(300, len(x))
    fair = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(
        xg[train], y[train]
    )
    yb = y.copy()
    yb[(g == 1) & (y == 1) & (rng.random(len(y)) < 0.7)] = 0
    biased = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))
    biased.fit(xg[train], yb[train])
    return {"x": xg, "y": y, "g": g, "train": train, "test": test, "fair": fair, "biased": biased}
