"""The ``aisec`` command line: parse arguments, call the library, print. No logic lives here."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import click

from aisec import __version__
from aisec.cli._common import EXIT_ERROR
from aisec.core.errors import AisecError

__all__ = ["cli", "main"]

EXIT_INTERNAL = 3

# The optional package a command may reach for, and the extra (pyproject.toml) that carries
# it. A command that imports one on a core install exits 2 with the line that installs it.
_EXTRA_FOR_MODULE: dict[str, str] = {
    "polars": "data",
    "numpy": "data",
    "scipy": "data",
    "sklearn": "data",
    "cleanlab": "data",
    "phonenumbers": "data",
    "aiohttp": "guard",
    "redis": "guard",
    "datasketch": "guard",
    "rapidfuzz": "guard",
    "orjson": "guard",
    "regex": "guard",
    "prometheus_client": "guard",
    "starlette": "dashboard",
    "uvicorn": "dashboard",
    "multipart": "dashboard",
    "python_multipart": "dashboard",
    "safetensors": "convert",
    "httpx": "inventory",
    "cyclonedx": "inventory",
    "psycopg": "postgres",
    "ray": "ray",
    "torch": "torch",
    "h5py": "h5",
    "hcl2": "infra",
    "tensorboard": "tf",
    "art": "validate",
    "fairlearn": "validate",
    "onnxruntime": "validate",
    "skops": "validate",
    "skl2onnx": "validate",
}

# Where a module is in several extras, the one that matches the command wins.
_EXTRA_FOR_COMMAND: dict[str, str] = {
    "data": "data",
    "guard": "guard",
    "redteam": "redteam",
    "inventory": "inventory",
    "dashboard": "dashboard",
    "demo": "all",
}


def _missing_extra(exc: ModuleNotFoundError, args: Sequence[str]) -> str | None:
    """The install line for a missing optional package, or None when it is not ours to name."""
    top = (exc.name or "").split(".")[0]
    extra = _EXTRA_FOR_MODULE.get(top)
    if extra is None:
        return None
    command, skip = "", False
    for arg in args:
        if skip or arg.startswith("-"):
            # the root options that take a value; the command is the first word after them
            skip = arg == "--root"
            continue
        command = arg
        break
    if command in _EXTRA_FOR_COMMAND and extra not in ("postgres", "ray", "torch", "h5"):
        extra = _EXTRA_FOR_COMMAND[command]
    return (
        f"'aisec {command}' needs the optional package '{top}', which the core install "
        f"leaves out: pip install 'aisec[{extra}]'"
    )


# Each command group is imported when it is used, so `aisec model scan` does not pay for
# loading the gateway, the red-team engine and the data stack. The loaders are plain
# functions listed here, in code, in the order `aisec --help` shows them.
def _data() -> click.Command:
    from aisec.cli.data import data_group

    return data_group


def _train() -> click.Command:
    from aisec.cli.train import train_group

    return train_group


def _redteam() -> click.Command:
    from aisec.cli.redteam import redteam_group

    return redteam_group


def _model() -> click.Command:
    from aisec.cli.model import model_group

    return model_group


def _gate() -> click.Command:
    from aisec.cli.gate import gate_group

    return gate_group


def _guard() -> click.Command:
    from aisec.cli.guard import guard_group

    return guard_group


def _inventory() -> click.Command:
    from aisec.cli.inventory import inventory_group

    return inventory_group


def _frameworks() -> click.Command:
    from aisec.cli.frameworks import frameworks_group

    return frameworks_group


def _lifecycle() -> click.Command:
    from aisec.cli.frameworks import lifecycle_command

    return lifecycle_command


def _controls() -> click.Command:
    from aisec.cli.controls import controls_group

    return controls_group


def _evidence() -> click.Command:
    from aisec.cli.evidence import evidence_group

    return evidence_group


def _keys() -> click.Command:
    from aisec.cli.keys import keys_group

    return keys_group


def _dashboard() -> click.Command:
    from aisec.cli.dashboard import dashboard_command

    return dashboard_command


def _demo() -> click.Command:
    from aisec.cli.demo import demo_command

    return demo_command


_COMMANDS: dict[str, Callable[[], click.Command]] = {
    "data": _data,
    "train": _train,
    "redteam": _redteam,
    "model": _model,
    "gate": _gate,
    "guard": _guard,
    "inventory": _inventory,
    "frameworks": _frameworks,
    "lifecycle": _lifecycle,
    "controls": _controls,
    "evidence": _evidence,
    "keys": _keys,
    "dashboard": _dashboard,
    "demo": _demo,
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        extra = [n for n in super().list_commands(ctx) if n not in _COMMANDS]
        return [*_COMMANDS, *extra]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        loader = _COMMANDS.get(cmd_name)
        if loader is None:
            return None
        command = loader()
        self.commands[cmd_name] = command
        return command


@click.group(
    cls=_LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, prog_name="aisec")
@click.option("-v", "--verbose", count=True, help="More log output on stderr (-vv for debug).")
@click.option(
    "-q", "--quiet", is_flag=True, help="No progress or summary on stderr; errors still print."
)
@click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="AISEC_EVIDENCE_ROOT",
    default=None,
    help="Folder that paths in signed evidence are relative to [env AISEC_EVIDENCE_ROOT; "
    "default: the working directory]. Paths outside it are named by file name and digest.",
)
@click.pass_context
def cli(ctx: click.Context, verbose: int, quiet: bool, root: Path | None) -> None:
    """Secure an AI system across its lifecycle: data, training, evaluation,
    deployment, inference, monitoring. Every control signs its evidence.

    Exit codes: 0 fine, 1 findings at or above --fail-on, 2 bad usage or input.
    """
    ctx.ensure_object(dict)
    ctx.obj["verbose"] = verbose
    _configure_logging(verbose)
    from aisec.cli._common import set_quiet

    set_quiet(quiet)
    if quiet:
        logging.getLogger("aisec").setLevel(logging.ERROR)
    if root is not None:
        from aisec.core.paths import use_evidence_root

        ctx.with_resource(use_evidence_root(root))


def _configure_logging(verbose: int) -> None:
    """Only ``main`` configures logging, and only the ``aisec`` logger."""
    logger = logging.getLogger("aisec")
    if logger.handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("aisec: %(levelname)s: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(
        logging.DEBUG if verbose > 1 else logging.INFO if verbose == 1 else logging.WARNING
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: one line on stderr and exit 2 for any usage or input error."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        result = cli.main(args=args, prog_name="aisec", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("aisec: aborted", err=True)
        return 130
    except click.ClickException as exc:
        hint = ""
        ctx = getattr(exc, "ctx", None)
        if ctx is not None:
            hint = f" (see '{ctx.command_path} --help')"
        click.echo(f"aisec: error: {exc.format_message()}{hint}", err=True)
        return EXIT_ERROR
    except AisecError as exc:
        # messages may quote multi-line parser errors: keep the promise of one line
        click.echo(f"aisec: error: {' '.join(exc.diagnostics().split())}", err=True)
        return EXIT_ERROR
    except KeyboardInterrupt:
        click.echo("aisec: interrupted", err=True)
        return 130
    except BrokenPipeError:
        # the reader went away (e.g. `aisec ... | head`); nothing more to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_ERROR
    except Exception as exc:  # a bug: say so in one line, keep the traceback for -v
        line = _missing_extra(exc, args) if isinstance(exc, ModuleNotFoundError) else None
        if line is not None:
            click.echo(f"aisec: error: {line}", err=True)
            return EXIT_ERROR
        if "-v" in args or "-vv" in args or "--verbose" in args:
            raise
        click.echo(
            f"aisec: internal error (a bug in aisec, please report it): "
            f"{type(exc).__name__}: {exc}; rerun with -v for the traceback",
            err=True,
        )
        return EXIT_INTERNAL
    return int(result) if isinstance(result, int) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
