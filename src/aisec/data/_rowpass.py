"""The audit's row-local work, split so parts of a table can run apart and be combined.

Missing values, the expected schema's value checks, personal data, the duplicate hashes
and the rows of the model-based checks' sample depend on each row alone (given the
column scales, computed before): :func:`row_checks` runs them over a table or any slice
of it (row numbers stay global), :func:`merge_row_checks` combines the parts in row
order into what one pass over the whole table gives. The in-process audit runs one part;
``aisec.scale`` runs one per slice on Ray Data and merges on the driver.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aisec.data._checks import PAIR_CAP, duplicate_keys, pii
from aisec.data._table import ExpectedSchema, Table, _pl, missing_counts, schema_counts

__all__ = ["RowChecks", "RowPass", "RowPlan", "merge_row_checks", "row_checks"]


@dataclass(frozen=True)
class RowPlan:
    """What the row-local checks need to know about the whole table (no secret in it:
    this is what a cluster's workers receive, with the dataset's path)."""

    id_column: str | None
    source_column: str | None
    texts: tuple[str, ...]
    dup_features: tuple[str, ...]
    scales: dict[str, float]
    schema: ExpectedSchema | None
    sample: Any  # sorted row numbers of the model-based checks' sample, None: every row


@dataclass
class RowChecks:
    missing: dict[str, int]
    schema_counts: dict[str, int]
    pii_list: list[dict[str, Any]]
    pii_counts: dict[str, int]
    pii_rows: dict[int, list[str]]
    dup_keys: Any  # polars LazyFrame (ROW, _exact, _near)
    sample: Any  # polars DataFrame of the sampled rows, in row order
    parts: int = 1
    where: list[str] = field(default_factory=list)


RowPass = Callable[[Table, RowPlan], RowChecks]
"""Runs the row-local checks over a table: :func:`row_checks` here, or on a cluster."""


def row_checks(table: Table, plan: RowPlan, *, collect_keys: bool = False) -> RowChecks:
    """The row-local checks over ``table`` (the whole table or a slice of it)."""
    pii_list, pii_counts, pii_rows = pii(table, id_col=plan.id_column, columns=plan.texts)
    keys = duplicate_keys(
        table,
        id_col=plan.id_column,
        features=plan.dup_features,
        source_col=plan.source_column,
        scales=plan.scales,
    )
    sample = plan.sample
    if sample is not None and table.bounds is not None:
        # this slice's share of the sample: slices pick disjoint parts of it
        lo, hi = table.bounds
        sample = sample[(sample >= lo) & (sample < hi)]
    return RowChecks(
        missing=missing_counts(table),
        schema_counts=schema_counts(table, plan.schema) if plan.schema else {},
        pii_list=pii_list,
        pii_counts=pii_counts,
        pii_rows=pii_rows,
        dup_keys=table.collect(keys) if collect_keys else keys,
        sample=table.collect(table.pick(sample)),
    )


def merge_row_checks(parts: Sequence[RowChecks]) -> RowChecks:
    """One :class:`RowChecks` from the checks of consecutive slices, given in row order."""
    pl = _pl()
    if len(parts) == 1:
        return parts[0]
    missing: dict[str, int] = {}
    schema: dict[str, int] = {}
    counts: dict[str, int] = {}
    rows: dict[int, list[str]] = {}
    listed: list[dict[str, Any]] = []
    for p in parts:
        for c, n in p.missing.items():
            missing[c] = missing.get(c, 0) + n
        for k, n in p.schema_counts.items():
            schema[k] = schema.get(k, 0) + n
        for k, n in p.pii_counts.items():
            counts[k] = counts.get(k, 0) + n
        rows.update(p.pii_rows)
        listed += p.pii_list[: max(0, PAIR_CAP - len(listed))]
    keys = pl.concat([_frame(p.dup_keys) for p in parts], how="vertical")
    sample = pl.concat([p.sample for p in parts], how="vertical")
    return RowChecks(
        missing=missing,
        schema_counts=schema,
        pii_list=listed,
        pii_counts=counts,
        pii_rows=rows,
        dup_keys=keys.lazy(),
        sample=sample,
        parts=len(parts),
        where=[w for p in parts for w in p.where],
    )


def _frame(keys: Any) -> Any:
    return keys if hasattr(keys, "height") else keys.collect(engine="streaming")
