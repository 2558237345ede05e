"""Full-table checks: exact and near duplicates, train/test leakage, PII, drift.

Duplicates use rounding-based hashing (a row's hash after numeric values are rounded to
5 % of their column's standard deviation and text is case- and space-folded); it is
exact, streams in Polars and needs no sketch for tabular rows. PII is found with
regular expressions in Polars and credit-card candidates are confirmed with the Luhn
checksum. Drift uses scipy's two-sample KS and chi-square tests and the population
stability index (PSI).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aisec.data._table import ROW, Table, _pl

__all__ = ["PAIR_CAP", "PII_PATTERNS", "drift", "duplicates", "leakage", "luhn_ok", "pii"]

PAIR_CAP = 10_000
"""Row pairs listed at most per check (the counts are always complete)."""

PII_PATTERNS: tuple[tuple[str, str], ...] = (
    ("email", r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"),
    ("ssn", r"(?:^|[^\d-])\d{3}-\d{2}-\d{4}(?:$|[^\d-])"),
    ("phone", r"(?:^|[^\d])(?:\+\d{1,3}[ .-]?)?\(?\d{3}\)?[ .-]?\d{3}[ .-]\d{4}(?:$|[^\d])"),
    ("credit_card", r"(?:\d[ -]?){12,18}\d"),
    (
        "ip_address",
        r"(?:^|[^\d.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}"
        r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:$|[^\d.])",
    ),
)


def luhn_ok(digits: str) -> bool:
    """The Luhn checksum of a card number (separators ignored)."""
    nums = [int(c) for c in digits if c.isdigit()]
    if not 13 <= len(nums) <= 19:
        return False
    total = 0
    for i, d in enumerate(reversed(nums)):
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


@dataclass(frozen=True)
class DupResult:
    pairs: list[dict[str, Any]]
    exact_rows: int
    near_rows: int
    flagged: dict[int, str]  # row -> "exact"|"near" (rows after the first of their group)


def _key_exprs(table: Table, cols: Sequence[str], scales: dict[str, float]) -> list[Any]:
    pl = _pl()
    exprs = []
    for c in cols:
        t = table.columns[c]
        if c in scales:
            step = scales[c]
            exprs.append((pl.col(c).cast(pl.Float64) / step).round(0).alias(c))
        elif t.is_numeric() or t == pl.Boolean:
            exprs.append(pl.col(c).cast(pl.Float64).alias(c))
        else:
            exprs.append(
                pl.col(c)
                .cast(pl.Utf8)
                .str.to_lowercase()
                .str.replace_all(r"\s+", " ")
                .str.strip_chars()
                .alias(c)
            )
    return exprs


def _scales(table: Table, cols: Sequence[str]) -> dict[str, float]:
    pl = _pl()
    num = [c for c in cols if table.columns[c].is_float()]
    if not num:
        return {}
    row = table.collect(table.lazy.select([pl.col(c).std().alias(c) for c in num])).row(0)
    return {c: float(s) * 0.05 for c, s in zip(num, row, strict=True) if s and s > 0}


def _hash(table: Table, lazy: Any, cols: Sequence[str], scales: dict[str, float]) -> Any:
    pl = _pl()
    return pl.struct(_key_exprs(table, cols, scales)).hash(seed=7)


def duplicates(table: Table, *, id_col: str | None, features: Sequence[str]) -> DupResult:
    """Exact duplicate rows (all columns but the id) and near duplicates (features only)."""
    pl = _pl()
    content = [c for c in table.columns if c not in (ROW, id_col)]
    scales = _scales(table, features)
    ident = pl.col(id_col) if id_col else pl.col(ROW)
    q = table.lazy.select(
        pl.col(ROW),
        ident.cast(pl.Utf8).alias("_id"),
        pl.struct([pl.col(c) for c in content]).hash(seed=3).alias("_exact"),
        _hash(table, table.lazy, features, scales).alias("_near"),
    )
    # two passes so that only duplicated keys are ever grouped into lists: memory stays
    # bounded by the duplicates, not by the table
    dup_keys = (
        q.group_by("_near").agg(pl.len().alias("_n")).filter(pl.col("_n") > 1).select("_near")
    )
    groups = table.collect(
        q.join(dup_keys, on="_near", how="semi")
        .group_by("_near")
        .agg(pl.col(ROW), pl.col("_id"), pl.col("_exact"))
    )
    pairs: list[dict[str, Any]] = []
    flagged: dict[int, str] = {}
    exact_rows = near_rows = 0
    for rows, ids, exacts in groups.select(ROW, "_id", "_exact").iter_rows():
        order = sorted(range(len(rows)), key=lambda i: rows[i])
        first = order[0]
        for i in order[1:]:
            kind = "exact" if exacts[i] == exacts[first] else "near"
            if kind == "exact":
                exact_rows += 1
            else:
                near_rows += 1
            flagged[int(rows[i])] = kind
            if len(pairs) < PAIR_CAP:
                pairs.append({"ids": [ids[first], ids[i]], "kind": kind})
    pairs.sort(key=lambda p: (p["kind"], str(p["ids"][0])))
    return DupResult(pairs, exact_rows, near_rows, flagged)


def leakage(
    table: Table, test: Table, *, id_col: str | None, features: Sequence[str]
) -> tuple[list[dict[str, Any]], int, dict[int, float]]:
    """Rows whose (near-)identical features occur in the test split: pairs, count, rows."""
    pl = _pl()
    missing = [c for c in features if c not in test.columns]
    if missing:
        from aisec.core.errors import InputError

        raise InputError(
            f"test split lacks the feature columns {', '.join(missing[:5])}", path=test.path
        )
    scales = _scales(table, features)
    train_id = pl.col(id_col) if id_col else pl.col(ROW)
    test_id = pl.col(id_col) if id_col and id_col in test.columns else pl.col(ROW)
    left = table.lazy.select(
        pl.col(ROW),
        train_id.cast(pl.Utf8).alias("_id"),
        _hash(table, table.lazy, features, scales).alias("_k"),
    )
    right = test.lazy.select(
        test_id.cast(pl.Utf8).alias("_test_id"),
        _hash(test, test.lazy, features, scales).alias("_k"),
    )
    joined = table.collect(left.join(right, on="_k", how="inner").select(ROW, "_id", "_test_id"))
    pairs = [{"ids": [a, b]} for _, a, b in joined.head(PAIR_CAP).iter_rows()]
    rows = {int(r): 1.0 for r in joined.get_column(ROW).unique().to_list()}
    return pairs, len(rows), rows


def pii(
    table: Table, *, id_col: str | None, columns: Sequence[str]
) -> tuple[list[dict[str, Any]], dict[str, int], dict[int, list[str]]]:
    """Rows with personal data in text columns: list, counts by kind, row -> kinds."""
    pl = _pl()
    if not columns:
        return [], {}, {}
    ident = pl.col(id_col) if id_col else pl.col(ROW)
    flags = []
    for kind, pattern in PII_PATTERNS:
        hit = pl.any_horizontal(
            [pl.col(c).cast(pl.Utf8).str.contains(pattern).fill_null(False) for c in columns]
        )
        flags.append(hit.alias(kind))
    q = table.lazy.select(pl.col(ROW), ident.cast(pl.Utf8).alias("_id"), *flags).filter(
        pl.any_horizontal([pl.col(k) for k, _ in PII_PATTERNS])
    )
    hits = table.collect(q)
    cards: dict[int, bool] = {}
    if hits.height and hits.get_column("credit_card").any():
        rows = hits.filter(pl.col("credit_card")).get_column(ROW)
        cand = table.collect(
            table.lazy.filter(pl.col(ROW).is_in(rows.implode())).select(
                pl.col(ROW),
                pl.concat_list(
                    [pl.col(c).cast(pl.Utf8).str.extract_all(PII_PATTERNS[3][1]) for c in columns]
                ).alias("_cands"),
            )
        )
        for row, found in cand.iter_rows():
            cards[int(row)] = any(luhn_ok(s) for s in (found or []) if s is not None)
    out: list[dict[str, Any]] = []
    counts: dict[str, int] = {}
    by_row: dict[int, list[str]] = {}
    for rec in hits.iter_rows(named=True):
        row = int(rec[ROW])
        kinds = [
            k for k, _ in PII_PATTERNS if rec[k] and (k != "credit_card" or cards.get(row, False))
        ]
        if not kinds:
            continue
        for k in kinds:
            counts[k] = counts.get(k, 0) + 1
        by_row[row] = kinds
        if len(out) < PAIR_CAP:
            out.append({"id": rec["_id"], "kinds": kinds})
    return out, counts, by_row


def _psi(expected: Any, actual: Any) -> float:
    import numpy as np

    e = np.clip(np.asarray(expected, dtype=float), 1e-4, None)
    a = np.clip(np.asarray(actual, dtype=float), 1e-4, None)
    e, a = e / e.sum(), a / a.sum()
    return float(np.sum((a - e) * np.log(a / e)))


def drift(
    table: Table,
    reference: Table,
    *,
    columns: Sequence[str],
    sample_cap: int,
    seed: int,
    alpha: float = 0.01,
    psi_threshold: float = 0.1,
) -> list[dict[str, Any]]:
    """Per column: KS (numeric) or chi-square (categorical) p-value and PSI.

    A column has drifted when the test rejects at ``alpha`` *and* the PSI reaches
    ``psi_threshold`` (or, numeric, the KS statistic reaches 0.1): on large tables a
    p-value alone flags differences too small to matter.
    """
    import numpy as np
    from scipy import stats

    pl = _pl()
    out: list[dict[str, Any]] = []
    n_cur, n_ref = table.count(), reference.count()
    cur_s = table.sample(n_cur, sample_cap, seed)
    ref_s = reference.sample(n_ref, sample_cap, seed + 1)
    for col in columns:
        if col not in reference.columns:
            continue
        ct, rt = table.columns[col], reference.columns[col]
        numeric = (ct.is_numeric() and rt.is_numeric()) and not (
            ct.is_integer() and _distinct(cur_s, col) <= 20
        )
        if numeric:
            a = cur_s.get_column(col).cast(pl.Float64).drop_nulls().drop_nans().to_numpy()
            b = ref_s.get_column(col).cast(pl.Float64).drop_nulls().drop_nans().to_numpy()
            if len(a) < 5 or len(b) < 5:
                continue
            ks = stats.ks_2samp(a, b)
            edges = np.unique(np.quantile(b, np.linspace(0, 1, 11)))
            edges[0], edges[-1] = -np.inf, np.inf
            psi = _psi(np.histogram(b, edges)[0], np.histogram(a, edges)[0])
            stat, p = float(ks.statistic), float(ks.pvalue)
            drifted = p < alpha and (psi >= psi_threshold or stat >= 0.1)
            out.append(_drift_row(col, "ks", stat, p, psi, drifted))
            continue
        cur_counts = _value_counts(table, col)
        ref_counts = _value_counts(reference, col)
        cats = sorted(ref_counts, key=lambda k: -ref_counts[k])[:50]
        other_c = sum(v for k, v in cur_counts.items() if k not in cats)
        other_r = sum(v for k, v in ref_counts.items() if k not in cats)
        obs = np.array(
            [
                [cur_counts.get(k, 0) for k in cats] + [other_c],
                [ref_counts.get(k, 0) for k in cats] + [other_r],
            ],
            dtype=float,
        )
        obs = obs[:, obs.sum(axis=0) > 0]
        if obs.shape[1] < 2:
            continue
        chi = stats.chi2_contingency(obs)
        psi = _psi(obs[1], obs[0])
        p = float(chi.pvalue)
        out.append(
            _drift_row(
                col, "chi2", float(chi.statistic), p, psi, p < alpha and psi >= psi_threshold
            )
        )
    return out


def _drift_row(
    col: str, test: str, stat: float, p: float, psi: float, drifted: bool
) -> dict[str, Any]:
    return {
        "column": col,
        "test": test,
        "statistic": round(stat, 6),
        "p_value": float(f"{p:.6g}"),
        "psi": round(psi, 6),
        "drifted": bool(drifted),
    }


def _distinct(frame: Any, col: str) -> int:
    return int(frame.get_column(col).n_unique())


def _value_counts(table: Table, col: str) -> dict[str, int]:
    pl = _pl()
    res = table.collect(
        table.lazy.group_by(pl.col(col).cast(pl.Utf8).fill_null("<null>").alias("_v")).agg(
            pl.len().alias("_n")
        )
    )
    return {str(v): int(n) for v, n in res.iter_rows()}
