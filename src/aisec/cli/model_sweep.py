"""``aisec model sweep``: scan a whole model registry, one signed attestation per model."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console

from aisec.cli._common import (
    ControlOptions,
    control_options,
    engine_options,
    plural,
    stderr_console,
)
from aisec.cli.model import model_group

if TYPE_CHECKING:
    from aisec.core.findings import Finding
    from aisec.core.predicates import Predicate
    from aisec.scale.sweep import SweepResult


@dataclass
class _SweepOutcome:
    result: SweepResult

    @property
    def findings(self) -> Sequence[Finding]:
        return self.result.findings

    def to_json(self) -> dict[str, Any]:
        return self.result.to_json()

    def predicates(self) -> Sequence[Predicate]:
        return ()  # each model's attestation was recorded as the sweep went


@model_group.command(name="sweep")
@click.argument("sources", nargs=-1, required=True)
@engine_options(ray_does="as Ray tasks; a local Ray is stopped after the sweep")
@click.option(
    "--model-depth",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Folder levels below a source that make one model (org/name: 2).",
)
@click.option(
    "--resume",
    "resume_id",
    default=None,
    metavar="SWEEP_ID",
    help="Continue the sweep SWEEP_ID: models already recorded and unchanged are skipped.",
)
@control_options()
def sweep(
    sources: tuple[str, ...],
    engine: str,
    address: str | None,
    workers: int | None,
    model_depth: int,
    resume_id: str | None,
    opts: ControlOptions,
) -> None:
    """Scan many models (folders, listing files of paths or URLs, fsspec URLs) and record one
    deployment/model-scan attestation per model.

    Files are scanned in parallel; only this process signs (the key never goes to a Ray
    worker). A killed sweep continues with --resume SWEEP_ID, printed at the start.
    """
    from aisec.scale import plan_sweep, run_sweep

    recorder = opts.recorder()
    units = plan_sweep(list(sources), model_depth=model_depth)
    err = stderr_console()
    files = sum(len(u.files) for u in units)
    err.print(
        f"sweeping {plural(len(units), 'model')} ({plural(files, 'file')}) on {engine}",
        markup=False,
    )
    result = run_sweep(
        units,
        recorder=recorder,
        engine=engine,
        address=address,
        workers=workers,
        sweep_id=resume_id,
        resume=resume_id is not None,
    )

    def text(con: Console) -> None:
        con.print(f"sweep {result.sweep_id}", markup=False)
        for verdict, count in sorted(result.verdicts.items()):
            con.print(f"  {verdict:<12} {count}", markup=False)
        if result.skipped:
            con.print(f"  {result.skipped} unchanged model(s) skipped (already recorded)")

    opts.finish(
        _SweepOutcome(result),
        text=text,
        summary=f"{plural(result.models, 'model')} swept, {plural(result.files, 'file')}, "
        f"{plural(len(result.findings), 'finding')}; "
        f"{plural(len(result.entries), 'attestation')} recorded"
        + (f" (resume with --resume {result.sweep_id})" if result.models else ""),
    )
