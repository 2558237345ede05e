"""``aisec controls``: the registry of controls and their rules, as a user sees it."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from aisec.cli._common import (
    OutputFormat,
    format_option,
    open_output,
    output_option,
    stdout_console,
    write_json,
)
from aisec.core.controls import Control
from aisec.core.errors import InputError

__all__ = ["controls_group"]

CONTROLS_SCHEMA = "aisec.controls/v1"


@click.group(name="controls")
def controls_group() -> None:
    """Every control of every stage: what it asks, what it records, the rules it reports."""


def _stage(value: str | None) -> str | None:
    if value is None:
        return None
    from aisec.core.frameworks import load_catalog

    return "core" if value == "core" else load_catalog().stage(value).id


def _rule_row(table: Table, control: Control) -> None:
    for r in control.rules:
        m = r.mappings
        table.add_row(
            r.id,
            r.severity.value,
            r.title,
            ", ".join(m.atlas) or "-",
            ", ".join(m.owasp_llm) or "-",
            ", ".join(m.saif) or "-",
            ", ".join(m.nist_ai_rmf) or "-",
        )


@controls_group.command(name="list")
@click.option("--stage", default=None, help="Only this stage (name, number or command group).")
@format_option()
@output_option()
def list_command(stage: str | None, fmt: OutputFormat, output: Path) -> None:
    """List every control with its stage, predicate type and rules."""
    from aisec.registry import CONTROLS

    wanted = _stage(stage)
    chosen = [c for c in CONTROLS if wanted is None or c.stage == wanted]
    with open_output(output) as out:
        if fmt is OutputFormat.JSON:
            write_json({"schema": CONTROLS_SCHEMA, "controls": [c.to_json() for c in chosen]}, out)
            return
        con = stdout_console(out)
        table = Table("control", "stage", "predicate type", "rules", "question", box=None)
        for c in chosen:
            ids = [r.id for r in c.rules]
            rules = (
                "-" if not ids else ids[0] if len(ids) == 1 else f"{len(ids)}: {ids[0]}…{ids[-1]}"
            )
            table.add_row(c.id, c.stage, c.predicate_type, rules, c.question)
        con.print(table)


@controls_group.command(name="show")
@click.argument("control_id")
@format_option()
@output_option()
def show_command(control_id: str, fmt: OutputFormat, output: Path) -> None:
    """Show one control (e.g. deployment/model-scan) with every rule and its mappings."""
    from aisec.registry import control

    try:
        c = control(control_id.strip().lower())
    except KeyError as exc:
        raise InputError(str(exc.args[0])) from exc
    with open_output(output) as out:
        if fmt is OutputFormat.JSON:
            write_json({"schema": CONTROLS_SCHEMA, "control": c.to_json()}, out)
            return
        con = stdout_console(out)
        con.print(f"{c.id}: {c.name}", markup=False)
        con.print(f"  question:  {c.question}", markup=False)
        con.print(f"  what:      {c.description}", markup=False)
        con.print(f"  run by:    {', '.join(c.commands)}", markup=False)
        con.print(f"  records:   {c.predicate_type}", markup=False)
        if c.predicate.legacy_types():
            con.print(f"  also reads: {', '.join(c.predicate.legacy_types())}", markup=False)
        if not c.rules:
            con.print("  rules:     none (a record, not a check)", markup=False)
            return
        table = Table(
            "rule", "severity", "title", "ATLAS", "OWASP LLM", "SAIF", "NIST AI RMF", box=None
        )
        _rule_row(table, c)
        con.print(table)
