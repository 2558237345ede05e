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
from aisec.core.errors import InputError

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
    """Run the six-stage lifecycle scenario on data it makes itself; no network, no API key."""
    from aisec.demo import run_demo

    _check_workdir(workdir)
    err = stderr_console()
    with err.status("aisec demo: starting…") as status:

        def say(line: str) -> None:
            if line.startswith("["):
                status.update(f"aisec demo: {line}")
            err.print(f"  {line}", markup=False)

        result = run_demo(workdir, say)
    with open_output(output) as fh:
        if fmt is OutputFormat.JSON:
            write_json(result.to_json(), fh)
        else:
            con = stdout_console(fh)
            con.print("[bold]aisec demo[/]: one chain of signed evidence across the lifecycle")
            for s in result.stages:
                mark = "[green]ok[/]" if s.ok else "[red]UNEXPECTED[/]"
                con.print(f"{mark}  [bold]{s.stage}[/] ({s.seconds:.1f}s) — {s.title}")
                for line in s.lines:
                    con.print(f"      {line}", markup=False)
            db = result.workdir / ".aisec" / "evidence.db"
            con.print("Evidence:", markup=False)
            con.print(f"  store:      {result.store_url}", markup=False)
            con.print(f"  public key: {result.public_key_path}", markup=False)
            con.print("Next:", markup=False)
            con.print(
                f"  aisec dashboard --db {db}   # then open http://127.0.0.1:8700/", markup=False
            )
            con.print(
                f"  aisec evidence verify --db {db} --trust {result.public_key_path}", markup=False
            )
    if not result.ok:
        raise click.exceptions.Exit(EXIT_FINDINGS)


def _check_workdir(workdir: Path) -> None:
    """A folder the demo can create and write, or one clear line (exit 2)."""
    import os

    try:
        workdir.mkdir(parents=True, exist_ok=True)
        probe = workdir / ".aisec-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise InputError(
            f"--dir {workdir}: cannot write the demo folder there ({reason}); pick a folder "
            "you can write",
            path=workdir,
        ) from None
    if not os.access(workdir, os.W_OK):  # pragma: no cover - root writes anywhere
        raise InputError(f"--dir {workdir}: not writable", path=workdir)
