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

__all__ = [
    "PAIR_CAP",
    "PII_PATTERNS",
    "duplicate_keys",
    "duplicate_scales",
    "duplicates",
    "leakage",
    "luhn_ok",
    "pii",
    "resolution",
]

PAIR_CAP = 10_000
"""Row pairs listed at most per check (the counts are always complete)."""

PII_PATTERNS: tuple[tuple[str, str], ...] = (
    ("email", r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"),
    ("ssn", r"(?:^|[^\d-])\d{3}-\d{2}-\d{4}(?:$|[^\d-])"),
    # candidates only: a run of 7 or more digits with separators; confirmed by the
    # phonenumbers library where installed (:func:`_phone_ok`), else by this regex alone
    ("phone", r"(?:^|[^\d])(?:\+\d{1,3}[ .-]?)?\(?\d{2,4}\)?(?:[ .-]?\d){5,10}(?:$|[^\d])"),
    ("credit_card", r"(?:\d[ -]?){12,18}\d"),
    (
        "ip_address",
        r"(?:^|[^\d.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}"
        r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:$|[^\d.])",
    ),
)


PHONE_REGION = "US"
"""Region assumed for phone numbers written without a country code."""

_STRICT_PHONE = r"(?:^|[^\d])(?:\+\d{1,3}[ .-]?)?\(?\d{3}\)?[ .-]?\d{3}[ .-]\d{4}(?:$|[^\d])"


def _phone_ok(text: str, region: str = PHONE_REGION) -> bool:
    """A phone number in ``text``: libphonenumber's matcher (possible numbers, national and
    international formats, local numbers without an area code); without the library, a
    strict North-American pattern."""
    try:
        import phonenumbers
    except ImportError:  # pragma: no cover - depends on the install
        import re

        return re.search(_STRICT_PHONE, text) is not None
    matcher = phonenumbers.PhoneNumberMatcher(
        text, region, leniency=phonenumbers.Leniency.POSSIBLE, max_tries=50
    )
    return matcher.has_next()


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


def duplicate_scales(table: Table, features: Sequence[str]) -> dict[str, float]:
    """The rounding step of each float feature (5 % of its standard deviation)."""
    return _scales(table, features)


def duplicate_keys(
    table: Table,
    *,
    id_col: str | None,
    features: Sequence[str],
    source_col: str | None,
    scales: dict[str, float],
) -> Any:
    """Each row's exact and near-duplicate hashes (a LazyFrame of ``ROW``, ``_exact``,
    ``_near``); row-local, so parts of a table can be hashed apart and concatenated."""
    pl = _pl()
    content = [c for c in table.columns if c not in (ROW, id_col, source_col)]
    return table.lazy.select(
        pl.col(ROW),
        pl.struct([pl.col(c) for c in content]).hash(seed=3).alias("_exact"),
        _hash(table, table.lazy, features, scales).alias("_near"),
    )


def duplicates(
    table: Table,
    *,
    id_col: str | None,
    features: Sequence[str],
    source_col: str | None = None,
    keys: Any = None,
) -> DupResult:
    """Exact duplicate rows (all columns but the id and the source) and near duplicates.

    The source column is left out of the comparison: a row copied from one source into
    another is the duplicate that matters most. ``keys`` are the rows' hashes when
    computed elsewhere (:func:`duplicate_keys`, e.g. in parts on a cluster).
    """
    pl = _pl()
    if keys is None:
        scales = _scales(table, features)
        keys = duplicate_keys(
            table, id_col=id_col, features=features, source_col=source_col, scales=scales
        )
    # two passes so that only duplicated keys are ever grouped into lists: memory stays
    # bounded by the duplicates, not by the table
    dup_keys = (
        keys.group_by("_near").agg(pl.len().alias("_n")).filter(pl.col("_n") > 1).select("_near")
    )
    groups = table.collect(
        keys.join(dup_keys, on="_near", how="semi")
        .group_by("_near")
        .agg(pl.col(ROW), pl.col("_exact"))
    )
    ids: dict[int, str] = {}
    if groups.height:
        ident = pl.col(id_col) if id_col else pl.col(ROW)
        members = groups.get_column(ROW).explode()
        got = table.collect(
            table.lazy.filter(pl.col(ROW).is_in(members.implode())).select(
                pl.col(ROW), ident.cast(pl.Utf8).alias("_id")
            )
        )
        ids = {int(r): i for r, i in got.iter_rows()}
    pairs: list[dict[str, Any]] = []
    flagged: dict[int, str] = {}
    exact_rows = near_rows = 0
    for rows, exacts in groups.select(ROW, "_exact").iter_rows():
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
                pairs.append({"ids": [ids[int(rows[first])], ids[int(rows[i])]], "kind": kind})
    pairs.sort(key=lambda p: (p["kind"], str(p["ids"][0])))
    return DupResult(pairs, exact_rows, near_rows, flagged)


def resolution(table: Table, col: str) -> float:
    """The step of a numeric column's last decimal (1 for integers), from its own values.

    The smallest k <= 6 such that every value times 10**k is an integer (within float
    error); a column with more decimals than that gets 1e-6.
    """
    pl = _pl()
    if not table.columns[col].is_float():
        return 1.0
    x = pl.col(col).cast(pl.Float64)
    exprs = [
        ((x * 10**k - (x * 10**k).round(0)).abs() > 1e-6 * max(1.0, 10**k)).sum().alias(str(k))
        for k in range(7)
    ]
    row = table.collect(table.lazy.select(exprs)).row(0)
    for k, bad in enumerate(row):
        if not bad:
            return float(10.0**-k)
    return 1e-6


_LEAK_CHUNK = 50_000


def leakage(
    table: Table,
    test: Table,
    *,
    id_col: str | None,
    features: Sequence[str],
    texts: Sequence[str] = (),
    units: float = 1.0,
) -> tuple[list[dict[str, Any]], int, dict[int, float]]:
    """Training rows that reappear in the test split, exactly or moved by rounding noise.

    Candidates are each test row's nearest training rows (scikit-learn ``NearestNeighbors``
    on the numeric columns standardised by the training spread); a candidate is a leak
    when every numeric column differs by at most ``units`` steps of that column's last
    decimal (:func:`resolution`, read from the data) and every text column is equal after
    case and space folding. Without numeric columns, rows are matched by the hash of
    their folded text. Returns the pairs, the number of training rows and row -> score.
    """
    import numpy as np

    pl = _pl()
    missing = [c for c in [*features, *texts] if c not in test.columns]
    if missing:
        from aisec.core.errors import InputError

        raise InputError(
            f"test split lacks the feature columns {', '.join(missing[:5])}", path=test.path
        )
    train_id = pl.col(id_col) if id_col else pl.col(ROW)
    test_id = pl.col(id_col) if id_col and id_col in test.columns else pl.col(ROW)
    key_tr = _key_exprs(table, texts, {})
    key_te = _key_exprs(test, texts, {})
    txt_tr = pl.struct(key_tr).hash(seed=5) if texts else pl.lit(0, pl.UInt64)
    txt_te = pl.struct(key_te).hash(seed=5) if texts else pl.lit(0, pl.UInt64)
    if not features:
        left = table.lazy.select(
            pl.col(ROW), train_id.cast(pl.Utf8).alias("_id"), txt_tr.alias("_k")
        )
        right = test.lazy.select(test_id.cast(pl.Utf8).alias("_test_id"), txt_te.alias("_k"))
        joined = table.collect(left.join(right, on="_k", how="inner"))
        exact = [
            {"ids": [a, b], "units": 0.0}
            for _, a, b in joined.select(ROW, "_id", "_test_id").head(PAIR_CAP).iter_rows()
        ]
        hit = {int(r): 1.0 for r in joined.get_column(ROW).unique().to_list()}
        return exact, len(hit), hit
    from sklearn.neighbors import NearestNeighbors  # type: ignore[import-untyped]

    step = np.array([resolution(table, c) for c in features])
    num = [pl.col(c).cast(pl.Float64).fill_nan(None) for c in features]
    tr = table.collect(
        table.lazy.select(
            pl.col(ROW), train_id.cast(pl.Utf8).alias("_id"), txt_tr.alias("_t"), *num
        )
    )
    te = test.collect(
        test.lazy.select(test_id.cast(pl.Utf8).alias("_id"), txt_te.alias("_t"), *num)
    )
    a = tr.select(features).to_numpy().astype(np.float64)
    b = te.select(features).to_numpy().astype(np.float64)
    centre = np.nanmean(a, axis=0)
    sd = np.nanstd(a, axis=0)
    sd = np.where(np.isfinite(sd) & (sd > 0), sd, 1.0)
    fill = np.where(np.isfinite(centre), centre, 0.0)
    za = np.nan_to_num((a - fill) / sd, nan=0.0).astype(np.float32)
    zb = np.nan_to_num((b - fill) / sd, nan=0.0).astype(np.float32)
    k = min(3, len(za))
    nn = NearestNeighbors(n_neighbors=k).fit(za)
    t_tr = tr.get_column("_t").to_numpy()
    t_te = te.get_column("_t").to_numpy()
    ids_tr = tr.get_column("_id").to_list()
    ids_te = te.get_column("_id").to_list()
    rows_tr = tr.get_column(ROW).to_numpy()
    pairs: list[dict[str, Any]] = []
    rows: dict[int, float] = {}
    tol = units + 1e-6
    for lo in range(0, len(zb), _LEAK_CHUNK):
        _, idx = nn.kneighbors(zb[lo : lo + _LEAK_CHUNK])
        for off, cand in enumerate(idx):
            j = lo + off
            for i in cand:
                diff = np.abs(a[i] - b[j])
                both_nan = np.isnan(a[i]) & np.isnan(b[j])
                moved = np.where(both_nan, 0.0, diff / step)
                if not np.all(np.nan_to_num(moved, nan=np.inf) <= tol) or t_tr[i] != t_te[j]:
                    continue
                r = int(rows_tr[i])
                rows[r] = 1.0
                if len(pairs) < PAIR_CAP:
                    pairs.append(
                        {
                            "ids": [ids_tr[i], ids_te[j]],
                            "units": round(float(np.nanmax(moved)) if moved.size else 0.0, 3),
                            "moved": [features[int(c)] for c in np.flatnonzero(moved > 1e-6)],
                        }
                    )
                break
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
    cards = _confirm(table, hits, "credit_card", columns, PII_PATTERNS[3][1], luhn_ok)
    phones = _confirm(table, hits, "phone", columns, None, _phone_ok)
    out: list[dict[str, Any]] = []
    counts: dict[str, int] = {}
    by_row: dict[int, list[str]] = {}
    for rec in hits.iter_rows(named=True):
        row = int(rec[ROW])
        kinds = [
            k
            for k, _ in PII_PATTERNS
            if rec[k]
            and (k != "credit_card" or cards.get(row, False))
            and (k != "phone" or phones.get(row, False))
        ]
        if not kinds:
            continue
        for k in kinds:
            counts[k] = counts.get(k, 0) + 1
        by_row[row] = kinds
        if len(out) < PAIR_CAP:
            out.append({"id": rec["_id"], "kinds": kinds})
    return out, counts, by_row


def _confirm(
    table: Table,
    hits: Any,
    kind: str,
    columns: Sequence[str],
    pattern: str | None,
    ok: Any,
) -> dict[int, bool]:
    """Row -> whether a candidate of ``kind`` passes ``ok`` (on extracted matches, or on
    the whole cell when ``pattern`` is None)."""
    pl = _pl()
    out: dict[int, bool] = {}
    if not hits.height or not hits.get_column(kind).any():
        return out
    rows = hits.filter(pl.col(kind)).get_column(ROW)
    if pattern is not None:
        cells = [pl.col(c).cast(pl.Utf8).str.extract_all(pattern) for c in columns]
    else:
        cells = [pl.concat_list([pl.col(c).cast(pl.Utf8)]) for c in columns]
    cand = table.collect(
        table.lazy.filter(pl.col(ROW).is_in(rows.implode())).select(
            pl.col(ROW), pl.concat_list(cells).alias("_cands")
        )
    )
    for row, found in cand.iter_rows():
        out[int(row)] = any(ok(s) for s in (found or []) if s is not None)
    return out


def _psi(expected: Any, actual: Any) -> float:
    import numpy as np

    e = np.clip(np.asarray(expected, dtype=float), 1e-4, None)
    a = np.clip(np.asarray(actual, dtype=float), 1e-4, None)
    e, a = e / e.sum(), a / a.sum()
    return float(np.sum((a - e) * np.log(a / e)))
