"""``aisec guard``: the inference gateway, its traffic simulator and offline replay."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

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
@click.option("--seed", default=11, show_default=True, type=int)
@click.option("--individuals", default=120, show_default=True, type=click.IntRange(1, 2000),
              help="Ordinary users beside the services and the attackers.")  # fmt: skip
@click.option("--offline", is_flag=True, help="Replay the day through the detectors only.")
@click.option("--write", "write_dir", type=click.Path(file_okay=False, path_type=Path),
              default=None,
              help="Also write the day as traffic.jsonl and TRUTH.json here.")  # fmt: skip
@click.option("--redis", default=None, metavar="URL", help="Share state in this Redis.")
@click.option("--time-limit", default=300.0, show_default=True, type=click.FloatRange(1, 3600))
@format_option()
@output_option()
def simulate_command(
    seed: int, individuals: int, offline: bool, write_dir: Path | None, redis: str | None,
    time_limit: float, fmt: OutputFormat, output: Path,
) -> None:  # fmt: skip
    """A realistic generated day (benign services and people, seven attacker classes) through a
    gateway and a mock upstream on 127.0.0.1, scored per class and per benign account."""
    _need_extra()
    from aisec.inference import run_simulation  # optional extra
    from aisec.inference.simulate import write_day

    if write_dir is not None:
        write_day(write_dir, seed, individuals)
    result = asyncio.run(
        run_simulation(
            seed=seed, individuals=individuals, live=not offline, redis=redis,
            time_limit=time_limit,
        )
    )  # fmt: skip
    data = result.to_json()
    with open_output(output) as fh:
        if fmt is OutputFormat.JSON:
            write_json(data, fh)
        else:
            _score_table(fh, data, f"guard simulate (seed {seed}, {data['requests']} requests, "
                                   f"{data['mode']})")  # fmt: skip
    stderr_console().print(f"simulated {data['requests']} requests in {data['seconds']:.1f} s")


def _score_table(fh: Any, data: dict[str, Any], title: str) -> None:
    from rich.table import Table

    table = Table(title=title)
    for col in ("class", "accounts", "detected", "first alert at query", "detector"):
        table.add_column(col)
    for c, e in data["classes"].items():
        table.add_row(
            c, str(e["accounts"]), "yes" if e["detected"] else "NO",
            str(e.get("first_alert_query", "-")), e.get("detector", "-"),
        )  # fmt: skip
    stdout_console(fh).print(table)
    b = data["benign"]
    fh.write(f"benign accounts flagged: {len(b['flagged'])}/{b['accounts']} "
             f"({100 * b['rate']:.2f}%)\n")  # fmt: skip
    for f in b["flagged"]:
        fh.write(f"  {f['account']} ({f['kind']}) at its query {f['query']} by {f['detector']}\n")


@guard_group.command(name="tune")
@click.argument("traffic", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_CONFIG
@click.option("--truth", "truth_path", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="JSON: accounts (API key or account name) -> label benign/attacker, "
              "class.")  # fmt: skip
@format_option()
@output_option()
def tune_command(
    traffic: Path, config_path: Path, truth_path: Path, fmt: OutputFormat, output: Path
) -> None:
    """Replay labelled traffic; per-detector precision/recall and the benign accounts each
    threshold (the configured ones scaled x0.5 .. x2) would flag."""
    _need_extra()
    from aisec.inference import load_config  # optional extra
    from aisec.inference.accounts import Account, AccountTable
    from aisec.inference.replay import replay_detail
    from aisec.inference.tune import load_truth, score

    cfg, _ = load_config(config_path)
    table = AccountTable(Account(a.name, a.key_hash()) for a in cfg.accounts)
    truth = load_truth(truth_path, table)
    result = asyncio.run(replay_detail(traffic, cfg))
    data = score(result.order, result.alerts, truth, result.detection.campaigns.peaks)
    with open_output(output) as fh:
        if fmt is OutputFormat.JSON:
            write_json(data, fh)
            return
        _score_table(fh, data, f"guard tune ({traffic.name})")
        for det, e in data["detectors"].items():
            p = "-" if e["precision"] is None else f"{e['precision']:.2f}"
            r = "-" if e["recall"] is None else f"{e['recall']:.2f}"
            fh.write(f"{det}: flagged {e['flagged']} account(s), precision {p}, recall {r}\n")
            for scale, row in e.get("thresholds", {}).items():
                benign = ", ".join(row["benign"]) or "none"
                fh.write(f"    thresholds {scale:>5}: {row['attackers']} attacker account(s); "
                         f"benign flagged: {benign}\n")  # fmt: skip


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
