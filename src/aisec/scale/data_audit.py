"""``aisec data audit --engine ray``: the audit's row-local checks as Ray tasks.

The driver plans the table into row slices; one Ray task per slice runs
:func:`aisec.data._rowpass.row_checks` on it (missing values, the expected schema's
value checks, personal data with its Luhn and phone confirmation, the duplicate hashes, and
the rows of the model-based checks' seeded sample); the driver merges the partial results in
row order. Everything else stays on the driver: the column scales the hashes need, the
duplicate grouping, gross errors (medians and MADs), trigger search, drift, leakage, the
model-based checks on the gathered sample, scoring, and signing. Workers receive the
dataset's path, the column names, the scales, the expected schema and the sample's row
numbers; never a key or a database URL.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from aisec.data._rowpass import RowChecks, RowPlan, merge_row_checks, row_checks
from aisec.data._table import Table, open_table

__all__ = ["CHUNK_ROWS", "plan_slices", "ray_row_pass", "slice_checks"]

CHUNK_ROWS = 1_000_000
"""Rows a slice holds at most (a worker reads one slice at a time)."""


def plan_slices(n_rows: int, cpus: int, chunk_rows: int = CHUNK_ROWS) -> list[tuple[int, int]]:
    """Consecutive row ranges: at least two per CPU, at most ``chunk_rows`` rows each."""
    parts = max(2 * max(cpus, 1), math.ceil(n_rows / chunk_rows))
    parts = min(parts, max(n_rows, 1))
    step = math.ceil(n_rows / parts)
    return [(lo, min(lo + step, n_rows)) for lo in range(0, n_rows, step)]


def slice_checks(path: str, lo: int, hi: int, plan: RowPlan) -> RowChecks:
    """The row-local checks of rows [lo, hi) of the table at ``path``; runs on a worker,
    which opens the table itself (the same reader and types as the driver)."""
    table = open_table(Path(path), bounds=(lo, hi))
    return row_checks(table, plan, collect_keys=True)


def ray_row_pass(
    *, address: str | None = None, workers: int | None = None, chunk_rows: int = CHUNK_ROWS
) -> Any:
    """A ``row_pass`` for :func:`aisec.data.audit_dataset` that runs as Ray tasks."""

    def run(table: Table, plan: RowPlan) -> RowChecks:
        from aisec.scale._ray import map_tasks, ray_session

        n_rows = table.count()
        with ray_session(address, workers) as ray:
            cpus = int(ray.cluster_resources().get("CPU", 1))
            slices = [(str(table.path), lo, hi) for lo, hi in plan_slices(n_rows, cpus, chunk_rows)]
            got = dict(map_tasks(ray, slice_checks, slices, shared=plan))
        parts = [got[i] for i in range(len(slices))]
        merged = merge_row_checks(parts)
        merged.parts = len(parts)
        merged.where = [f"ray: {len(parts)} slices on {cpus} CPUs"]
        return merged

    return run
