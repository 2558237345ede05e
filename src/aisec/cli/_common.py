"""Options and helpers shared by every command: formats, output files, exit codes.

Every control command is built on one skeleton, :func:`control_options`: the same
``--format``, ``-o``, ``--fail-on``, ``--record/--no-record``, ``--db``, ``--key`` (the
private key that signs) and, where the command verifies, ``--trust`` (public keys), collected
into one :class:`ControlOptions`; and one finish, :meth:`ControlOptions.finish`: render the
outcome, record its predicates, print the summary, exit 1 on findings at ``--fail-on``.
"""

from __future__ import annotations

import contextlib
import functools
import json
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TextIO, TypeVar, cast

import click

from aisec.core.errors import InputError, KeyFileError, MissingExtraError

if TYPE_CHECKING:
    from rich.console import Console

    from aisec.core.evidence import LogEntry, PublicKey
    from aisec.core.evidence.recorder import Recorder
    from aisec.core.findings import Finding, Severity
    from aisec.core.predicates import Predicate

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_ERROR = 2


class OutputFormat(StrEnum):
    TEXT = "text"
    JSON = "json"
    SARIF = "sarif"
    MARKDOWN = "markdown"
    HTML = "html"


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


def engine_options(*, ray_does: str, address_note: str = "") -> Callable[[F], F]:
    """``--engine local|ray``, ``--address`` and ``--workers``, as every Ray-capable command
    spells them; ``ray_does`` says what runs on Ray, ``address_note`` what workers must reach."""
    note = f"; {address_note}" if address_note else ""

    def decorate(f: F) -> F:
        f = click.option(
            "--workers", type=click.IntRange(min=1), default=None, help="Local Ray CPUs."
        )(f)
        f = click.option(
            "--address",
            default=None,
            help="Ray cluster to join with --engine ray (ray://host:10001, host:6379 or auto; "
            f"a KubeRay head service){note}. Default: a local Ray of --workers CPUs.",
        )(f)
        return click.option(
            "--engine",
            type=click.Choice(["local", "ray"]),
            default="local",
            show_default=True,
            help=f"Run in this process, or {ray_does} (pip install 'aisec[ray]').",
        )(f)

    return decorate


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


_QUIET = False


def set_quiet(quiet: bool) -> None:
    """``aisec -q``: no progress and no summaries on stderr (errors still print)."""
    global _QUIET
    _QUIET = quiet


def stderr_console() -> Console:
    """Progress, logs and summaries go to stderr; stdout carries results only."""
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True, quiet=_QUIET)


def stderr_line(text: str) -> None:
    """One plain line on stderr (a summary), as ``stderr_console().print(text,
    markup=False)`` writes it, without loading rich for it."""
    if not _QUIET:
        sys.stderr.write(text + "\n")
        sys.stderr.flush()


# tables written to a file, a pipe or a CI log are not wrapped at 80 columns
_WIDE = 200


def stdout_console(out: TextIO) -> Console:
    from rich.console import Console

    wide = None if out.isatty() else _WIDE
    return Console(file=out, highlight=False, soft_wrap=True, width=wide)


class _LazyConsole:
    """The stdout console of :meth:`ControlOptions.finish`, made on first use: a report of
    plain lines written to ``file`` never loads rich (a fifth of a one-file scan's start-up).
    """

    def __init__(self, out: TextIO) -> None:
        self.file = out
        self._console: Console | None = None

    def __getattr__(self, name: str) -> Any:  # anything but ``file``: the real console
        if self._console is None:
            self._console = stdout_console(self.file)
        return getattr(self._console, name)


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


# ----------------------------------------------------------------------- the control skeleton
class Outcome(Protocol):
    """What a control's library function returns: findings, a JSON document, predicates."""

    @property
    def findings(self) -> Sequence[Finding]: ...

    def to_json(self) -> dict[str, Any]: ...

    def predicates(self) -> Sequence[Predicate]: ...


@dataclass
class ControlOptions:
    """The options every control command shares, and the one way it finishes."""

    fmt: OutputFormat
    output: Path
    fail_on: Severity | None
    record: bool | None
    db: str | None
    key_path: Path | None
    trust: tuple[Path, ...] = ()
    _recorder: Recorder | None = field(default=None, repr=False)
    _nothing_recorded: str | None = field(default=None, repr=False)

    # --------------------------------------------------------------- evidence
    def recorder(self) -> Recorder:
        """The recorder for this run (the key is loaded once, early, to fail fast).

        No key named and none at the default path: the control still runs and reports and
        one stderr line says nothing was recorded; with ``--record`` that is an error.
        """
        if self._recorder is not None:
            return self._recorder
        from aisec.core.evidence.recorder import NullRecorder
        from aisec.core.paths import default_key_path

        if self.record is False:
            self._recorder = NullRecorder()
            return self._recorder
        path = self.key_path or default_key_path()
        if self.key_path is None and not path.exists():
            if self.record:
                raise KeyFileError(
                    f"--record needs a signing key and there is none at {path}: run "
                    "`aisec keys generate` or pass --key",
                    path=path,
                )
            self._nothing_recorded = (
                f"aisec: nothing recorded: no signing key at {path} (run `aisec keys generate`, "
                "or pass --no-record to run without evidence)"
            )
            self._recorder = NullRecorder()
            return self._recorder
        from aisec.core.evidence import load_signing_key
        from aisec.core.evidence.recorder import StoreRecorder

        self._recorder = StoreRecorder(self.db, load_signing_key(path))
        return self._recorder

    def trusted_keys(self) -> list[PublicKey]:
        """The public keys named with ``--trust`` (empty: the command's own default)."""
        from aisec.core.evidence import load_public_key

        return [load_public_key(p) for p in self.trust]

    @property
    def recording(self) -> bool:
        """Whether this run records (decide before the work: some need digests to record)."""
        return self.recorder().enabled

    def record_all(self, predicates: Callable[[], Sequence[Predicate]]) -> list[LogEntry]:
        recorder = self.recorder()
        if not recorder.enabled:
            return []
        return [e for p in predicates() if (e := recorder.record(p)) is not None]

    # --------------------------------------------------------------- finishing
    def finish(
        self,
        outcome: Outcome,
        *,
        text: Callable[[Console], None],
        renderers: Mapping[OutputFormat, Callable[[], str]] | None = None,
        summary: str | None = None,
        fail: bool | None = None,
    ) -> None:
        """Render ``outcome`` in the chosen format, record it, summarise, set the exit code.

        ``fail`` overrides the ``--fail-on`` rule where the control decides itself (a gate's
        deny); otherwise the run fails when a finding is at or above ``--fail-on``.
        """
        from aisec.core.findings import exceeds, findings_to_sarif

        self.recorder()  # a missing --record key is an error before anything is written
        findings = list(outcome.findings)
        with open_output(self.output) as fh:
            custom = (renderers or {}).get(self.fmt)
            if custom is not None:
                fh.write(custom())
            elif self.fmt is OutputFormat.JSON:
                write_json(outcome.to_json(), fh)
            elif self.fmt is OutputFormat.SARIF:
                write_json(findings_to_sarif(findings, rules=registry_rules()), fh)
            else:
                text(cast("Console", _LazyConsole(fh)))
        if summary:
            stderr_line(summary)
        entries = self.record_all(outcome.predicates)
        if entries:
            where = self.recorder().where
            numbers = ", ".join(f"#{e.index}" for e in entries)
            noun = "entry" if len(entries) == 1 else "entries"
            stderr_line(f"recorded {noun} {numbers} in {where}".rstrip())
        elif self._nothing_recorded:
            stderr_line(self._nothing_recorded)
        failed = (
            fail
            if fail is not None
            else (self.fail_on is not None and exceeds(findings, self.fail_on))
        )
        if failed:
            raise click.exceptions.Exit(EXIT_FINDINGS)


def control_options(
    *,
    formats: Sequence[OutputFormat] = (OutputFormat.TEXT, OutputFormat.JSON, OutputFormat.SARIF),
    fail_on: bool = True,
    output: bool = True,
    trust: bool = False,
    trust_help: str = "Public key to trust (repeatable).",
) -> Callable[[F], F]:
    """The options of a control command, passed to it as one ``opts: ControlOptions``.

    ``output=False`` leaves ``-o`` to the command (results then go to stdout).
    """
    from aisec.core.findings import Severity

    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kw: Any) -> Any:
            opts = ControlOptions(
                fmt=OutputFormat(kw.pop("fmt")),
                output=kw.pop("output") if output else Path("-"),
                fail_on=Severity(kw.pop("fail_on")) if fail_on else None,
                record=kw.pop("record"),
                db=kw.pop("db"),
                key_path=kw.pop("key_path"),
                trust=tuple(kw.pop("trust")) if trust else (),
            )
            if not fail_on:
                kw.pop("fail_on", None)
            return fn(*args, opts=opts, **kw)

        options: list[Callable[[Any], Any]] = [
            click.option(
                "-f",
                "--format",
                "fmt",
                type=click.Choice([f.value for f in formats]),
                default=formats[0].value,
                show_default=True,
                help="Output format.",
            ),
            click.option(
                "--record/--no-record",
                "record",
                default=None,
                help="Sign the result into the evidence store. Default: record when a signing "
                "key exists; --record makes a missing key an error.",
            ),
            db_option(),
            key_option(),
        ]
        if output:
            options.insert(1, output_option())
        if fail_on:
            options.append(
                click.option(
                    "--fail-on",
                    type=click.Choice([s.value for s in Severity]),
                    default=Severity.HIGH.value,
                    show_default=True,
                    help="Exit 1 when a finding has this severity or worse.",
                )
            )
        if trust:
            options.append(
                click.option(
                    "--trust",
                    "trust",
                    multiple=True,
                    type=click.Path(dir_okay=False, path_type=Path),
                    help=trust_help,
                )
            )
        out: Any = wrapper
        for option in reversed(options):
            out = option(out)
        return out  # type: ignore[no-any-return]

    return decorate


def plural(count: int, noun: str, many: str | None = None) -> str:
    """``1 file``, ``2 files``; ``many`` for irregular plurals (``entry``/``entries``)."""
    return f"{count} {noun if count == 1 else many or noun + 's'}"


def require_extra(feature: str, extra: str, *modules: str) -> None:
    """Exit 2 with the install line when a module of an optional extra is missing."""
    import importlib.util

    for name in modules:
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            raise MissingExtraError(feature, extra)


def registry_rules() -> Mapping[str, Any]:
    """Every rule of the tool by id: the stable metadata SARIF rules are written from."""
    from aisec.registry import RULES

    return RULES
