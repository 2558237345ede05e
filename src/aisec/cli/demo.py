"""``aisec demo``: the end-to-end scenario on the embedded defaults."""

from __future__ import annotations

from pathlib import Path

import click

from aisec.cli._common import (
    EXIT_FINDINGS,
    OutputFormat,
    format_option,
    open_output,
    output_option,
    stderr_console,
    stdout_console,
    write_json,
)

__all__ = ["demo_command"]


@click.command(name="demo")
@click.option(
    "--dir",
    "workdir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("aisec-demo"),
    show_default=True,
    help="Folder the demo works in (its evidence lives in DIR/.aisec).",
)
@format_option()
@output_option()
def demo_command(workdir: Path, fmt: OutputFormat, output: Path) -> None:
    """Run the lifecycle scenario on data it makes itself; no network, no API key."""
    from aisec.demo import run_demo

    err = stderr_console()
    with err.status("running the aisec demo…"):
        result = run_demo(workdir, lambda line: err.print(f"  {line}", markup=False))
    with open_output(output) as fh:
        if fmt is OutputFormat.JSON:
            write_json(result.to_json(), fh)
        else:
            con = stdout_console(fh)
            con.print("[bold]aisec demo[/]: a chain of signed evidence")
            for index, name, digest in result.recorded:
                con.print(f"  #{index:<3} {digest}  {name}", markup=False)
            ok = result.report is not None and result.report.ok
            con.print(f"  log verified with the public key: {'yes' if ok else 'NO'}")
            caught = result.tamper_report is not None and not result.tamper_report.ok
            con.print(f"  one-byte tamper on a copy detected: {'yes' if caught else 'NO'}")
            con.print("Evidence:", markup=False)
            con.print(f"  store:       {result.store_url}", markup=False)
            con.print(f"  public key:  {result.public_key_path}", markup=False)
            con.print("Next:", markup=False)
            db = result.store_url
            con.print(f"  aisec evidence list --db {db}", markup=False)
            con.print(
                f"  aisec evidence verify --db {db} --key {result.public_key_path}", markup=False
            )
    good = result.report is not None and result.report.ok
    caught = result.tamper_report is not None and not result.tamper_report.ok
    if not (good and caught):
        raise click.exceptions.Exit(EXIT_FINDINGS)
