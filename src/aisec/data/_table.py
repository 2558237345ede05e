"""Reading tables lazily with Polars, and the checks that run over every row.

Every full-table pass is a lazy query collected with the streaming engine, so a table
larger than memory is read in batches. The ML checks work on a seeded sample
(:data:`SAMPLE_CAP` rows by default) drawn with a fixed seed, documented in docs/data.md.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from aisec.core.errors import FormatError, InputError, MissingExtraError

__all__ = [
    "ROW",
    "SAMPLE_CAP",
    "ExpectedSchema",
    "Table",
    "load_schema",
    "open_table",
]

ROW = "__aisec_row"
SAMPLE_CAP = 20_000
"""Rows the model-based checks (label issues, spectral signatures, isolation forest) see
at most (seeded sample, stated in every output format); every other check sees every row."""


def _pl() -> Any:
    try:
        import polars as pl
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise MissingExtraError("aisec data audit", "data") from exc
    return pl


class ColumnSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: str = Field(pattern="^(int|float|number|string|bool|category)$")
    nullable: bool = True
    allowed: list[str | int | float | bool] | None = None
    min: float | None = None
    max: float | None = None


class ExpectedSchema(BaseModel):
    """``--schema`` file: ``columns: {name: {type, nullable, allowed, min, max}}``."""

    model_config = ConfigDict(extra="forbid")
    columns: dict[str, ColumnSpec]
    strict: bool = False  # True: columns not listed are reported too


def load_schema(path: str | os.PathLike[str]) -> ExpectedSchema:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read schema: {exc}", path=path) from exc
    except yaml.YAMLError as exc:
        raise FormatError(f"schema is not YAML: {str(exc).splitlines()[0]}", path=path) from exc
    try:
        return ExpectedSchema.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        raise FormatError(f"schema: {loc}: {err['msg']}", path=path) from exc


@dataclass
class Table:
    """A lazily scanned table with a row number column ``ROW``."""

    path: Path
    lazy: Any  # polars.LazyFrame
    columns: dict[str, Any]  # name -> polars dtype
    bounds: tuple[int, int] | None = None  # a slice of a table: its rows [lo, hi)

    def collect(self, query: Any) -> Any:
        return query.collect(engine="streaming")

    def count(self) -> int:
        pl = _pl()
        return int(self.collect(self.lazy.select(pl.len())).item())

    def numeric(self, exclude: Sequence[str]) -> list[str]:
        return [
            c
            for c, t in self.columns.items()
            if c not in exclude and c != ROW and (t.is_numeric() or t == _pl().Boolean)
        ]

    def text(self, exclude: Sequence[str]) -> list[str]:
        pl = _pl()
        return [
            c
            for c, t in self.columns.items()
            if c not in exclude and c != ROW and t in (pl.Utf8, pl.Categorical)
        ]

    def sample(self, n_rows: int, cap: int, seed: int) -> Any:
        """Up to ``cap`` rows picked uniformly with ``seed``, in row order (a DataFrame)."""
        return self.collect(self.pick(sample_rows(n_rows, cap, seed)))

    def pick(self, rows: Any) -> Any:
        """The rows numbered ``rows`` (sorted; None: every row), lazily, in row order."""
        pl = _pl()
        if rows is None:
            return self.lazy
        picked = pl.Series(ROW, rows, dtype=pl.UInt32)
        return self.lazy.filter(pl.col(ROW).is_in(picked.implode()))

    def rows(self, lo: int, hi: int) -> Table:
        """Rows ``lo`` to ``hi`` (exclusive) as a table; their row numbers stay global.

        The slice is taken at the scan, before the blank folding and the row numbers, so
        Polars reads only the row groups (Parquet) that hold it."""
        return open_table(self.path, bounds=(lo, hi))


def sample_rows(n_rows: int, cap: int, seed: int) -> Any:
    """The row numbers of the model-based checks' sample: ``cap`` of ``n_rows`` picked
    uniformly with ``seed``, sorted (None: every row, when there are no more than ``cap``)."""
    if n_rows <= cap:
        return None
    import numpy as np

    return np.sort(np.random.default_rng(seed).choice(n_rows, size=cap, replace=False))


def open_table(
    path: Path, *, role: str = "dataset", bounds: tuple[int, int] | None = None
) -> Table:
    """Scan CSV (``.csv``/``.tsv``), Parquet or JSON lines without loading it; ``bounds``:
    rows [lo, hi) alone, numbered as in the whole table.

    CSV cells are text to Polars: nothing in a cell is evaluated, formulas included.
    """
    pl = _pl()
    if not path.exists():
        raise InputError(f"{role} not found", path=path)
    if path.is_dir():
        raise InputError(f"{role} is a folder; give one CSV, Parquet or JSON lines file", path=path)
    suffix = path.suffix.lower()
    try:
        if suffix in (".csv", ".tsv", ".txt"):
            lazy = pl.scan_csv(
                path,
                separator="\t" if suffix == ".tsv" else ",",
                infer_schema_length=10_000,
                ignore_errors=False,
            )
        elif suffix in (".parquet", ".pq"):
            lazy = pl.scan_parquet(path)
        elif suffix in (".jsonl", ".ndjson", ".json"):
            lazy = pl.scan_ndjson(path, infer_schema_length=10_000)
        else:
            raise InputError(
                f"unsupported {role} format {suffix or '(none)'}; "
                "use .csv, .tsv, .parquet or .jsonl",
                path=path,
            )
        schema = dict(lazy.collect_schema())
    except InputError:
        raise
    except (pl.exceptions.PolarsError, OSError, UnicodeDecodeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise FormatError(f"cannot read {role}: {first}", path=path) from exc
    if not schema:
        raise FormatError(f"{role} has no columns", path=path)
    if bounds is not None:
        lazy = lazy.slice(bounds[0], bounds[1] - bounds[0])
    if ROW in schema:
        raise FormatError(f"{role} has a column named {ROW}, which aisec reserves", path=path)
    # an empty or blank string is a missing value in every format: CSV readers turn it
    # into null already, Parquet and JSON lines keep it, so the audit folds it here
    blank = [
        pl.when(pl.col(c).str.strip_chars() == "").then(None).otherwise(pl.col(c)).alias(c)
        for c, t in schema.items()
        if t == pl.Utf8
    ]
    if blank:
        lazy = lazy.with_columns(blank)
    lazy = lazy.with_row_index(ROW, offset=bounds[0] if bounds else 0)
    return Table(path=path, lazy=lazy, columns=schema, bounds=bounds)


def check_readable(table: Table) -> int:
    """Count rows, turning a parse failure deep in the file into one error line."""
    pl = _pl()
    try:
        return table.count()
    except (pl.exceptions.PolarsError, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise FormatError(f"cannot read: {first}", path=table.path) from exc


def missing_counts(table: Table) -> dict[str, int]:
    pl = _pl()
    cols = [c for c in table.columns if c != ROW]
    exprs = []
    for c in cols:
        e = pl.col(c).null_count()
        if table.columns[c].is_float():
            e = e + pl.col(c).is_nan().sum()
        exprs.append(e.alias(c))
    row = table.collect(table.lazy.select(exprs)).row(0)
    return {c: int(v) for c, v in zip(cols, row, strict=True)}


def schema_problems(
    table: Table, schema: ExpectedSchema, counts: dict[str, int] | None = None
) -> list[dict[str, Any]]:
    """Differences between the table and the expected schema (each a dict for a finding).

    ``counts`` are the value checks already counted (:func:`schema_counts`, summed over
    parts of the table); without them they are counted here, over every row."""
    if counts is None:
        counts = schema_counts(table, schema)
    out: list[dict[str, Any]] = []
    for name, spec in schema.columns.items():
        dtype = table.columns.get(name)
        if dtype is None:
            out.append({"column": name, "problem": "missing column"})
            continue
        kind = _kind(dtype)
        if not _type_ok(kind, spec.type):
            out.append({"column": name, "problem": f"type {kind}, expected {spec.type}"})
            continue
        for what, _ in _value_checks(name, spec, kind):
            count = counts.get(f"{name}\0{what}", 0)
            if count:
                out.append({"column": name, "problem": f"{int(count)} {what}"})
    if schema.strict:
        out.extend(
            {"column": c, "problem": "column not in the expected schema"}
            for c in table.columns
            if c != ROW and c not in schema.columns
        )
    return out


def _type_ok(kind: str, expected: str) -> bool:
    return {
        "int": kind == "int",
        "float": kind in ("int", "float"),
        "number": kind in ("int", "float"),
        "string": kind == "string",
        "category": kind in ("string", "int", "bool"),
        "bool": kind == "bool",
    }[expected]


def _value_checks(name: str, spec: ColumnSpec, kind: str) -> list[tuple[str, Any]]:
    pl = _pl()
    checks: list[tuple[str, Any]] = []
    if not spec.nullable:
        checks.append(("nulls", pl.col(name).is_null().sum()))
    if spec.allowed is not None and kind != "float":
        allowed = pl.Series([str(a) for a in spec.allowed]).implode()
        checks.append(
            (
                "values outside the allowed set",
                (~pl.col(name).cast(pl.Utf8).is_in(allowed) & pl.col(name).is_not_null()).sum(),
            )
        )
    if spec.min is not None and kind in ("int", "float"):
        checks.append((f"values below {spec.min:g}", (pl.col(name) < spec.min).sum()))
    if spec.max is not None and kind in ("int", "float"):
        checks.append((f"values above {spec.max:g}", (pl.col(name) > spec.max).sum()))
    return checks


def schema_counts(table: Table, schema: ExpectedSchema) -> dict[str, int]:
    """The expected schema's value checks (nulls, allowed set, range) counted over the
    table's rows, keyed by column and check: sums over parts of a table add up."""
    keyed: list[tuple[str, Any]] = []
    for name, spec in schema.columns.items():
        dtype = table.columns.get(name)
        if dtype is None or not _type_ok(_kind(dtype), spec.type):
            continue
        keyed += [(f"{name}\0{w}", e) for w, e in _value_checks(name, spec, _kind(dtype))]
    if not keyed:
        return {}
    res = table.collect(table.lazy.select([e.alias(str(i)) for i, (_, e) in enumerate(keyed)]))
    return {k: int(v or 0) for (k, _), v in zip(keyed, res.row(0), strict=True)}


def _kind(dtype: Any) -> str:
    pl = _pl()
    if dtype == pl.Boolean:
        return "bool"
    if dtype.is_integer():
        return "int"
    if dtype.is_float():
        return "float"
    if dtype in (pl.Utf8, pl.Categorical):
        return "string"
    return str(dtype)
