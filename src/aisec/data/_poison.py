"""Backdoor triggers: feature-value conjunctions over-represented in one source and one
label, that a model trained without them cannot explain.

1. Candidate items, over every row (Polars group-bys): a value of a column that is a
   spike, in one source, against (a) the same value's rate in the other sources and,
   for numeric columns, (b) the counts of the neighbouring distinct values in the same
   source. The test is a Poisson upper tail, Bonferroni-corrected over every item tried,
   with at least :data:`MIN_ROWS` rows and a lift of :data:`MIN_LIFT`.
2. Conjunctions: per source, every pair of candidate items of different columns (and
   each item alone); a conjunction whose rows carry one label in at least
   :data:`PURITY` of cases is a candidate trigger.
3. Confirmation: a logistic regression trained on the other rows and without the
   trigger's columns predicts the conjunction's rows; the trigger is confirmed when it
   gives the rows' label under 0.5 for most of them (the label follows the trigger, not
   the features). Confirmed rows carrying the label are flagged, scored by how little
   the model believes their label.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from itertools import combinations
from typing import Any

from aisec.data._table import ROW, Table, _pl

__all__ = ["MIN_LIFT", "MIN_ROWS", "PURITY", "find_triggers"]

MIN_ROWS = 10
MIN_LIFT = 4.0
PURITY = 0.9
ALPHA = 1e-3
_CANDIDATES = 30  # items kept per source, by lift
_FIT_CAP = 50_000
_WINDOW = 5


def _poisson_sf(k: int, mu: float) -> float:
    from scipy.stats import poisson

    return float(poisson.sf(k - 1, max(mu, 1e-9)))


def _items(
    table: Table, col: str, src: Any, numeric: bool
) -> list[tuple[str, Any, int, float, float]]:
    """(source, value, count, expected, distinct) for spiking values of ``col``; the
    counting and the spike test run in Polars, only the spikes reach Python."""
    pl = _pl()
    counts = (
        table.lazy.filter(pl.col(col).is_not_null())
        .group_by(src.alias("_s"), pl.col(col).alias("_v"))
        .agg(pl.len().alias("_n"))
    )
    n = pl.col("_n").cast(pl.Float64)
    n_s = n.sum().over("_s")
    n_v = n.sum().over("_v")
    total = n.sum()
    sources = pl.col("_s").n_unique()
    exp_other = pl.when((sources > 1) & (total > n_s)).then(n_s * (n_v - n + 1) / (total - n_s + 1))
    q = counts.sort("_s", "_v").with_columns(exp_other.alias("_eo"))
    if numeric:
        near = n.rolling_median(window_size=2 * _WINDOW + 1, center=True, min_samples=1)
        q = q.with_columns(
            pl.when(pl.len().over("_s") > 2 * _WINDOW)
            .then(pl.max_horizontal(near.over("_s"), pl.lit(0.5)))
            .alias("_en")
        )
    else:
        q = q.with_columns(pl.lit(None, pl.Float64).alias("_en"))
    spikes = table.collect(
        q.filter(
            (pl.col("_n") >= MIN_ROWS)
            & ((n >= MIN_LIFT * pl.col("_eo")) | (n >= MIN_LIFT * pl.col("_en")))
        ).select(
            "_s",
            "_v",
            "_n",
            pl.min_horizontal(pl.col("_eo"), pl.col("_en")).alias("_mu"),
        )
    )
    return [(s, v, int(k), float(mu), 0.0) for s, v, k, mu in spikes.iter_rows()]


def find_triggers(
    table: Table,
    *,
    label: str,
    source: str | None,
    numeric: Sequence[str],
    categorical: Sequence[str],
    id_col: str | None,
    seed: int = 0,
) -> tuple[dict[int, float], list[dict[str, Any]], int]:
    """Row -> score, the confirmed triggers and the number of rows searched (all)."""
    import numpy as np

    pl = _pl()
    n_rows = table.count()
    src = pl.col(source).cast(pl.Utf8).fill_null("<none>") if source else pl.lit("all")
    items: list[tuple[str, str, Any, int, float]] = []
    tests = 0.0
    for col in [*numeric, *categorical]:
        found = _items(table, col, src, col in numeric)
        distinct = table.collect(table.lazy.select(pl.col(col).n_unique())).item()
        tests += float(distinct) * (1 if not source else 2)
        for s, v, k, mu, _ in found:
            items.append((s, col, v, k, mu))
    tests = max(tests, 1.0)
    items = [it for it in items if _poisson_sf(it[3], it[4]) * tests < ALPHA]
    by_src: dict[str, list[tuple[str, Any, int, float]]] = {}
    for s, col, v, k, mu in items:
        by_src.setdefault(s, []).append((col, v, k, mu))
    triggers: list[dict[str, Any]] = []
    flagged: dict[int, float] = {}
    ident = pl.col(id_col) if id_col else pl.col(ROW)
    for s, cands in sorted(by_src.items()):
        cands = sorted(cands, key=lambda c: -c[2] / max(c[3], 1e-9))[:_CANDIDATES]
        cols = sorted({c[0] for c in cands})
        match = pl.any_horizontal([pl.col(c) == v for c, v, _, _ in cands])
        rows = table.collect(
            table.lazy.filter((src == s) & match).select(
                pl.col(ROW),
                ident.cast(pl.Utf8).alias("_id"),
                pl.col(label).cast(pl.Utf8).alias("_y"),
                *cols,
            )
        )
        y = rows.get_column("_y").fill_null("<null>").to_numpy()
        masks = {
            (c, v): (rows.get_column(c) == v).fill_null(False).to_numpy() for c, v, _, _ in cands
        }
        conj: list[tuple[tuple[tuple[str, Any], ...], Any]] = []
        for a, b in combinations(masks, 2):
            if a[0] != b[0]:
                conj.append(((a, b), masks[a] & masks[b]))
        conj += [((a,), m) for a, m in masks.items()]
        taken = np.zeros(rows.height, dtype=bool)
        for cond, m in conj:  # pairs first: a pair explains its items' rows
            k = int(m.sum())
            if k < MIN_ROWS or (taken[m].mean() > 0.8):
                continue
            labs, cnt = np.unique(y[m], return_counts=True)
            top = labs[cnt.argmax()]
            purity = float(cnt.max() / k)
            if purity < PURITY:
                continue
            hit = m & (y == top)
            belief = _belief(
                table,
                label,
                source,
                s,
                numeric,
                [c for c, _ in cond],
                rows.get_column(ROW).to_numpy()[hit],
                top,
                seed,
            )
            if belief is None or float(np.mean(belief < 0.5)) < 0.5:
                continue
            taken |= m
            row_ids = rows.get_column(ROW).to_numpy()[hit]
            for r, b in zip(row_ids, belief, strict=True):
                flagged[int(r)] = max(flagged.get(int(r), 0.0), round(1.0 - float(b), 4))
            conditions = [(c, v) for c, v in cond]
            conditions += _shared(table, src, s, [*numeric, *categorical], conditions, row_ids)
            triggers.append(
                {
                    "source": s,
                    "conditions": [{"column": c, "value": _plain(v)} for c, v in conditions],
                    "label": str(top),
                    "rows": int(hit.sum()),
                    "purity": round(purity, 4),
                    "model_agrees": round(float(np.mean(belief >= 0.5)), 4),
                    "ids": rows.get_column("_id").to_numpy()[hit][:50].tolist(),
                }
            )
    return flagged, triggers, n_rows


def _shared(
    table: Table,
    src: Any,
    s: str,
    columns: Sequence[str],
    have: Sequence[tuple[str, Any]],
    rows: Any,
) -> list[tuple[str, Any]]:
    """Further conditions of a trigger: a value that at least :data:`PURITY` of the
    trigger's rows share in another column, while under half of the source's other rows
    hold it (so a dominant category is not taken for part of the trigger)."""
    pl = _pl()
    taken = {c for c, _ in have}
    rest = [c for c in columns if c not in taken]
    if not rest:
        return []
    inside = pl.col(ROW).is_in(pl.Series(rows, dtype=pl.UInt32).implode())
    frame = table.collect(table.lazy.filter(src == s).select(inside.alias("_in"), *rest))
    trig, other = frame.filter(pl.col("_in")), frame.filter(~pl.col("_in"))
    out: list[tuple[str, Any]] = []
    for c in rest:
        counts = trig.get_column(c).drop_nulls().value_counts(sort=True)
        if not counts.height:
            continue
        value, k = counts.row(0)
        if k / trig.height < PURITY:
            continue
        if other.height and float((other.get_column(c) == value).mean() or 0.0) >= 0.5:
            continue
        out.append((c, value))
    return out


def _plain(v: Any) -> Any:
    return v.item() if hasattr(v, "item") else v


def _belief(
    table: Table,
    label: str,
    source: str | None,
    s: str,
    numeric: Sequence[str],
    drop: Sequence[str],
    rows: Any,
    top: Any,
    seed: int,
) -> Any:
    """P(label = top) for ``rows`` from a model trained on other rows without ``drop``."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]
    from sklearn.pipeline import make_pipeline  # type: ignore[import-untyped]
    from sklearn.preprocessing import StandardScaler  # type: ignore[import-untyped]

    pl = _pl()
    feats = [c for c in numeric if c not in drop]
    if not feats or not len(rows):
        return None
    n = table.count()
    lazy = table.lazy
    if n > _FIT_CAP:
        keep = np.sort(np.random.default_rng(seed).choice(n, size=_FIT_CAP, replace=False))
        lazy = lazy.filter(
            pl.col(ROW).is_in(pl.Series(keep, dtype=pl.UInt32).implode())
            | pl.col(ROW).is_in(pl.Series(rows, dtype=pl.UInt32).implode())
        )
    cols = [pl.col(c).cast(pl.Float64).fill_nan(None) for c in feats]
    frame = table.collect(
        lazy.select(pl.col(ROW), pl.col(label).cast(pl.Utf8).fill_null("<null>").alias("_y"), *cols)
    )
    x = frame.select(feats).to_numpy().astype(float)
    med = np.nanmedian(x, axis=0)
    x = np.where(np.isfinite(x), x, np.where(np.isfinite(med), med, 0.0))
    y = frame.get_column("_y").to_numpy()
    test = np.isin(frame.get_column(ROW).to_numpy(), rows)
    if len(np.unique(y[~test])) < 2:
        return None
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=300))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(x[~test], y[~test])
    classes = list(model.classes_)
    if str(top) not in classes:
        return np.zeros(int(test.sum()))
    order = np.argsort(frame.get_column(ROW).to_numpy()[test])
    p = model.predict_proba(x[test])[:, classes.index(str(top))]
    # back to the order of ``rows``
    pos = {int(r): i for i, r in enumerate(frame.get_column(ROW).to_numpy()[test][order])}
    p = p[order]
    return np.array([p[pos[int(r)]] for r in rows])
