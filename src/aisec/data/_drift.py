"""Drift of a delivery against a reference, with a test chosen per column kind.

* numeric: two-sample KS on the non-missing values, PSI on the reference's deciles;
* categorical: chi-square on the non-missing values (missing is its own state, tested
  apart), Cramér's V and PSI; values never seen in the reference are listed;
* free text: KS on the length in characters (a chi-square over distinct sentences
  would call every new phrasing drift);
* every column: the change in its missing share (two-proportion z-test).

P-values are Holm-corrected over all tests of one call. A column drifts when a corrected
p-value is under ``alpha`` *and* its effect size reaches :data:`DRIFT_EFFECT` (or
:data:`NULL_SHIFT` for the missing share): on large tables a p-value alone flags
differences too small to matter. Every row of both tables is used (one column at a time).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from aisec.data._table import Table, _pl

__all__ = ["DRIFT_EFFECT", "NULL_SHIFT", "column_kind", "drift"]

DRIFT_EFFECT = 0.1
"""Least effect that counts as drift: KS statistic, Cramér's V or PSI."""
NULL_SHIFT = 0.05
"""Least change in a column's missing share (absolute) that counts as drift."""


def column_kind(table: Table, col: str, distinct: int, n: int) -> str:
    """``numeric``, ``categorical`` or ``text`` (free text: most values hold a space
    between words, or too many distinct values to be categories)."""
    pl = _pl()
    t = table.columns[col]
    if t.is_numeric():
        return "categorical" if t.is_integer() and distinct <= 20 else "numeric"
    if t == pl.Boolean:
        return "categorical"
    spaced = table.collect(
        table.lazy.select(pl.col(col).cast(pl.Utf8).str.contains(r"\S\s+\S").mean())
    ).item()
    if (spaced or 0.0) > 0.5 or distinct > max(100, n // 20):
        return "text"
    return "categorical"


def _psi(expected: Any, actual: Any) -> float:
    import numpy as np

    e = np.clip(np.asarray(expected, dtype=float), 1e-4, None)
    a = np.clip(np.asarray(actual, dtype=float), 1e-4, None)
    e, a = e / e.sum(), a / a.sum()
    return float(np.sum((a - e) * np.log(a / e)))


def _column(table: Table, col: str) -> Any:
    pl = _pl()
    s = table.collect(table.lazy.select(pl.col(col))).get_column(col)
    return s.fill_nan(None) if s.dtype.is_float() else s


def _distribution(kind: str, a: Any, b: Any) -> dict[str, Any]:
    import numpy as np
    from scipy import stats

    pl = _pl()
    if kind in ("numeric", "text"):
        if kind == "text":
            x = a.cast(pl.Utf8).str.len_chars().cast(pl.Float64).to_numpy()
            y = b.cast(pl.Utf8).str.len_chars().cast(pl.Float64).to_numpy()
        else:
            x, y = a.cast(pl.Float64).to_numpy(), b.cast(pl.Float64).to_numpy()
        ks = stats.ks_2samp(x, y)
        edges = np.unique(np.quantile(y, np.linspace(0, 1, 11)))
        edges[0], edges[-1] = -np.inf, np.inf
        return {
            "test": "ks" if kind == "numeric" else "ks_length",
            "statistic": float(ks.statistic),
            "p_value": float(ks.pvalue),
            "effect": float(ks.statistic),
            "psi": _psi(np.histogram(y, edges)[0], np.histogram(x, edges)[0]),
        }
    cur = {str(v): int(n) for v, n in a.cast(pl.Utf8).value_counts().iter_rows()}
    ref = {str(v): int(n) for v, n in b.cast(pl.Utf8).value_counts().iter_rows()}
    cats = sorted(ref, key=lambda k: -ref[k])[:50]
    obs = np.array(
        [
            [cur.get(k, 0) for k in cats] + [sum(v for k, v in cur.items() if k not in cats)],
            [ref.get(k, 0) for k in cats] + [sum(v for k, v in ref.items() if k not in cats)],
        ],
        dtype=float,
    )
    obs = obs[:, obs.sum(axis=0) > 0]
    out: dict[str, Any] = {"test": "chi2", "statistic": 0.0, "p_value": 1.0, "effect": 0.0}
    out["psi"] = 0.0
    if obs.shape[1] >= 2:
        chi = stats.chi2_contingency(obs)
        out["statistic"], out["p_value"] = float(chi.statistic), float(chi.pvalue)
        out["effect"] = math.sqrt(out["statistic"] / (obs.sum() * (min(obs.shape) - 1)))
        out["psi"] = _psi(obs[1], obs[0])
    new = sorted(k for k in cur if k not in ref)
    if new:
        out["new_values"] = new[:20]
        out["new_share"] = round(sum(cur[k] for k in new) / max(len(a), 1), 4)
    return out


def _holm(pvals: Sequence[float]) -> list[float]:
    order = sorted(range(len(pvals)), key=lambda i: pvals[i])
    adjusted = [1.0] * len(pvals)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(pvals) - rank) * pvals[i]))
        adjusted[i] = running
    return adjusted


def drift(
    table: Table, reference: Table, *, columns: Sequence[str], alpha: float = 0.01
) -> list[dict[str, Any]]:
    """One row per column present in both tables (module docstring)."""
    from scipy import stats

    n_cur, n_ref = table.count(), reference.count()
    rows: list[dict[str, Any]] = []
    for col in columns:
        if col not in reference.columns:
            continue
        a_s, b_s = _column(table, col), _column(reference, col)
        kinds = {
            column_kind(table, col, int(a_s.n_unique()), n_cur),
            column_kind(reference, col, int(b_s.n_unique()), n_ref),
        }
        kind = "text" if "text" in kinds else "categorical" if "categorical" in kinds else "numeric"
        na_a, na_b = a_s.null_count() / max(n_cur, 1), b_s.null_count() / max(n_ref, 1)
        pooled = (a_s.null_count() + b_s.null_count()) / max(n_cur + n_ref, 1)
        se = math.sqrt(pooled * (1 - pooled) * (1 / max(n_cur, 1) + 1 / max(n_ref, 1)))
        p_null = float(2 * stats.norm.sf(abs(na_a - na_b) / se)) if se > 0 else 1.0
        a, b = a_s.drop_nulls(), b_s.drop_nulls()
        if len(a) < 5 or len(b) < 5:
            dist: dict[str, Any] = {"test": "none", "statistic": 0.0, "p_value": 1.0}
            dist.update(effect=0.0, psi=0.0)
        else:
            dist = _distribution(kind, a, b)
        rows.append(
            {
                "column": col,
                "kind": kind,
                **dist,
                "missing": {"current": round(na_a, 4), "reference": round(na_b, 4), "p": p_null},
            }
        )
    adjusted = _holm([r["p_value"] for r in rows] + [r["missing"]["p"] for r in rows])
    out = []
    for i, r in enumerate(rows):
        p_adj, p_null_adj = adjusted[i], adjusted[len(rows) + i]
        miss = r.pop("missing")
        moved = p_adj < alpha and (r["effect"] >= DRIFT_EFFECT or r["psi"] >= DRIFT_EFFECT)
        null = p_null_adj < alpha and abs(miss["current"] - miss["reference"]) >= NULL_SHIFT
        why = [w for w, hit in (("distribution", moved), ("missing share", null)) if hit]
        out.append(
            {
                **r,
                "statistic": round(r["statistic"], 6),
                "p_value": float(f"{r['p_value']:.6g}"),
                "p_adjusted": float(f"{p_adj:.6g}"),
                "effect": round(r["effect"], 6),
                "psi": round(r["psi"], 6),
                "missing": {
                    "current": miss["current"],
                    "reference": miss["reference"],
                    "p_adjusted": float(f"{p_null_adj:.6g}"),
                },
                "drifted": bool(why),
                "why": why,
            }
        )
    return out
