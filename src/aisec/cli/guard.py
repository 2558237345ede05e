"""``aisec guard``: the inference gateway, its traffic simulator and offline replay."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import click

from aisec.cli._common import (
    OutputFormat,
    format_option,
    open_output,
    output_option,
    stderr_console,
    stdout_console,
    write_json,
)
from aisec.core.errors import MissingExtraError
from aisec.core.evidence.keys import SigningKey, default_key_path, load_signing_key

__all__ = ["guard_group"]


def _need_extra() -> None:
    """The gateway's libraries are the optional extra ``guard``; say so instead of crashing."""
    for module in ("starlette", "uvicorn", "aiohttp", "datasketch", "scipy"):
        try:
            __import__(module)
        except ImportError:
            raise MissingExtraError("aisec guard", "guard") from None


_CONFIG = click.option(
    "--config",
    "config_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="Gateway configuration (guard.yaml).",
)


@click.group(name="guard")
def guard_group() -> None:
    """Stage 5, inference: a security gateway in front of model APIs (rate limits,
    model-extraction detection, output hardening, audit)."""


@guard_group.command(name="serve")
@_CONFIG
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535))
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
@click.option(
    "--key",
    "key_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Key that signs the gateway-config and alert attestations when the config sets "
    "'evidence: true' [default: .aisec/keys/aisec.key].",
)
@click.option("--db", "db", envvar="AISEC_DB", default=None, metavar="URL", help="Evidence store.")
def serve_command(
    config_path: Path, host: str, port: int, workers: int, key_path: Path | None, db: str | None
) -> None:
    """Run the gateway until interrupted."""
    _need_extra()
    from aisec.inference import load_config, serve  # optional extra

    cfg, digest = load_config(config_path)
    key: SigningKey | None = None
    if cfg.evidence:
        key = load_signing_key(key_path or default_key_path())

    def started(bound: int) -> None:
        click.echo(f"aisec: guard listening on http://{host}:{bound} (config {digest})", err=True)

    serve(
        cfg, digest, config_path, host=host, port=port, workers=workers, signing_key=key,
        store_url=db, on_started=started,
    )  # fmt: skip


@guard_group.command(name="simulate")
@click.option("--seed", default=7, show_default=True, type=int)
@click.option("--normal", default=20, show_default=True, type=click.IntRange(1, 500))
@click.option("--attack", default=300, show_default=True, type=click.IntRange(30, 5000))
@click.option("--cross", default=5, show_default=True, type=click.IntRange(0, 50))
@click.option("--redis", default=None, metavar="URL", help="Share state in this Redis.")
@click.option("--time-limit", default=120.0, show_default=True, type=click.FloatRange(1, 600))
@format_option()
@output_option()
def simulate_command(
    seed: int, normal: int, attack: int, cross: int, redis: str | None, time_limit: float,
    fmt: OutputFormat, output: Path,
) -> None:  # fmt: skip
    """Benign users and attackers against a gateway and a mock upstream on 127.0.0.1."""
    _need_extra()
    from aisec.inference import run_simulation  # optional extra

    result = asyncio.run(
        run_simulation(
            seed=seed,
            normal=normal,
            attack=attack,
            cross=cross,
            redis=redis,
            time_limit=time_limit,
        )
    )
    data = result.to_json()
    with open_output(output) as fh:
        if fmt is OutputFormat.JSON:
            write_json(data, fh)
        else:
            from rich.table import Table

            table = Table(title=f"guard simulate (seed {seed}, {data['requests']} requests)")
            for col in ("account", "kind", "flagged", "detectors", "queries", "to detect", "429"):
                table.add_column(col)
            for a in sorted(data["accounts"], key=lambda a: (not a["attacker"], a["account"])):
                if not a["attacker"] and not a["flagged"] and not a["account"].endswith("00"):
                    continue
                table.add_row(
                    a["account"], a["kind"], "yes" if a["flagged"] else "no",
                    ", ".join(a["detectors"]) or "-", str(a["queries"]),
                    "-" if a["queries_to_detect"] is None else str(a["queries_to_detect"]),
                    str(a["throttled"]),
                )  # fmt: skip
            stdout_console(fh).print(table)
            benign = sum(1 for a in data["accounts"] if not a["attacker"])
            fh.write(
                f"precision {data['precision']:.2f}  recall {data['recall']:.2f}  "
                f"false positives {data['false_positive_rate']:.2%} of {benign} benign accounts  "
                f"({data['seconds']:.1f} s)\n"
            )
    stderr_console().print(f"simulated {data['requests']} requests in {data['seconds']:.1f} s")


@guard_group.command(name="replay")
@click.argument("traffic", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_CONFIG
@format_option()
@output_option()
def replay_command(traffic: Path, config_path: Path, fmt: OutputFormat, output: Path) -> None:
    """Run the detectors offline over recorded traffic (JSON lines)."""
    _need_extra()
    from aisec.inference import load_config  # optional extra
    from aisec.inference.replay import replay_traffic

    cfg, _ = load_config(config_path)
    alerts = asyncio.run(replay_traffic(traffic, cfg))
    with open_output(output) as fh:
        import json

        for a in alerts:
            if fmt is OutputFormat.JSON:
                keep = (
                    "account",
                    "i",
                    "t",
                    "detector",
                    "score",
                    "finding",
                    "title",
                    "atlas",
                    "actions",
                    "evidence",
                )
                fh.write(json.dumps({k: a[k] for k in keep}) + "\n")
            else:
                fh.write(f"{a['i']:>6}  {a['account']:<20} {a['detector']:<20} {a['score']:.2f}\n")
    stderr_console().print(f"{len(alerts)} alert(s) in {traffic}")


@guard_group.command(name="hash-key")
def hash_key_command() -> None:
    """Read an API key on stdin; print the sha256 to put in the config as key-sha256."""
    from aisec.inference.accounts import hash_api_key  # no extra needed

    key = sys.stdin.readline().strip()
    if len(key) < 16:
        raise click.BadParameter("an API key needs at least 16 characters")
    click.echo(hash_api_key(key))
