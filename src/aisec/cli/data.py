"""``aisec data``: provenance records (register, history, Croissant) and the data-trust audit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from aisec.cli._common import (
    EXIT_FINDINGS,
    OutputFormat,
    byte_progress,
    db_option,
    engine_options,
    fail_on_option,
    format_option,
    key_option,
    open_output,
    output_option,
    stderr_console,
    stdout_console,
    write_json,
)
from aisec.core.errors import InputError, StoreError
from aisec.core.evidence import EvidenceStore, default_key_path, load_signing_key
from aisec.core.findings import Severity, exceeds, finding_from_json, findings_to_sarif

__all__ = ["data_group"]

_FLAGS = (
    "self-reported",
    "retracted-citation",
    "disputed-citation",
    "no-audit-trail",
    "scraped",
    "synthetic",
)


@click.group(name="data")
def data_group() -> None:
    """Stage 1, data: provenance records and a data-trust audit per source."""


@data_group.command(name="register")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--name", default=None, help="Source name (matches the audit's --source-column).")
@click.option("--origin", default=None, help="Where the data came from (URL, system, vendor).")
@click.option("--owner", default=None, help="Who is accountable for the source.")
@click.option("--licence", "--license", "licence", default=None, help="Licence or contract.")
@click.option("--collection-method", default=None, help="How the data was collected.")
@click.option("--consent", default=None, help="Consent or legal basis.")
@click.option("--transformation", multiple=True, help="A transformation applied (repeatable).")
@click.option("--issue", multiple=True, help="A known issue, free text (repeatable).")
@click.option("--flag", multiple=True, type=click.Choice(_FLAGS), help="Typed known issue.")
@click.option("--access", default=None, help="Access restrictions.")
@click.option("--description", default=None, help="One-paragraph description.")
@click.option(
    "--record",
    "record_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Read the fields from a YAML/JSON record file (options override it).",
)
@click.option(
    "--croissant",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Read the fields from a Croissant JSON-LD file (options override it).",
)
@key_option()
@db_option()
@format_option()
@output_option()
def register(
    path: Path,
    record_file: Path | None,
    croissant: Path | None,
    key_path: Path | None,
    db: str | None,
    fmt: OutputFormat,
    output: Path,
    **fields: Any,
) -> None:
    """Record a dataset's provenance and content digest (a new version if it changed)."""
    from aisec.data import (
        SourceRecord,
        load_record_file,
        record_from_croissant,
        register_source,
    )

    base: dict[str, Any] = {}
    if record_file is not None:
        base = load_record_file(record_file).fields_json()
    if croissant is not None:
        base = record_from_croissant(croissant).fields_json()
    plural = {"transformation": "transformations", "issue": "issues", "flag": "flags"}
    for field, value in fields.items():
        if value not in (None, ()):
            base[plural.get(field, field)] = value
    record = SourceRecord.parse(base, where="register")
    key = load_signing_key(key_path or default_key_path())
    with byte_progress("hashing") as progress, EvidenceStore.open(db) as store:
        version, created = register_source(store, key, path, record, progress=progress)
    result = {"schema": "aisec.data-provenance/v1", "created": created, **version.to_json()}
    with open_output(output) as fh:
        if fmt is OutputFormat.JSON:
            write_json(result, fh)
        else:
            stdout_console(fh).print(
                f"{record.name} v{version.version}  {version.digest}  entry #{version.index}",
                markup=False,
            )
    note = "recorded" if created else "unchanged; nothing recorded"
    stderr_console().print(f"{record.name}: {note}", markup=False)


@data_group.command(name="history")
@click.argument("name")
@db_option()
@format_option()
@output_option()
def history(name: str, db: str | None, fmt: OutputFormat, output: Path) -> None:
    """Show every registered version of a source and what changed between them."""
    from aisec.data import source_history

    with EvidenceStore.open(db, create=False) as store:
        versions = source_history(store, name)
    with open_output(output) as fh:
        if fmt is OutputFormat.JSON:
            write_json({"schema": "aisec.data-history/v1", "name": name, "versions": versions}, fh)
            return
        con = stdout_console(fh)
        for v in versions:
            con.print(
                f"v{v['version']}  #{v['index']}  {v['created_at']}  {v['digest']}", markup=False
            )
            ch = v.get("changes")
            if not ch:
                continue
            files = ch["files"]
            for kind in ("added", "removed", "changed"):
                for p in files[kind]:
                    con.print(f"    file {kind}: {p}", markup=False)
            for field, d in ch["fields"].items():
                con.print(f"    {field}: {d['from']!r} -> {d['to']!r}", markup=False)


@data_group.command(name="export-croissant")
@click.argument("name")
@db_option()
@output_option()
def export_croissant(name: str, db: str | None, output: Path) -> None:
    """Write the newest record of a source as Croissant JSON-LD (with RAI fields)."""
    from aisec.data import latest_records, record_to_croissant

    with EvidenceStore.open(db, create=False) as store:
        found = latest_records(store, names=[name])
    if not found:
        raise InputError(f"no provenance record named {name!r}")
    with open_output(output) as fh:
        write_json(record_to_croissant(found[0]), fh)


@data_group.command(name="audit")
@click.argument("dataset", type=click.Path(path_type=Path))
@click.option("--label", required=True, help="Label column.")
@click.option("--source-column", default=None, help="Column naming each row's source.")
@click.option("--id-column", default=None, help="Column with row ids (default: row number).")
@click.option(
    "--reference",
    type=click.Path(path_type=Path),
    default=None,
    help="Reference table for drift tests.",
)
@click.option(
    "--test-split",
    type=click.Path(path_type=Path),
    default=None,
    help="Test split to check for leakage.",
)
@click.option(
    "--schema",
    "schema_path",
    type=click.Path(path_type=Path),
    default=None,
    help="Expected schema (YAML: columns: {name: {type, nullable, ...}}).",
)
@click.option(
    "-f",
    "--format",
    "fmt",
    default="text",
    show_default=True,
    type=click.Choice(["text", "json", "html", "sarif"]),
    help="Output format.",
)
@output_option()
@click.option(
    "--flagged-rows",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the flagged rows to this CSV file.",
)
@click.option(
    "--sample-cap",
    type=click.IntRange(min=100),
    default=None,
    help="Rows the model-based checks (label issues, spectral, isolation forest) see at most; "
    "every other check reads every row [default: 20000].",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the sample.")
@engine_options(
    ray_does="as a Ray Data job over row slices for the row-wise checks (missing, schema "
    "values, PII, duplicate hashes, gathering the sample); workers get the dataset path, "
    "column names and sample row numbers, never a key. Same findings either way",
    address_note="workers must read the dataset at the same path",
)
@click.option(
    "--record/--no-record",
    default=True,
    show_default=True,
    help="Sign a data/audit attestation into the evidence store.",
)
@fail_on_option()
@key_option()
@db_option()
def audit(
    dataset: Path,
    label: str,
    source_column: str | None,
    id_column: str | None,
    reference: Path | None,
    test_split: Path | None,
    schema_path: Path | None,
    fmt: str,
    output: Path,
    flagged_rows: Path | None,
    sample_cap: int | None,
    seed: int,
    engine: str,
    address: str | None,
    workers: int | None,
    record: bool,
    fail_on: Severity,
    key_path: Path | None,
    db: str | None,
) -> None:
    """Audit a CSV, Parquet or JSON-lines table: per-source risk with intervals."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from aisec.data import SAMPLE_CAP, audit_dataset, audit_statement, latest_records, load_schema
    from aisec.data._render import render_html, render_text, write_flagged_csv
    from aisec.data.audit import STEPS

    schema = load_schema(schema_path) if schema_path else None
    row_pass = None
    if engine == "ray":
        from aisec.scale.data_audit import ray_row_pass

        row_pass = ray_row_pass(address=address, workers=workers)
    key = load_signing_key(key_path or default_key_path()) if record else None
    records = []
    try:
        with EvidenceStore.open(db, create=record) as store:
            records = latest_records(store)
    except StoreError:
        if record:
            raise
        # no store yet: no records to consult; each source's provenance says so
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=(console := stderr_console()),
        transient=True,
        disable=not console.is_terminal,
    ) as bar:
        task = bar.add_task("data audit", total=STEPS)

        def step(name: str) -> None:
            bar.update(task, description=f"data audit: {name}", advance=1)

        report = audit_dataset(
            dataset,
            label=label,
            source_column=source_column,
            id_column=id_column,
            reference=reference,
            test_split=test_split,
            schema=schema,
            records=records,
            sample_cap=sample_cap or SAMPLE_CAP,
            seed=seed,
            step=step,
            row_pass=row_pass,
        )
    if key is not None:
        with EvidenceStore.open(db) as store:
            entry = store.record(audit_statement(report), key)
        report["attestation"] = {"index": entry.index, "store": store.url}
    if flagged_rows is not None:
        with open_output(flagged_rows) as fh:
            write_flagged_csv(report, fh)
    with open_output(output) as fh:
        if fmt == "json":
            write_json(report, fh)
        elif fmt == "html":
            fh.write(render_html(report))
        elif fmt == "sarif":
            write_json(findings_to_sarif([finding_from_json(f) for f in report["findings"]]), fh)
        else:
            render_text(report, stdout_console(fh))
    top = report["sources"][0] if report["sources"] else None
    summary = f"overall risk {report['risk']['overall']:.2f}; {len(report['findings'])} findings"
    if top:
        summary += f"; riskiest source {top['name']} ({top['risk']:.2f})"
    stderr_console().print(summary, markup=False)
    if exceeds((finding_from_json(f) for f in report["findings"]), fail_on):
        raise click.exceptions.Exit(EXIT_FINDINGS)
