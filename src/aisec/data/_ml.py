"""ML checks on a seeded sample: label issues, outliers and poisoning signals.

* Label issues, with a source column of two or more sources: the ensemble below plus
  leave-one-source-out probabilities of a logistic regression (each source judged by
  what the other sources teach, so a source's systematic flips cannot vouch for
  themselves); the self-confidence cut is then :data:`_SELF_CONFIDENCE_SOURCES`.
* Label issues: out-of-fold probabilities (``cross_val_predict``, 5 folds) of three
  fast scikit-learn models of different kinds, a logistic regression and k-nearest-
  neighbours classifiers with k = 10 and k = 25 (up to :data:`_KNN_CAP` rows),
  averaged. A row is flagged when confident learning
  flags it (cleanlab ``find_label_issues``, default filter) or when the ensemble predicts
  another class and gives the row's own label under :data:`_SELF_CONFIDENCE`. Averaging
  a global linear view with local ones ranks a wrong label low only when they agree it
  is wrong (precision); the second signal catches wrong labels that the per-class
  thresholds of confident learning miss (recall). One rule for every dataset, no
  per-dataset threshold; bench/bench_data_audit.py measures it.
* Outliers: scikit-learn ``IsolationForest`` (2 % contamination).
* Poisoning: a spectral signature per class (the squared projection on the top singular
  vector of the class's centred representations, Tran et al. 2018), and a feature value
  that nearly determines the label in one source only (a binomial test against the
  same value's label share in the other sources).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from aisec.core.errors import InputError, MissingExtraError
from aisec.data._table import ROW, _pl

__all__ = ["MLResult", "ml_checks"]

_FOLDS = 5
_NEIGHBOURS = (10, 25)
_SELF_CONFIDENCE = 0.2
_SELF_CONFIDENCE_SOURCES = 0.3
_KNN_CAP = 50_000
"""Rows above which the k-NN models are left out (their cost grows with rows squared)."""
_SPECTRAL_RATIO = 25.0
_OUTLIER_Z = 5.0
_TRIGGER_P = 1e-6


@dataclass
class MLResult:
    rows: list[int]
    sources: list[str]
    label_issue: dict[int, float] = field(default_factory=dict)
    outlier: dict[int, float] = field(default_factory=dict)
    spectral: dict[int, float] = field(default_factory=dict)
    trigger: dict[int, float] = field(default_factory=dict)
    triggers: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    label_method: str = ""


def _libs() -> tuple[Any, Any]:
    try:
        import numpy as np
        import sklearn  # type: ignore[import-untyped]
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise MissingExtraError("aisec data audit", "data") from exc
    return np, sklearn


def _matrix(frame: Any, features: Sequence[str]) -> Any:
    np, _ = _libs()
    pl = _pl()
    cols = []
    for c in features:
        s = frame.get_column(c)
        if s.dtype == pl.Boolean:
            s = s.cast(pl.Int8)
        v = s.cast(pl.Float64).fill_nan(None).to_numpy().astype(float)
        med = np.nanmedian(v) if np.isfinite(v).any() else 0.0
        v = np.where(np.isfinite(v), v, med)
        cols.append(v)
    return np.column_stack(cols) if cols else np.zeros((frame.height, 0))


def ml_checks(
    frame: Any,
    *,
    label: str,
    source: str | None,
    features: Sequence[str],
    seed: int,
) -> MLResult:
    """Run the sample checks; ``frame`` is a Polars DataFrame carrying ``ROW``."""
    np, _ = _libs()
    pl = _pl()
    rows = [int(r) for r in frame.get_column(ROW).to_list()]
    src = (
        frame.get_column(source).cast(pl.Utf8).fill_null("<none>").to_list()
        if source
        else ["all"] * len(rows)
    )
    result = MLResult(rows=rows, sources=src)
    if not features:
        result.skipped.append(
            "no numeric feature columns: label, outlier and poisoning checks skipped"
        )
        return result
    x = _matrix(frame, features)
    y_text = frame.get_column(label).cast(pl.Utf8)
    if y_text.null_count() == len(y_text):
        raise InputError(f"label column {label!r} is empty")
    y_raw = np.asarray(y_text.fill_null("<null>").to_list(), dtype=object)
    # sklearn and cleanlab warn about convergence and tiny classes; the audit reports
    # what it skipped itself, and tests run with warnings as errors
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _label_issues(result, x, y_raw, seed, np.asarray(src, dtype=object))
        _outliers(result, x, seed)
        _spectral(result, x, y_raw)
    _triggers(result, frame, features, y_raw, src)
    return result


def _label_issues(result: MLResult, x: Any, y_raw: Any, seed: int, src: Any) -> None:
    np, _ = _libs()
    from cleanlab.filter import find_label_issues  # type: ignore[import-untyped]
    from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]
    from sklearn.model_selection import StratifiedKFold, cross_val_predict  # type: ignore[import-untyped]
    from sklearn.neighbors import KNeighborsClassifier  # type: ignore[import-untyped]
    from sklearn.pipeline import make_pipeline  # type: ignore[import-untyped]
    from sklearn.preprocessing import StandardScaler  # type: ignore[import-untyped]

    classes, counts = np.unique(y_raw, return_counts=True)
    if len(classes) > 200:
        raise InputError(
            f"the label column has {len(classes)} distinct values; the audit expects a "
            "classification label (a continuous target is not a label)"
        )
    keep_classes = classes[counts >= 3]
    mask = np.isin(y_raw, keep_classes)
    if len(keep_classes) < 2 or mask.sum() < 20:
        result.skipped.append("label issues: fewer than two classes with 3 or more rows")
        return
    if len(keep_classes) < len(classes):
        result.skipped.append(
            f"label issues: {len(classes) - len(keep_classes)} classes with under 3 rows left out"
        )
    xs, ys = x[mask], np.searchsorted(keep_classes, y_raw[mask])
    folds = int(min(_FOLDS, np.bincount(ys).min()))
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)

    def lr() -> Any:
        return make_pipeline(StandardScaler(), LogisticRegression(max_iter=300))

    s_arr = src[mask]
    loso = _leave_source_out(lr, xs, ys, s_arr, len(keep_classes))
    models = [lr()]
    if len(ys) <= _KNN_CAP:
        models += [
            make_pipeline(StandardScaler(), KNeighborsClassifier(n_neighbors=min(k, len(ys) // 4)))
            for k in _NEIGHBOURS
        ]
    probs = [cross_val_predict(m, xs, ys, cv=cv, method="predict_proba") for m in models]
    result.label_method = "5-fold logistic regression" + (
        " and k-nearest-neighbours (k = 10, 25)" if len(models) > 1 else ""
    )
    if loso is not None:
        # a source is judged by what the other sources teach, beside k-fold: a source
        # cannot vouch for its own systematic flips
        probs.append(loso)
        result.label_method += ", leave-one-source-out logistic regression"
    p = np.clip(sum(probs) / len(probs), 1e-6, 1.0)
    p = p / p.sum(axis=1, keepdims=True)
    conf = p[np.arange(len(ys)), ys]
    cut = _SELF_CONFIDENCE_SOURCES if loso is not None else _SELF_CONFIDENCE
    issues = find_label_issues(ys, p) | ((p.argmax(axis=1) != ys) & (conf < cut))
    idx = np.flatnonzero(mask)
    for i in np.flatnonzero(issues):
        result.label_issue[result.rows[idx[i]]] = round(float(1.0 - conf[i]), 4)


def _leave_source_out(make: Any, x: Any, y: Any, src: Any, n_classes: int) -> Any:
    """Probabilities of each source's rows from a model fitted on the other sources, or
    None with fewer than two sources or when the others lack a class."""
    np, _ = _libs()
    sources = np.unique(src)
    if len(sources) < 2:
        return None
    out = np.zeros((len(y), n_classes))
    for s in sources:
        m = src == s
        if len(np.unique(y[~m])) < n_classes:
            return None
        model = make().fit(x[~m], y[~m])
        out[m] = model.predict_proba(x[m])
    return out


def _outliers(result: MLResult, x: Any, seed: int) -> None:
    np, _ = _libs()
    from sklearn.ensemble import IsolationForest  # type: ignore[import-untyped]

    if x.shape[0] < 50:
        result.skipped.append("outliers: fewer than 50 rows")
        return
    forest = IsolationForest(n_estimators=100, random_state=seed).fit(x)
    score = -forest.score_samples(x)
    # flagged: an anomaly score far in the tail of the scores themselves (robust z over
    # :data:`_OUTLIER_Z`), instead of a fixed share of every table
    med = float(np.median(score))
    mad = 1.4826 * float(np.median(np.abs(score - med))) or 1e-12
    z = (score - med) / mad
    for i in np.flatnonzero(z > _OUTLIER_Z):
        result.outlier[result.rows[int(i)]] = round(float(score[i]), 4)


def _spectral(result: MLResult, x: Any, y_raw: Any) -> None:
    np, _ = _libs()
    sd = x.std(axis=0)
    z = (x - x.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
    for cls in np.unique(y_raw):
        idx = np.flatnonzero(y_raw == cls)
        if len(idx) < 30:
            continue
        r = z[idx] - z[idx].mean(axis=0)
        _, _, vt = np.linalg.svd(r, full_matrices=False)
        s = (r @ vt[0]) ** 2
        med = float(np.median(s)) or 1e-12
        ratio = s / med
        for j in np.flatnonzero(ratio > _SPECTRAL_RATIO):
            result.spectral[result.rows[int(idx[j])]] = round(float(min(1.0, ratio[j] / 100)), 4)


def _triggers(
    result: MLResult, frame: Any, features: Sequence[str], y_raw: Any, src: list[str]
) -> None:
    np, _ = _libs()
    from scipy.stats import binom

    sources = sorted(set(src))
    if len(sources) < 2:
        return
    pl = _pl()
    s_arr = np.asarray(src, dtype=object)
    n_tests = max(1, len(features) * len(sources) * 10)
    for col in features:
        v = frame.get_column(col).cast(pl.Float64).fill_nan(None).fill_null(-1e300).to_numpy()
        uniq = np.unique(v)
        if len(uniq) > 20:
            edges = np.unique(np.quantile(v, np.linspace(0, 1, 11)[1:-1]))
            v = np.searchsorted(edges, v).astype(float)
            uniq = np.unique(v)
        for s in sources:
            in_s = s_arr == s
            n_s = int(in_s.sum())
            for val in uniq:
                hit = in_s & (v == val)
                n_sv = int(hit.sum())
                if n_sv < max(10, 0.02 * n_s):
                    continue
                labs, cnt = np.unique(y_raw[hit], return_counts=True)
                top, m = labs[cnt.argmax()], int(cnt.max())
                if m / n_sv < 0.9:
                    continue
                other = ~in_s & (v == val)
                if other.sum() >= 10:
                    base = float((y_raw[other] == top).mean())
                else:
                    base = float((y_raw[in_s & (v != val)] == top).mean())
                base = min(max(base, 0.05), 0.99)
                p = float(binom.sf(m - 1, n_sv, base))
                if p * n_tests > _TRIGGER_P or m / n_sv - base < 0.4:
                    continue
                result.triggers.append(
                    {
                        "source": s,
                        "column": col,
                        "value": float(val) if len(uniq) <= 20 else f"decile {int(val)}",
                        "label": str(top),
                        "rows": m,
                        "purity": round(m / n_sv, 4),
                        "elsewhere": round(base, 4),
                        "p_value": float(f"{p:.3g}"),
                    }
                )
                score = round(m / n_sv - base, 4)
                for i in np.flatnonzero(hit & (y_raw == top)):
                    r = result.rows[int(i)]
                    result.trigger[r] = max(result.trigger.get(r, 0.0), score)
