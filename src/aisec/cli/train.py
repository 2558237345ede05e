"""``aisec train``: the checkpoint ledger (watch, verify) and infrastructure checks."""

from __future__ import annotations

from pathlib import Path

import click

from aisec.cli._common import (
    EXIT_FINDINGS,
    ControlOptions,
    OutputFormat,
    control_options,
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
from aisec.core.evidence import EvidenceStore
from aisec.core.findings import (
    Finding,
    Severity,
    exceeds,
    findings_to_sarif,
    render_findings_text,
)

__all__ = ["train_group"]


@click.group(name="train")
def train_group() -> None:
    """Stage 2 (training): checkpoint integrity ledger and infrastructure checks."""


_pattern = click.option(
    "--pattern",
    default="*",
    show_default=True,
    help="Only top-level names in DIR matching this glob are checkpoints "
    "(e.g. 'checkpoint-*' for a Hugging Face output_dir).",
)
_interval = click.option(
    "--interval",
    default=None,
    metavar="DURATION",
    help="Expected time between checkpoint records, e.g. 4h, 30m.",
)


@train_group.command(name="watch")
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--run", "run_id", required=True, help="Training run id.")
@_interval
@_pattern
@click.option("--once", is_flag=True, help="One pass over the folder, then exit.")
@click.option(
    "--poll", type=click.FloatRange(min=0.1), default=30.0, show_default=True, help="Seconds."
)
@click.option(
    "--settle",
    type=click.FloatRange(min=0.0),
    default=2.0,
    show_default=True,
    help="With --once: seconds a checkpoint's size and mtime must stay unchanged.",
)
@key_option()
@db_option()
def watch(
    directory: Path,
    run_id: str,
    interval: str | None,
    pattern: str,
    once: bool,
    poll: float,
    settle: float,
    key_path: Path | None,
    db: str | None,
) -> None:
    """Record each new or changed checkpoint in DIRECTORY in the run's ledger."""
    from aisec.training import CheckpointLedger, list_checkpoints, watch_checkpoints

    list_checkpoints(directory, pattern)  # fail early on a missing folder
    err = stderr_console()
    with CheckpointLedger(
        run_id, store=db, key=key_path, interval=interval, root=directory
    ) as ledger:
        for event in watch_checkpoints(
            directory, ledger, pattern=pattern, once=once, poll=poll, settle=settle
        ):
            if event.action == "unstable":
                err.print(f"still being written, skipped: {event.path}", markup=False)
                continue
            click.echo(f"{event.action:8}  step {event.step:>8}  {event.digest}  {event.path}")
        err.print(f"run {run_id!r}: {ledger.sequence} records in {ledger.store.url}", markup=False)


@train_group.command(name="verify")
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--run", "run_id", required=True, help="Training run id.")
@_interval
@_pattern
@click.option(
    "--allow-deleted",
    is_flag=True,
    help="Report recorded checkpoints missing from DIR as info (rotation on purpose).",
)
@db_option()
@format_option(sarif=True)
@output_option()
@fail_on_option()
def verify(
    directory: Path,
    run_id: str,
    interval: str | None,
    pattern: str,
    allow_deleted: bool,
    db: str | None,
    fmt: OutputFormat,
    output: Path,
    fail_on: Severity,
) -> None:
    """Check every checkpoint in DIRECTORY against the run's ledger."""
    from aisec.training import parse_interval, verify_checkpoints

    with EvidenceStore.open(db, create=False) as store:
        result = verify_checkpoints(
            directory,
            run_id,
            store=store,
            interval=parse_interval(interval),
            pattern=pattern,
            allow_deleted=allow_deleted,
        )
    with open_output(output) as fh:
        if fmt is OutputFormat.JSON:
            write_json(result.to_json(), fh)
        elif fmt is OutputFormat.SARIF:
            write_json(findings_to_sarif(result.findings), fh)
        else:
            con = stdout_console(fh)
            for c in result.checkpoints:
                step = "-" if c.step is None else str(c.step)
                con.print(f"{c.status:11} step {step:>8}  {c.path}", markup=False)
            render_findings_text(result.findings, con)
    bad = sum(c.status != "ok" for c in result.checkpoints)
    stderr_console().print(
        f"run {run_id!r}: {len(result.checkpoints)} checkpoints, {result.records} records, "
        f"{bad} not ok, {len(result.findings)} findings",
        markup=False,
    )
    _exit_on(result.findings, fail_on)


@train_group.command(name="infra-check")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--cluster-cidr",
    multiple=True,
    metavar="CIDR",
    help="The training cluster's own address range (repeatable); VPCs and subnets "
    "defined in the files are added.",
)
@click.option(
    "--allow-egress",
    multiple=True,
    metavar="HOST_OR_CIDR",
    help="An endpoint the cluster may reach (model registry, logging); repeatable.",
)
@click.option(
    "--context",
    "context_file",
    type=click.Path(path_type=Path),
    default=None,
    metavar="FILE",
    help="YAML with cluster_cidrs, registry, logging, allow_egress, serving_endpoints "
    "(the input queue and output endpoint: CIDRs, hosts or label maps) and admin_ports; "
    "the flags add to it.",
)
@control_options()
def infra_check(
    paths: tuple[Path, ...],
    cluster_cidr: tuple[str, ...],
    allow_egress: tuple[str, ...],
    context_file: Path | None,
    opts: ControlOptions,
) -> None:
    """Check Terraform (.tf sources, plans, state), AWS / gcloud / az CLI JSON, Kubernetes
    manifests and docker-compose files."""
    from aisec.training.infra import InfraContext, check_infra

    if context_file is not None:
        context = InfraContext.from_file(context_file, cluster_cidr, allow_egress)
    else:
        context = InfraContext.build(cluster_cidr, allow_egress)
    report = check_infra(list(paths), context)
    kinds = ", ".join(f"{i.path} ({i.format}, {i.resources} resources)" for i in report.inputs)
    opts.finish(
        report,
        text=lambda con: render_findings_text(list(report.findings), con),
        summary=f"checked {kinds}: {len(report.findings)} findings, {report.result.value}",
    )


def _exit_on(findings: tuple[Finding, ...], fail_on: Severity) -> None:
    if exceeds(findings, fail_on):
        raise click.exceptions.Exit(EXIT_FINDINGS)
