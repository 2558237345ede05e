"""``aisec gate check``: allow or deny a model's deployment from the evidence store."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console

from aisec.cli._common import ControlOptions, OutputFormat, byte_progress, control_options
from aisec.core.evidence import EvidenceStore
from aisec.deployment.gate import GateOutcome, check_deployment
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
@control_options(formats=(OutputFormat.TEXT, OutputFormat.JSON, OutputFormat.SARIF))
def check(model_dir: Path, policy_path: Path, opts: ControlOptions) -> None:
    """Check MODEL_DIR against POLICY. Exit 0 allow, 1 deny, 2 bad policy or input.

    The decision is signed into the evidence store (with --key or the default key); the
    keys it trusts for the evidence come from the policy.
    """
    policy = load_policy(policy_path)
    opts.recorder()  # a missing or locked key fails before the model is hashed
    with EvidenceStore.open(opts.db) as store, byte_progress("hashing") as progress:
        decision = check_deployment(model_dir, policy, store, progress=progress)
    outcome = GateOutcome(decision)

    def text(con: Console) -> None:
        con.print(
            f"{decision.decision.upper()}: {model_dir} ({decision.model_digest})", markup=False
        )
        for r in decision.reasons:
            con.print(f"  {'ok  ' if r.ok else 'FAIL'} {r.check:<9} {r.message}", markup=False)

    opts.finish(outcome, text=text, fail=not decision.allow)
