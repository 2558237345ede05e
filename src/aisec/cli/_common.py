"""Options and helpers shared by every command: formats, output files, exit codes."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable, Iterator
from enum import StrEnum
from pathlib import Path
from typing import Any, TextIO, TypeVar

import click
from rich.console import Console

from aisec.core.errors import InputError

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_ERROR = 2


class OutputFormat(StrEnum):
    TEXT = "text"
    JSON = "json"
    SARIF = "sarif"


def format_option(*, sarif: bool = False) -> Callable[[F], F]:
    """``-f/--format``: text and json everywhere, sarif where findings are reported."""
    choices = [OutputFormat.TEXT, OutputFormat.JSON] + ([OutputFormat.SARIF] if sarif else [])
    return click.option(
        "-f",
        "--format",
        "fmt",
        type=click.Choice([c.value for c in choices]),
        default=OutputFormat.TEXT.value,
        show_default=True,
        help="Output format.",
        callback=lambda _ctx, _param, value: OutputFormat(value),
    )


def output_option() -> Callable[[F], F]:
    return click.option(
        "-o",
        "--output",
        "output",
        type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
        default=Path("-"),
        show_default=True,
        help="Write results to this file ('-' for stdout).",
    )


def fail_on_option() -> Callable[[F], F]:
    from aisec.core.findings import Severity

    return click.option(
        "--fail-on",
        type=click.Choice([s.value for s in Severity]),
        default=Severity.HIGH.value,
        show_default=True,
        help="Exit 1 when a finding has this severity or worse.",
        callback=lambda _ctx, _param, value: Severity(value),
    )


@contextlib.contextmanager
def open_output(path: Path) -> Iterator[TextIO]:
    """Open the results destination lazily; '-' is stdout."""
    if str(path) == "-":
        yield sys.stdout
        return
    try:
        with path.open("w", encoding="utf-8") as fh:
            yield fh
    except OSError as exc:
        raise InputError(f"cannot write output: {exc.strerror}", path=path) from exc


def write_json(obj: Any, out: TextIO) -> None:
    json.dump(obj, out, indent=2, sort_keys=False, ensure_ascii=False)
    out.write("\n")


def stderr_console() -> Console:
    """Progress, logs and summaries go to stderr; stdout carries results only."""
    return Console(stderr=True, highlight=False, soft_wrap=True)


def stdout_console(out: TextIO) -> Console:
    return Console(file=out, highlight=False, soft_wrap=True)


def db_option() -> Callable[[F], F]:
    return click.option(
        "--db",
        "db",
        envvar="AISEC_DB",
        default=None,
        metavar="URL",
        help="Evidence store: sqlite:///PATH or postgresql://… [env AISEC_DB; "
        "default: .aisec/evidence.db]",
    )


def key_option(*, help_text: str = "Private key that signs the evidence.") -> Callable[[F], F]:
    return click.option(
        "--key",
        "key_path",
        type=click.Path(dir_okay=False, path_type=Path),
        envvar="AISEC_KEY",
        default=None,
        help=f"{help_text} [env AISEC_KEY; default: .aisec/keys/aisec.key]",
    )


@contextlib.contextmanager
def byte_progress(label: str, total: int | None = None) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr for hashing and other byte-counted work.

    Yields the callback the library calls with each count of bytes done. Nothing is
    drawn when stderr is not a terminal, so logs and CI output stay clean.
    """
    console = stderr_console()
    if not console.is_terminal:
        yield lambda _n: None
        return
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TransferSpeedColumn,
    )

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task(label, total=total)
        yield lambda n: progress.advance(task, n)
