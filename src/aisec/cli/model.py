"""``aisec model``: scan model files and convert them to SafeTensors."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import click

from aisec.cli._common import (
    ControlOptions,
    OutputFormat,
    control_options,
    plural,
)
from aisec.core.errors import InputError
from aisec.core.findings import render_findings_text
from aisec.deployment import ScanReport, scan_model

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["model_group"]


class _ModelGroup(click.Group):
    """``sign``/``verify`` (:mod:`aisec.cli.model_sign`), ``sweep`` and ``validate`` load when
    used, so a scan imports neither the signing and gate code nor the sweep or validation
    stack: they are most of a one-file scan's start-up."""

    _elsewhere: ClassVar[dict[str, str]] = {
        "sign": "aisec.cli.model_sign",
        "verify": "aisec.cli.model_sign",
        "sweep": "aisec.cli.model_sweep",
        "validate": "aisec.cli.model_validate",
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self._elsewhere})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self._elsewhere and cmd_name not in self.commands:
            import importlib

            module = importlib.import_module(self._elsewhere[cmd_name])
            if hasattr(module, "register"):
                module.register(self)  # the others attach themselves when imported
        return super().get_command(ctx, cmd_name)


@click.group(name="model", cls=_ModelGroup)
def model_group() -> None:
    """Stage 4 (deployment): scan model files, convert them to SafeTensors, sign and
    verify them (OpenSSF model signing)."""


def _scan_text(report: ScanReport) -> Callable[[Console], None]:
    def text(con: Console) -> None:
        lines = []
        for f in report.scanned:
            lines.append(f"{f.verdict.value.upper():<10} {f.format:<16} {f.path}")
            if f.calls:
                lines.append(f"{'':<10} calls {', '.join(f.calls)}")
        if lines:  # plain lines, written as they are: rich's rendering of 5,000 of them
            # (splitting and wrapping a Text) cost more than scanning 5,000 tiny pickles
            con.file.write("\n".join(lines) + "\n")
            con.file.flush()
        if report.findings:
            con.print()
            render_findings_text(list(report.findings), con)

    return text


@model_group.command(name="scan")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=0),
    default=1,
    show_default=True,
    help="Worker processes for folders (0: one per CPU core).",
)
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Progress bar on stderr (default: when stderr is a terminal).",
)
@control_options()
def scan(paths: tuple[Path, ...], jobs: int, progress: bool | None, opts: ControlOptions) -> None:
    """Find content in model files that executes when they are loaded.

    Files, folders and Hugging Face model folders; formats are found by content. Nothing in
    a scanned file is executed. A file that cannot be fully analysed is reported as
    unverified (a finding), never as clean.
    """
    for path in paths:  # name a missing input before saying anything about keys
        if not path.exists() and not path.is_symlink():
            raise InputError(f"{path}: no such file or directory", path=path)
    if jobs == 0:
        jobs = os.cpu_count() or 1
    show = sys.stderr.isatty() if progress is None else progress
    if show:
        from rich.console import Console
        from rich.progress import Progress

        with Progress(console=Console(stderr=True), transient=True) as bar:
            task = bar.add_task("scanning", total=None)

            def advance(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            report = scan_model(list(paths), digest=opts.recording, jobs=jobs, progress=advance)
    else:
        report = scan_model(list(paths), digest=opts.recording, jobs=jobs)
    scanned = report.scanned
    opts.finish(
        report,
        text=_scan_text(report),
        summary=f"{plural(len(scanned), 'model file')} scanned, "
        f"{plural(len(report.files) - len(scanned), 'other file')} in no executable format, "
        f"{plural(len(report.findings), 'finding')}: {report.verdict.value}",
    )


@model_group.command(name="convert")
@click.argument("source", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--to",
    "target",
    type=click.Choice(["safetensors"]),
    default="safetensors",
    show_default=True,
    help="Output format.",
)
@click.option(
    "-o",
    "--out",
    "out",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help="The SafeTensors file to write.",
)
@click.option("--overwrite", is_flag=True, help="Replace OUT if it exists.")
@control_options(formats=(OutputFormat.TEXT, OutputFormat.JSON), fail_on=False, output=False)
def convert(source: Path, target: str, out: Path, overwrite: bool, opts: ControlOptions) -> None:
    """Convert a checkpoint to SafeTensors without executing it.

    Reads PyTorch zip and legacy checkpoints, pickled state dicts and .npy/.npz by
    interpreting only tensor reconstructors; anything else is refused by name.
    """
    if target != "safetensors":  # pragma: no cover - click restricts the choice
        raise InputError(f"unsupported target {target}")
    from aisec.deployment import convert_to_safetensors

    opts.recorder()  # a bad key fails before the conversion
    result = convert_to_safetensors(source, out, overwrite=overwrite)

    def text(con: Console) -> None:
        con.print(
            f"{result.output_digest}  {result.output}  ({plural(result.tensors, 'tensor')} "
            f"from {result.source_format} {result.source_digest})",
            markup=False,
        )

    opts.finish(result, text=text)
