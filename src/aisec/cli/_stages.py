"""Groups of the lifecycle stages whose controls have not landed yet.

Each says so plainly instead of printing anything that looks like a result.
"""

from __future__ import annotations

import click

from aisec.cli._common import EXIT_ERROR

_PENDING = {
    "model": ("4 (deployment)", "scan, convert, sign, verify, gate"),
}


def _pending_group(name: str, stage: str, verbs: str) -> click.Group:
    note = f"Stage {stage} controls. Not available in this version yet (planned: {verbs})."

    @click.group(name=name, help=note, invoke_without_command=True)
    @click.pass_context
    def group(ctx: click.Context) -> None:
        if ctx.invoked_subcommand is None:
            click.echo(
                f"aisec {name}: stage {stage} has no commands in this version yet "
                f"(planned: {verbs}).",
                err=True,
            )
            ctx.exit(EXIT_ERROR)

    return group


PENDING_GROUPS = tuple(_pending_group(name, *info) for name, info in _PENDING.items())
