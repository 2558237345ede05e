"""``aisec model``: scan model files and convert them to SafeTensors."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from aisec.cli._common import (
    EXIT_FINDINGS,
    OutputFormat,
    db_option,
    fail_on_option,
    format_option,
    key_option,
    open_output,
    output_option,
    stderr_console,
    stdout_console,
    write_json,
)
from aisec.core.errors import InputError
from aisec.core.findings import Severity, exceeds, findings_to_sarif, render_findings_text
from aisec.deployment import (
    ScanReport,
    convert_statement,
    convert_to_safetensors,
    scan_model,
    scan_statement,
)

if TYPE_CHECKING:
    from aisec.core.evidence import SigningKey

__all__ = ["model_group"]


class _ModelGroup(click.Group):
    """``sign`` and ``verify`` live in :mod:`aisec.cli.model_sign` and load when used, so a
    scan does not import the signing and gate code."""

    _signing = ("sign", "verify")

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self._signing})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self._signing and cmd_name not in self.commands:
            from aisec.cli.model_sign import register

            register(self)
        return super().get_command(ctx, cmd_name)


@click.group(name="model", cls=_ModelGroup)
def model_group() -> None:
    """Stage 4 (deployment): scan model files, convert them to SafeTensors, sign and
    verify them (OpenSSF model signing)."""


def _signing_key(key_path: Path | None) -> SigningKey | None:
    """The key to record with; None (and a warning) when no key was named and none exists."""
    from aisec.core.evidence import default_key_path, load_signing_key

    if key_path is not None:
        return load_signing_key(key_path)
    default = default_key_path()
    if not default.exists():
        stderr_console().print(
            f"aisec: warning: no signing key at {default}: results not recorded "
            "(run `aisec keys generate`, or pass --no-record)",
            markup=False,
        )
        return None
    return load_signing_key(default)


def _print_report(report: ScanReport, fmt: OutputFormat, output: Path) -> None:
    with open_output(output) as fh:
        if fmt is OutputFormat.JSON:
            write_json(report.to_json(), fh)
        elif fmt is OutputFormat.SARIF:
            write_json(findings_to_sarif(list(report.findings)), fh)
        else:
            con = stdout_console(fh)
            for f in report.scanned:
                con.print(f"{f.verdict.upper():<10} {f.format:<16} {f.path}", markup=False)
            if report.findings:
                con.print()
                render_findings_text(list(report.findings), con)


@model_group.command(name="scan")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--no-record", is_flag=True, help="Do not record an attestation.")
@format_option(sarif=True)
@output_option()
@fail_on_option()
@db_option()
@key_option()
def scan(
    paths: tuple[Path, ...],
    no_record: bool,
    fmt: OutputFormat,
    output: Path,
    fail_on: Severity,
    db: str | None,
    key_path: Path | None,
) -> None:
    """Find content in model files that executes when they are loaded.

    Files, folders and Hugging Face model folders; formats are found by content. Nothing in
    a scanned file is executed. A file that cannot be fully analysed is reported as
    unverified (a finding), never as clean.
    """
    for path in paths:  # name a missing input before saying anything about keys
        if not path.exists() and not path.is_symlink():
            raise InputError(f"{path}: no such file or directory", path=path)
    key = None if no_record else _signing_key(key_path)
    report = scan_model(list(paths), digest=key is not None)
    _print_report(report, fmt, output)
    err = stderr_console()
    scanned = report.scanned
    err.print(
        f"{len(scanned)} model file(s) scanned, {len(report.files) - len(scanned)} other "
        f"file(s) in no executable format, {len(report.findings)} finding(s): {report.verdict}",
        markup=False,
    )
    if key is not None and report.files:
        from aisec.core.evidence import EvidenceStore

        with EvidenceStore.open(db) as store:
            entry = store.record(scan_statement(report), key)
        err.print(f"recorded entry #{entry.index} in {store.url}", markup=False)
    if exceeds(report.findings, fail_on):
        raise click.exceptions.Exit(EXIT_FINDINGS)


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
@click.option("--no-record", is_flag=True, help="Do not record an attestation.")
@format_option()
@db_option()
@key_option()
def convert(
    source: Path,
    target: str,
    out: Path,
    overwrite: bool,
    no_record: bool,
    fmt: OutputFormat,
    db: str | None,
    key_path: Path | None,
) -> None:
    """Convert a checkpoint to SafeTensors without executing it.

    Reads PyTorch zip and legacy checkpoints, pickled state dicts and .npy/.npz by
    interpreting only tensor reconstructors; anything else is refused by name.
    """
    if target != "safetensors":  # pragma: no cover - click restricts the choice
        raise InputError(f"unsupported target {target}")
    key = None if no_record else _signing_key(key_path)
    result = convert_to_safetensors(source, out, overwrite=overwrite)
    with open_output(Path("-")) as fh:
        if fmt is OutputFormat.JSON:
            write_json(result.to_json(), fh)
        else:
            stdout_console(fh).print(
                f"{result.output_digest}  {result.output}  ({result.tensors} tensors from "
                f"{result.source_format} {result.source_digest})",
                markup=False,
            )
    if key is not None:
        from aisec.core.evidence import EvidenceStore

        with EvidenceStore.open(db) as store:
            entry = store.record(convert_statement(result), key)
        stderr_console().print(f"recorded entry #{entry.index} in {store.url}", markup=False)
