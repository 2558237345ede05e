"""``aisec inventory``: discover AI systems, expose shadow AI, ML-BOM, governance report."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

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
    require_extra,
    stderr_console,
    stdout_console,
    write_json,
)
from aisec.core.errors import FormatError, InputError
from aisec.core.findings import Severity, exceeds, findings_to_sarif, render_findings_text
from aisec.registry import CONTROLS

__all__ = ["inventory_group"]


F = TypeVar("F", bound=Callable[..., Any])


def _paths(name: str, help_text: str) -> Callable[[F], F]:
    return click.option(
        name, type=click.Path(path_type=Path), multiple=True, metavar="PATH", help=help_text
    )


@click.group(name="inventory")
def inventory_group() -> None:
    """Stage 6 (monitoring): AI inventory, shadow AI, ML-BOM and governance report."""
    require_extra("aisec inventory", "inventory", "polars", "httpx", "cyclonedx")


def _columns(text: str | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        role, sep, col = part.partition("=")
        if not sep or role.strip() not in ("host", "user", "ts"):
            raise InputError(f"--log-columns: expected host=COL,user=COL,ts=COL, got {part!r}")
        out[role.strip()] = col.strip()
    return out


def _record(db: str | None, key_path: Path | None) -> tuple[Any, Any]:
    from aisec.core.evidence import EvidenceStore, default_key_path, load_signing_key

    key = load_signing_key(key_path or default_key_path())
    return EvidenceStore.open(db), key


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FormatError(f"cannot read JSON: {exc}", path=path) from exc


@inventory_group.command(name="discover")
@click.option(
    "--registry",
    required=True,
    metavar="URL|FILE",
    help="MLflow tracking URL, MLflow JSON export, or a CSV registry.",
)
@click.option("--registry-token", envvar="AISEC_MLFLOW_TOKEN", default=None, hidden=True)
@_paths("--logs", "Zeek, Squid (with its squid.conf), proxy CSV/JSONL logs, CloudTrail.")
@_paths("--billing", "AWS CUR (CSV or Parquet), GCP billing and Azure cost exports.")
@_paths("--saas", "SaaS subscription list CSV.")
@_paths("--code", "Source repositories (code, notebooks, manifests, Dockerfiles, models).")
@click.option(
    "--catalog",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Extra AI catalogue YAML (adds or replaces entries).",
)
@click.option(
    "--log-columns",
    default=None,
    metavar="host=COL,user=COL,ts=COL",
    help="Column mapping for generic CSV/JSON-lines proxy logs.",
)
@click.option(
    "--assets",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Asset inventory CSV (ip and/or hostname, account, project -> team, owner_email).",
)
@click.option(
    "--squid-logformat",
    default=None,
    metavar="SPEC",
    help="Squid logformat of custom-format access logs (else read from a squid.conf beside them).",
)
@click.option(
    "--explain",
    is_flag=True,
    help="Print why sightings were merged and why look-alikes are not AI systems.",
)
@click.option("--no-git", is_flag=True, help="Do not read repository owners with git log.")
@engine_options(
    ray_does="as a Ray Data job parsing and matching the log, billing and SaaS files, one "
    "block per file; workers get the file paths, the catalogue and the DNS answers, never a key or "
    "token. Reconciliation stays here",
    address_note="workers must read the files at the same paths",
)
@click.option("--attest", is_flag=True, help="Record a monitoring/inventory attestation.")
@key_option()
@db_option()
@format_option(sarif=True)
@output_option()
@fail_on_option()
def discover_cmd(
    registry: str,
    registry_token: str | None,
    logs: tuple[Path, ...],
    billing: tuple[Path, ...],
    saas: tuple[Path, ...],
    code: tuple[Path, ...],
    catalog: Path | None,
    log_columns: str | None,
    assets: Path | None,
    squid_logformat: str | None,
    explain: bool,
    no_git: bool,
    engine: str,
    address: str | None,
    workers: int | None,
    attest: bool,
    key_path: Path | None,
    db: str | None,
    fmt: OutputFormat,
    output: Path,
    fail_on: Severity,
) -> None:
    """Discover AI systems in logs, billing, SaaS lists and code; reconcile with the registry."""
    from aisec.monitoring import discover, iter_files, load_ai_catalog

    # every argument error is raised before the progress bar starts, so it prints one line
    columns, cat = _columns(log_columns), load_ai_catalog(catalog)
    if not registry.startswith(("http://", "https://")) and not Path(registry).is_file():
        raise InputError(
            "registry not found (expected an MLflow URL, JSON or CSV file)", path=registry
        )
    total = sum(f.stat().st_size for f in iter_files([*logs, *billing, *saas]))
    file_map = None
    if engine == "ray":
        from aisec.scale.discover import ray_file_map

        file_map = ray_file_map(address=address, workers=workers)
    for root in code:
        if not root.exists():
            raise InputError("no such file or folder", path=root)
    with byte_progress("discovering", total) as advance:
        inv = discover(
            registry=registry,
            logs=logs,
            billing=billing,
            saas=saas,
            code=code,
            catalog=cat,
            columns=columns,
            registry_token=registry_token,
            git=not no_git,
            progress=advance,
            assets=assets,
            squid_logformat=squid_logformat,
            file_map=file_map,
        )
    doc = inv.to_json()
    body = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    with open_output(output) as out:
        if fmt is OutputFormat.JSON:
            out.write(body)
        elif fmt is OutputFormat.SARIF:
            write_json(findings_to_sarif(list(inv.findings)), out)
        else:
            con = stdout_console(out)
            for s in doc["systems"]:
                state = "registered" if s["registered"] else "SHADOW"
                team = s["team"] or "unknown owner"
                con.print(f"{state:<10} {s['kind']:<19} {s['name']}  [{team}]", markup=False)
                if explain:
                    _explain_system(con, s)
            if explain:
                con.print("not AI systems:", markup=False)
                for d in doc["not_ai"]:
                    con.print(
                        f"  - {d['subject']}: {d['reason']} ({d['file']}, {d['location']})",
                        markup=False,
                    )
            render_findings_text(list(inv.findings), con)
    summ = doc["summary"]
    err = stderr_console()
    err.print(
        f"{summ['systems']} AI systems: {summ['registered']} registered, "
        f"{summ['shadow']} shadow AI; {len(inv.skipped)} inputs skipped",
        markup=False,
    )
    if attest:
        from aisec.monitoring import attest_inventory

        store, key = _record(db, key_path)
        with store:
            entry = attest_inventory(store, key, body.encode(), doc)
        err.print(f"recorded monitoring/inventory attestation #{entry.index}", markup=False)
    if exceeds(inv.findings, fail_on):
        raise click.exceptions.Exit(EXIT_FINDINGS)


def _explain_system(con: Any, s: dict[str, Any]) -> None:
    match = s.get("match") or {}
    if s["registered"]:
        con.print(
            f"    reconciled with {s['registry_id']}: {match.get('via') or 'no evidence found'}",
            markup=False,
        )
    for reason in match.get("merged") or []:
        con.print(f"    merged: {reason}", markup=False)
    con.print(
        f"    team: {s['team'] or 'unknown'} ({s.get('team_evidence') or 'no evidence'})",
        markup=False,
    )
    for e in s["evidence"][:8]:
        con.print(
            f"    evidence: {e['source']} {e['file']} {e['location']} {e.get('detail', '')}",
            markup=False,
        )


@inventory_group.command(name="bom")
@click.option(
    "--from",
    "source",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("inventory.json"),
    show_default=True,
    help="Inventory JSON.",
)
@click.option("--attest", is_flag=True, help="Record a monitoring/ai-bom attestation.")
@key_option()
@db_option()
@output_option()
def bom_cmd(
    source: Path, attest: bool, key_path: Path | None, db: str | None, output: Path
) -> None:
    """Export the inventory as a CycloneDX 1.6 ML-BOM (validated against the schema)."""
    from aisec.monitoring import build_bom

    bom = build_bom(_read_json(source))
    body = json.dumps(bom, indent=2) + "\n"
    with open_output(output) as out:
        out.write(body)
    err = stderr_console()
    err.print(
        f"ML-BOM: {len(bom.get('components', []))} components, "
        f"{len(bom.get('services', []))} services; CycloneDX 1.6 schema valid",
        markup=False,
    )
    if attest:
        from aisec.monitoring import attest_bom

        store, key = _record(db, key_path)
        with store:
            entry = attest_bom(store, key, body.encode(), bom)
        err.print(f"recorded monitoring/ai-bom attestation #{entry.index}", markup=False)


@inventory_group.command(name="report")
@click.option(
    "--inventory",
    "inventory_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Inventory JSON whose shadow AI the report lists.",
)
@click.option(
    "-f",
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "html"]),
    default="text",
    show_default=True,
)
@click.option("--attest", is_flag=True, help="Record a monitoring/governance attestation.")
@key_option()
@db_option()
@output_option()
def report_cmd(
    inventory_path: Path | None,
    fmt: str,
    attest: bool,
    key_path: Path | None,
    db: str | None,
    output: Path,
) -> None:
    """Governance report: framework coverage from the evidence store, plus shadow AI."""
    from aisec.core.evidence import EvidenceStore
    from aisec.monitoring import governance_report, render_html, render_text

    inventory = _read_json(inventory_path) if inventory_path else None
    with EvidenceStore.open(db) as store:
        report = governance_report(store, CONTROLS, inventory)
    if fmt == "json":
        body = json.dumps(report, indent=2, ensure_ascii=False) + "\n"
    elif fmt == "html":
        body = render_html(report)
    else:
        body = render_text(report)
    with open_output(output) as out:
        out.write(body)
    if attest:
        from aisec.monitoring import attest_governance

        store, key = _record(db, key_path)
        with store:
            entry = attest_governance(store, key, body.encode(), report)
        stderr_console().print(
            f"recorded monitoring/governance attestation #{entry.index}", markup=False
        )


@inventory_group.command(name="synth-enterprise")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--noise",
    type=click.IntRange(min=0),
    default=3000,
    show_default=True,
    help="Benign log lines to mix in.",
)
def synth_cmd(directory: Path, seed: int, noise: int) -> None:
    """Write a synthetic enterprise (7 registered AI systems, 9 shadow ones, many decoys)."""
    from aisec.monitoring import synth_enterprise

    truth = synth_enterprise(directory, seed=seed, noise=noise)
    click.echo(f"{truth.root}: {truth.registered} registered, {len(truth.shadow)} hidden; try:")
    click.echo(
        f"  aisec inventory discover --registry {truth.root}/registry.json "
        f"--logs {truth.root}/logs --billing {truth.root}/billing "
        f"--saas {truth.root}/saas --code {truth.root}/repo --assets {truth.root}/assets.csv"
    )


def _stored(db: str | None) -> list[dict[str, Any]]:
    from aisec.core.evidence import EvidenceStore
    from aisec.monitoring import current_inventory

    with EvidenceStore.open(db) as store:
        systems = current_inventory(store)
    if systems is None:
        raise InputError("no inventory in the evidence store: run inventory discover --attest")
    return systems


@inventory_group.command(name="list")
@click.option("--shadow", is_flag=True, help="Only systems missing from the registry.")
@click.option("--unowned", is_flag=True, help="Only systems without an owner.")
@format_option()
@output_option()
@db_option()
def list_cmd(shadow: bool, unowned: bool, fmt: OutputFormat, output: Path, db: str | None) -> None:
    """The stored inventory: latest discovery plus recorded owners and reviews."""
    systems = [
        s
        for s in _stored(db)
        if (not shadow or not s.get("registered")) and (not unowned or not s.get("owner"))
    ]
    with open_output(output) as out:
        if fmt is OutputFormat.JSON:
            write_json({"schema": "aisec.inventory-state/v1", "systems": systems}, out)
            return
        for s in systems:
            state = "registered" if s.get("registered") else "SHADOW"
            review = "reviewed" if s.get("reviewed") else "unreviewed"
            out.write(
                f"{s['id']}  {state:<10} {review:<10} {s['kind']:<19} "
                f"{s['name']}  owner={s.get('owner') or '-'}\n"
            )


@inventory_group.command(name="show")
@click.argument("system")
@output_option()
@db_option()
def show_cmd(system: str, output: Path, db: str | None) -> None:
    """One system of the stored inventory (by id or exact name), as JSON."""
    from aisec.monitoring import find_system

    with open_output(output) as out:
        write_json(find_system(_stored(db), system), out)


def _update(
    db: str | None,
    key_path: Path | None,
    system: str,
    changes: dict[str, Any],
    model: Path | None = None,
) -> None:
    from aisec.monitoring import update_system

    store, key = _record(db, key_path)
    with store:
        entry = update_system(store, key, system, changes, model=model)
    from aisec.core.predicates.monitoring import InventoryUpdatePredicate

    upd = InventoryUpdatePredicate.from_statement(entry.statement).update
    stderr_console().print(
        f"recorded update of {upd['system']} (attestation #{entry.index})", markup=False
    )


@inventory_group.command(name="assign-owner")
@click.argument("system")
@click.argument("owner")
@key_option()
@db_option()
def assign_owner_cmd(system: str, owner: str, key_path: Path | None, db: str | None) -> None:
    """Record OWNER as accountable for SYSTEM (a signed monitoring/inventory update)."""
    _update(db, key_path, system, {"owner": owner})


@inventory_group.command(name="link-model")
@click.argument("system")
@click.argument("model", type=click.Path(exists=True, path_type=Path))
@key_option()
@db_option()
def link_model_cmd(system: str, model: Path, key_path: Path | None, db: str | None) -> None:
    """Record that SYSTEM runs the model artifact MODEL (a file or folder), by its digest.

    The update takes the model as an input, so `aisec evidence chain MODEL` reaches the
    inventory: the model's evidence runs from its data to its place in production.
    """
    _update(db, key_path, system, {}, model=model)


@inventory_group.command(name="mark-reviewed")
@click.argument("system")
@click.option("--by", "reviewer", required=True, help="Who reviewed the system.")
@click.option(
    "--risk-tier", type=click.Choice(["minimal", "limited", "high", "unacceptable"]), default=None
)
@click.option(
    "--lifecycle",
    type=click.Choice(["data", "training", "evaluation", "deployment", "inference", "monitoring"]),
    default=None,
    help="The lifecycle stage the system is in.",
)
@key_option()
@db_option()
def mark_reviewed_cmd(
    system: str,
    reviewer: str,
    risk_tier: str | None,
    lifecycle: str | None,
    key_path: Path | None,
    db: str | None,
) -> None:
    """Record a review of SYSTEM, with its risk tier and lifecycle stage."""
    changes: dict[str, Any] = {"reviewed": True, "reviewed_by": reviewer}
    if risk_tier:
        changes["risk_tier"] = risk_tier
    if lifecycle:
        changes["lifecycle"] = lifecycle
    _update(db, key_path, system, changes)
