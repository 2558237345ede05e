"""``aisec gate check``: allow or deny a model's deployment from the evidence store."""

from __future__ import annotations

from pathlib import Path

import click

from aisec.cli._common import (
    EXIT_FINDINGS,
    OutputFormat,
    byte_progress,
    db_option,
    format_option,
    open_output,
    output_option,
    stderr_console,
    stdout_console,
    write_json,
)
from aisec.core.evidence import EvidenceStore, default_key_path, load_signing_key
from aisec.deployment.gate import check_deployment, gate_statement
from aisec.deployment.gate_policy import load_policy

__all__ = ["gate_group"]


@click.group(name="gate")
def gate_group() -> None:
    """Deploy gate: allow a model only with the evidence a policy asks for."""


@gate_group.command(name="check")
@click.argument("model_dir", type=click.Path(path_type=Path))
@click.option(
    "--policy",
    "policy_path",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Gate policy (YAML); see docs/gate.md.",
)
@click.option(
    "--evidence-key",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="AISEC_KEY",
    default=None,
    help="Private key that signs the gate decision [env AISEC_KEY; default: .aisec/keys/aisec.key]",
)
@click.option(
    "--no-record", is_flag=True, default=False, help="Do not record the decision as evidence."
)
@db_option()
@format_option()
@output_option()
def check(
    model_dir: Path,
    policy_path: Path,
    evidence_key: Path | None,
    no_record: bool,
    db: str | None,
    fmt: OutputFormat,
    output: Path,
) -> None:
    """Check MODEL_DIR against POLICY. Exit 0 allow, 1 deny, 2 bad policy or input."""
    policy = load_policy(policy_path)
    key = None if no_record else load_signing_key(evidence_key or default_key_path())
    with EvidenceStore.open(db) as store:
        with byte_progress("hashing") as progress:
            decision = check_deployment(model_dir, policy, store, progress=progress)
        index = None if key is None else store.record(gate_statement(decision), key).index
    with open_output(output) as fh:
        if fmt is OutputFormat.JSON:
            write_json(decision.to_json() | {"evidence_index": index}, fh)
        else:
            con = stdout_console(fh)
            con.print(
                f"{decision.decision.upper()}: {model_dir} ({decision.model_digest})", markup=False
            )
            for r in decision.reasons:
                con.print(f"  {'ok  ' if r.ok else 'FAIL'} {r.check:<9} {r.message}", markup=False)
    if index is not None:
        stderr_console().print(f"recorded decision as entry #{index}", markup=False)
    if not decision.allow:
        raise click.exceptions.Exit(EXIT_FINDINGS)
