"""``aisec frameworks`` and ``aisec lifecycle``: look up the catalog, import ATLAS, print."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from aisec.core.controls import Control

from aisec.cli._common import (
    OutputFormat,
    format_option,
    open_output,
    output_option,
    stdout_console,
    write_json,
)
from aisec.core.frameworks import (
    FRAMEWORK_KEYS,
    Catalog,
    Entry,
    Stage,
    import_atlas,
    load_catalog,
)

__all__ = ["frameworks_group", "lifecycle_command"]

FRAMEWORKS_SCHEMA = "aisec.frameworks/v1"
LIFECYCLE_SCHEMA = "aisec.lifecycle/v1"

# imported text is untrusted: never let it drive the terminal or reorder what is shown
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _t(value: object, style: str = "") -> Text:
    """Plain text for rich: no markup parsing, no control characters."""
    return Text(_CONTROL.sub("", str(value)), style=style)


def _table(*headers: str, title: str | None = None) -> Table:
    """A table whose cells fold instead of cutting ids short."""
    table = Table(title=title, title_justify="left")
    for header in headers:
        table.add_column(header, overflow="fold")
    return table


def _named(cat: Catalog, ids: tuple[str, ...]) -> list[dict[str, str]]:
    out = []
    for i in ids:
        entry = cat.get(i)
        out.append(
            {
                "id": i,
                "name": entry.name if entry else "",
                "framework": entry.framework if entry else "",
            }
        )
    return out


def _ids_with_names(cat: Catalog, ids: tuple[str, ...]) -> Text:
    text = Text()
    for n, item in enumerate(_named(cat, ids)):
        if n:
            text.append("\n")
        text.append_text(_t(item["id"], "bold"))
        text.append_text(_t(f"  {item['name']}"))
    return text


@click.group(name="frameworks")
def frameworks_group() -> None:
    """Look up MITRE ATLAS, OWASP LLM 2025, SAIF, NIST AI RMF, ISO 42001 and CoSAI entries."""


@frameworks_group.command(name="list")
@click.option(
    "--framework",
    type=click.Choice([*FRAMEWORK_KEYS, "all"], case_sensitive=False),
    default=None,
    help="List the entries of this framework ('all' for every entry); "
    "without it, list the frameworks.",
)
@click.option("--kind", default=None, help="Only entries of this kind (tactic, subcategory...).")
@format_option()
@output_option()
def list_command(framework: str | None, kind: str | None, fmt: OutputFormat, output: Path) -> None:
    """List the frameworks of the catalog, or the entries of one."""
    cat = load_catalog()
    if framework is None:
        infos = cat.frameworks
        with open_output(output) as out:
            if fmt is OutputFormat.JSON:
                write_json(
                    {
                        "schema": FRAMEWORKS_SCHEMA,
                        "frameworks": [
                            {**i.as_dict(), "entries": len(cat.entries(i.key))} for i in infos
                        ],
                        "atlas_overlay": cat.atlas_overlay.as_dict() if cat.atlas_overlay else None,
                    },
                    out,
                )
                return
            table = _table("key", "framework", "version", "entries", "source")
            for i in infos:
                table.add_row(
                    _t(i.key, "bold"),
                    _t(i.name),
                    _t(i.version or "-"),
                    _t(len(cat.entries(i.key))),
                    _t(i.source),
                )
            stdout_console(out).print(table)
        return
    key = None if framework.lower() == "all" else framework.lower()
    entries = cat.entries(key, kind=kind)
    with open_output(output) as out:
        if fmt is OutputFormat.JSON:
            write_json(
                {
                    "schema": FRAMEWORKS_SCHEMA,
                    "framework": key or "all",
                    "entries": [e.as_dict() for e in entries],
                },
                out,
            )
            return
        table = _table("id", "kind", "name", "parent / tactics", *([] if key else ["framework"]))
        for e in entries:
            context = e.parent or ", ".join(e.tactics) or ""
            table.add_row(
                _t(e.id, "bold"),
                _t(e.kind),
                _t(e.name),
                _t(context),
                *([_t(e.framework)] if not key else []),
            )
        stdout_console(out).print(table)


def _entry_document(cat: Catalog, entry: Entry) -> dict[str, object]:
    info = cat.framework(entry.framework)
    return {
        "schema": FRAMEWORKS_SCHEMA,
        "entry": entry.as_dict(),
        "framework": info.as_dict(),
        "parent": _named(cat, (entry.parent,))[0] if entry.parent else None,
        "tactics": _named(cat, entry.tactics),
        "children": [{"id": c.id, "name": c.name} for c in cat.children(entry.id)],
        "related": _named(cat, entry.related),
        "lifecycle_stages": [s.id for s in cat.stages_for(entry.id)],
    }


def _description_hint(entry: Entry) -> str:
    if entry.framework == "atlas":
        return (
            "none stored (aisec ships ids and names only); load the official text with "
            "'aisec frameworks import ATLAS.yaml'"
        )
    return "none"


@frameworks_group.command(name="show")
@click.argument("entry_id", metavar="ID")
@format_option()
@output_option()
def show_command(entry_id: str, fmt: OutputFormat, output: Path) -> None:
    """Show one entry: ATLAS (AML.T0024), OWASP (LLM01), SAIF (SAIF-1), NIST (MEASURE 2.7),
    ISO 42001 (A.7.5) or CoSAI (riskDataPoisoning)."""
    cat = load_catalog()
    entry = cat.resolve(entry_id)
    doc = _entry_document(cat, entry)
    with open_output(output) as out:
        if fmt is OutputFormat.JSON:
            write_json(doc, out)
            return
        info = cat.framework(entry.framework)
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="dim")
        grid.add_column()
        grid.add_row(_t("framework"), _t(f"{info.name} {entry.version or ''}".strip()))
        grid.add_row(_t("kind"), _t(entry.kind))
        if entry.category:
            grid.add_row(_t("category"), _t(entry.category))
        if entry.parent:
            grid.add_row(_t("parent"), _ids_with_names(cat, (entry.parent,)))
        if entry.tactics:
            grid.add_row(_t("tactics"), _ids_with_names(cat, entry.tactics))
        children = tuple(c.id for c in cat.children(entry.id))
        if children:
            grid.add_row(_t("contains"), _ids_with_names(cat, children))
        if entry.related:
            grid.add_row(_t("related"), _ids_with_names(cat, entry.related))
        if entry.tags:
            grid.add_row(_t("tags"), _t(", ".join(entry.tags)))
        stages = cat.stages_for(entry.id)
        if stages:
            grid.add_row(_t("lifecycle"), _t(", ".join(f"{s.number} {s.id}" for s in stages)))
        if entry.description:
            grid.add_row(_t("description"), _t(entry.description))
            grid.add_row(_t("source"), _t(entry.description_source or "-"))
        else:
            grid.add_row(_t("description"), _t(_description_hint(entry), "italic"))
        console = stdout_console(out)
        console.print(Text.assemble(_t(entry.id, "bold"), "  ", _t(entry.name, "bold")))
        console.print(grid)


@frameworks_group.command(name="import")
@click.argument("path", type=click.Path(path_type=Path, dir_okay=True))
@format_option()
@output_option()
def import_command(path: Path, fmt: OutputFormat, output: Path) -> None:
    """Load an official MITRE ATLAS data file (ATLAS.yaml) you downloaded, so that
    'frameworks show' prints the official names and descriptions of that release."""
    result = import_atlas(path)
    with open_output(output) as out:
        if fmt is OutputFormat.JSON:
            write_json({"schema": FRAMEWORKS_SCHEMA, "imported": result.as_dict()}, out)
            return
        stdout_console(out).print(
            _t(
                f"imported MITRE ATLAS {result.version} from {result.source}: "
                f"{result.tactics} tactics, {result.techniques} techniques, "
                f"{result.sub_techniques} sub-techniques, {result.mitigations} mitigations\n"
                f"wrote {result.destination}"
            )
        )


def controls_for_stage(stage: str) -> tuple[Control, ...]:
    from aisec.registry import controls_for_stage as of_stage

    return of_stage(stage)


def _stage_document(cat: Catalog, stage: Stage) -> dict[str, object]:
    return {
        **stage.as_dict(),
        "controls": [c.to_json() for c in controls_for_stage(stage.id)],
        "threats": _named(cat, stage.threats),
        "grounding": _named(cat, stage.saif + stage.nist + stage.iso),
        "roles": {
            "primary": [{"id": r, "name": cat.role(r).name} for r in stage.primary_roles],
            "secondary": [{"id": r, "name": cat.role(r).name} for r in stage.secondary_roles],
        },
    }


def _print_overview(console: Console, cat: Catalog) -> None:
    table = _table("#", "stage", "commands", "controls", "primary roles")
    for s in cat.stages:
        mine = controls_for_stage(s.id)
        table.add_row(
            _t(s.number),
            _t(s.name, "bold"),
            _t(f"aisec {s.cli_group}"),
            _t(f"{len(mine)}: {', '.join(c.key for c in mine)}"),
            _t(", ".join(cat.role(r).name for r in s.primary_roles)),
        )
    console.print(table)


def _print_stage(console: Console, cat: Catalog, stage: Stage) -> None:
    console.print(
        Text.assemble(
            _t(f"Stage {stage.number}: {stage.name}", "bold"), _t(f"  (aisec {stage.cli_group})")
        )
    )
    console.print(_t(stage.question, "italic"))
    console.print(_t(stage.description))
    threats = _table("framework", "id", "threat", title="Threats")
    for item in _named(cat, stage.threats):
        threats.add_row(_t(item["framework"]), _t(item["id"], "bold"), _t(item["name"]))
    console.print(threats)
    controls = _table("control", "name", "command", "predicate type", title="Controls")
    for c in controls_for_stage(stage.id):
        controls.add_row(
            _t(c.key, "bold"), _t(c.name), _t("\n".join(c.commands)), _t(c.predicate_type)
        )
    console.print(controls)
    grounding = _table("framework", "id", "name", title="Grounded in")
    for item in _named(cat, stage.saif + stage.nist + stage.iso):
        grounding.add_row(_t(item["framework"]), _t(item["id"], "bold"), _t(item["name"]))
    console.print(grounding)
    roles = _table("involvement", "roles", title="Roles")
    roles.add_row(_t("primary"), _t(", ".join(cat.role(r).name for r in stage.primary_roles)))
    roles.add_row(
        _t("secondary"), _t(", ".join(cat.role(r).name for r in stage.secondary_roles) or "-")
    )
    console.print(roles)


@click.command(name="lifecycle")
@click.argument("stage", required=False)
@format_option()
@output_option()
def lifecycle_command(stage: str | None, fmt: OutputFormat, output: Path) -> None:
    """Show the six lifecycle stages, or one STAGE (name, number 1-6 or command group) with
    its threats, controls, framework grounding and roles."""
    cat = load_catalog()
    chosen = cat.stage(stage) if stage is not None else None
    with open_output(output) as out:
        if fmt is OutputFormat.JSON:
            if chosen is None:
                doc: dict[str, object] = {
                    "schema": LIFECYCLE_SCHEMA,
                    "stages": [_stage_document(cat, s) for s in cat.stages],
                    "roles": [r.as_dict() for r in cat.roles],
                    "core_controls": [c.to_json() for c in controls_for_stage("core")],
                }
            else:
                doc = {"schema": LIFECYCLE_SCHEMA, "stage": _stage_document(cat, chosen)}
            write_json(doc, out)
            return
        console = stdout_console(out)
        if chosen is None:
            _print_overview(console, cat)
        else:
            _print_stage(console, cat, chosen)
