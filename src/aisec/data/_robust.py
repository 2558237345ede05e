"""Gross errors and unit mix-ups: per-column robust scale over every row.

For each numeric column with at least :data:`MIN_DISTINCT` distinct values, the centre
and spread are the median and the MAD (scaled by 1.4826, so one unit is one standard
deviation of a normal column), taken on the log10 scale when the column is positive
(values from a unit slip sit a constant *factor* away, so the log scale is the one where
they stand apart) and on the raw scale otherwise. A value is a gross error when it lies
more than :data:`ROBUST_Z` robust deviations from the median *and* at least a factor
:data:`MIN_FACTOR` away from it (the narrowest unit slip, kg vs lb, is x2.2; this keeps a
tight, skewed column's honest tail out) *and* at least :data:`MIN_GAP` spreads beyond
every value that is not a candidate (a clipped or long honest tail runs on into the bulk;
a slip jumps away from it). A flagged value that many rows hold exactly (at least
:data:`MAX_REPEAT` and :data:`MAX_REPEAT_SHARE` of the rows) is a floor, cap or default
and is listed under the column's ``point_masses`` instead. Four Polars passes (medians,
MADs, the honest range, the flagged rows) stream the table, so every row is checked.

The likely cause is the conversion factor that brings the value back nearest the median:
a power of ten (a digit added or dropped, a decimal point lost) or a common unit ratio
(:data:`UNIT_RATIOS`, public conversion constants, not tied to any column name).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from aisec.data._table import ROW, Table, _pl

__all__ = ["MIN_DISTINCT", "MIN_FACTOR", "MIN_GAP", "ROBUST_Z", "UNIT_RATIOS", "gross_errors"]

ROBUST_Z = 6.0
MIN_FACTOR = 2.0
MIN_DISTINCT = 10
MIN_GAP = 2.0
MAX_REPEAT = 5
MAX_REPEAT_SHARE = 0.001
_ROW_CAP = 100_000

UNIT_RATIOS: tuple[tuple[float, str], ...] = (
    (2.2046, "kg vs lb"),
    (2.54, "inch vs cm"),
    (18.016, "mmol/L vs mg/dL for glucose"),
    (38.67, "mmol/L vs mg/dL for cholesterol"),
    (88.4, "umol/L vs mg/dL for creatinine, or mmol/L vs mg/dL for triglycerides"),
)


def _factors() -> list[tuple[float, str]]:
    out = [(10.0**k, f"digit or decimal slip (x10^{k})") for k in (1, 2, 3)]
    out += [(r, f"unit mix-up (x{r:g}: {name})") for r, name in UNIT_RATIOS]
    return [(f, w) for factor, w in out for f in (factor, 1 / factor)]


def _causes(found: list[dict[str, Any]], scale: dict[str, Any]) -> None:
    """Name the likely cause per column and direction: the one conversion that brings the
    flagged values, taken together, nearest the median (a unit slip repeats)."""
    groups: dict[tuple[str, bool], list[dict[str, Any]]] = {}
    for f in found:
        groups.setdefault((f["column"], f["value"] > f["median"]), []).append(f)
    for (col, _), items in groups.items():
        s = scale[col]
        if s["scale"] != "log10" or any(f["value"] <= 0 for f in items):
            for f in items:
                f.update(cause="implausible value", factor=None)
            continue
        centre = s["median"]
        best: tuple[float, float, str] | None = None
        for factor, what in _factors():
            dist = sum(abs(math.log10(f["value"] * factor) - centre) for f in items) / len(items)
            if best is None or dist < best[0]:
                best = (dist, factor, what)
        if best is None:
            continue
        dist, factor, what = best
        for f in items:
            if dist / s["spread"] > 3.0:
                f.update(cause="implausible value", factor=None)
            else:
                f.update(
                    cause=what, factor=round(factor, 6), corrected=round(f["value"] * factor, 6)
                )


def _separated(found: list[dict[str, Any]], scale: dict[str, Any]) -> list[dict[str, Any]]:
    """Keep the candidates that a jump of :data:`MIN_GAP` spreads, somewhere between them
    and the honest range, sets apart; a tail that runs on into the bulk is dropped."""
    keep: list[dict[str, Any]] = []
    groups: dict[tuple[str, bool], list[dict[str, Any]]] = {}
    for f in found:
        groups.setdefault((f["column"], f["value"] > f["median"]), []).append(f)
    for (col, high), items in groups.items():
        s = scale[col]
        lo, hi = s["honest"]
        tr = (lambda v: math.log10(v)) if s["scale"] == "log10" else (lambda v: v)
        gap = MIN_GAP * s["spread"]
        # walk outward from the honest edge; everything past the first big jump is kept
        items = sorted(items, key=lambda f: f["value"], reverse=not high)
        edge = hi if high else lo  # already on the column's scale
        jumped = False
        for f in items:
            v = tr(f["value"])
            if not jumped and abs(v - edge) >= gap:
                jumped = True
            edge = v
            if jumped:
                keep.append(f)
    return keep


def gross_errors(
    table: Table, *, features: Sequence[str], id_col: str | None
) -> tuple[dict[int, float], list[dict[str, Any]], dict[str, Any]]:
    """Row -> score (robust deviations), the flagged values (worst first) and per column
    the centre and spread used."""
    pl = _pl()
    lz = table.lazy
    cols = [c for c in features if table.columns[c].is_numeric()]
    if not cols:
        return {}, [], {}
    stats = table.collect(
        lz.select(
            *[pl.col(c).cast(pl.Float64).n_unique().alias(f"{c}__n") for c in cols],
            *[(pl.col(c).cast(pl.Float64) <= 0).mean().alias(f"{c}__neg") for c in cols],
        )
    ).row(0, named=True)
    keep = [c for c in cols if stats[f"{c}__n"] >= MIN_DISTINCT]
    if not keep:
        return {}, [], {}
    log = {c: (stats[f"{c}__neg"] or 0.0) <= 0.01 for c in keep}

    def val(c: str) -> Any:
        x = pl.col(c).cast(pl.Float64).fill_nan(None)
        return pl.when(x > 0).then(x.log10()).otherwise(None) if log[c] else x

    med = table.collect(lz.select([val(c).median().alias(c) for c in keep])).row(0, named=True)
    mad = table.collect(lz.select([(val(c) - med[c]).abs().median().alias(c) for c in keep])).row(
        0, named=True
    )
    scale: dict[str, Any] = {}
    cand: dict[str, Any] = {}
    for c in keep:
        if med[c] is None or not mad[c]:
            continue
        spread = 1.4826 * float(mad[c])
        scale[c] = {"scale": "log10" if log[c] else "linear", "median": med[c], "spread": spread}
        z = (val(c) - med[c]).abs() / spread
        if log[c]:
            far = (val(c) - med[c]).abs() >= math.log10(MIN_FACTOR)
        else:
            far = (pl.col(c).cast(pl.Float64) - med[c]).abs() >= abs(med[c]) * (MIN_FACTOR - 1)
        cand[c] = (z, (z > ROBUST_Z) & far)
    if not cand:
        return {}, [], scale
    # the honest values' range: a candidate must stand apart from it by a gap of
    # :data:`MIN_GAP` spreads (a clipped or long tail runs on into the bulk; a slip jumps)
    bounds = table.collect(
        lz.select(
            *[
                val(c).filter(~hit.fill_null(False)).min().alias(f"{c}__lo")
                for c, (_, hit) in cand.items()
            ],
            *[
                val(c).filter(~hit.fill_null(False)).max().alias(f"{c}__hi")
                for c, (_, hit) in cand.items()
            ],
        )
    ).row(0, named=True)
    zs = []
    for c, (z, hit) in cand.items():
        lo, hi = bounds[f"{c}__lo"], bounds[f"{c}__hi"]
        if lo is None or hi is None:
            continue
        scale[c]["honest"] = (lo, hi)
        zs.append(pl.when(hit).then(z).otherwise(None).alias(c))
    if not zs:
        return {}, [], scale
    ident = pl.col(id_col) if id_col else pl.col(ROW)
    hits = table.collect(
        lz.select(
            pl.col(ROW),
            ident.cast(pl.Utf8).alias("_id"),
            *zs,
            *[pl.col(c).cast(pl.Float64).alias(f"{c}__v") for c in scale],
        )
        .filter(pl.any_horizontal([pl.col(c).is_not_null() for c in scale]))
        .head(_ROW_CAP)
    )
    rows: dict[int, float] = {}
    found: list[dict[str, Any]] = []
    for rec in hits.iter_rows(named=True):
        for c in scale:
            z = rec[c]
            if z is None:
                continue
            r = int(rec[ROW])
            rows[r] = max(rows.get(r, 0.0), round(float(z), 3))
            s = scale[c]
            centre = 10 ** s["median"] if s["scale"] == "log10" else s["median"]
            value = float(rec[f"{c}__v"])
            found.append(
                {
                    "id": rec["_id"],
                    "row": r,
                    "column": c,
                    "value": value,
                    "median": round(centre, 6),
                    "robust_z": round(float(z), 3),
                }
            )
    found = _separated(found, scale)
    # one exact value held by many rows at the edge is a floor, cap or default, not a
    # slip (slips scatter); it is reported apart
    n_rows = table.count()
    held: dict[tuple[str, float], int] = {}
    for f in found:
        held[(f["column"], f["value"])] = held.get((f["column"], f["value"]), 0) + 1
    limit = max(MAX_REPEAT, MAX_REPEAT_SHARE * n_rows)
    masses = sorted({k for k, v in held.items() if v >= limit})
    if masses:
        found = [f for f in found if (f["column"], f["value"]) not in set(masses)]
        for c, v in masses:
            scale[c].setdefault("point_masses", []).append({"value": v, "rows": held[(c, v)]})
    rows = {}
    for f in found:
        rows[f["row"]] = max(rows.get(f["row"], 0.0), f["robust_z"])
    _causes(found, scale)
    found.sort(key=lambda f: (-f["robust_z"], f["row"]))
    for s in scale.values():
        s.pop("honest", None)
        s["median"] = round(10 ** s["median"] if s["scale"] == "log10" else s["median"], 6)
        s["spread"] = round(s["spread"], 6)
    return rows, found, scale
