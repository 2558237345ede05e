"""``aisec evidence``: record, list, show, export and verify the signed evidence log."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from aisec.cli._common import (
    EXIT_FINDINGS,
    OutputFormat,
    byte_progress,
    db_option,
    fail_on_option,
    format_option,
    key_option,
    open_output,
    output_option,
    plural,
    registry_rules,
    stderr_console,
    stdout_console,
    write_json,
)
from aisec.core.errors import FormatError, InputError
from aisec.core.evidence import (
    EvidenceStore,
    PublicKey,
    TreeHead,
    VerifyReport,
    default_key_path,
    load_public_key,
    load_signing_key,
    verify_export,
)
from aisec.core.evidence.artifact import artifact_statement
from aisec.core.evidence.merkle import verify_consistency, verify_inclusion
from aisec.core.findings import (
    Finding,
    Severity,
    exceeds,
    finding_from_json,
    findings_to_json,
    findings_to_sarif,
    render_findings_text,
)
from aisec.core.predicates.enums import TriageState

__all__ = ["evidence_group"]


@click.group(name="evidence")
def evidence_group() -> None:
    """The evidence store: signed attestations in a tamper-evident Merkle log."""


def _exit(code: int) -> None:
    if code:
        raise click.exceptions.Exit(code)


@evidence_group.command(name="add")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--stage", default=None, help="Lifecycle stage the artifacts belong to.")
@click.option("--note", default=None, help="Free text kept in the attestation.")
@click.option(
    "--derived-from",
    multiple=True,
    metavar="DIGEST",
    help="sha256 digest of an artifact this one was made from (repeatable).",
)
@key_option()
@db_option()
@format_option()
@output_option()
def add(
    paths: tuple[Path, ...],
    stage: str | None,
    note: str | None,
    derived_from: tuple[str, ...],
    key_path: Path | None,
    db: str | None,
    fmt: OutputFormat,
    output: Path,
) -> None:
    """Attest files or folders by digest and append the attestation to the log."""
    if stage:
        from aisec.core.frameworks import load_catalog

        stage = load_catalog().stage(stage).id
    key = load_signing_key(key_path or default_key_path())
    with byte_progress("hashing") as progress:
        statement = artifact_statement(
            list(paths), stage=stage, note=note, derived_from=list(derived_from), progress=progress
        )
    with EvidenceStore.open(db) as store:
        entry = store.record(statement, key)
    result = {
        "schema": "aisec.evidence-entry/v1",
        "index": entry.index,
        "predicate_type": entry.predicate_type,
        "subjects": [{"name": s.name, "digest": s.digest} for s in statement.subjects],
        "store": store.url,
    }
    with open_output(output) as fh:
        if fmt is OutputFormat.JSON:
            write_json(result, fh)
            return
        con = stdout_console(fh)
        for s in statement.subjects:
            con.print(f"#{entry.index}  {s.digest}  {s.name}", markup=False)
    stderr_console().print(f"recorded entry #{entry.index} in {store.url}", markup=False)


@evidence_group.command(name="list")
@click.option("--stage", default=None, help="Only entries of this stage.")
@click.option("--predicate", default=None, help="Only entries of this predicate type.")
@click.option("--digest", default=None, help="Only entries with this subject digest.")
@click.option("--limit", type=click.IntRange(min=1), default=None)
@db_option()
@format_option()
@output_option()
def list_entries(
    stage: str | None,
    predicate: str | None,
    digest: str | None,
    limit: int | None,
    db: str | None,
    fmt: OutputFormat,
    output: Path,
) -> None:
    """List log entries, oldest first."""
    if digest:
        from aisec.core.digest import parse_digest

        digest = parse_digest(digest)
    with EvidenceStore.open(db, create=False) as store:
        entries = store.entries(
            stage=stage, predicate_type=predicate, subject_digest=digest, limit=limit
        )
    rows: list[dict[str, Any]] = []
    for e in entries:
        st = e.statement
        rows.append(
            {
                "index": e.index,
                "created_at": e.created_at,
                "stage": e.stage,
                "predicate_type": e.predicate_type,
                "keyid": e.keyid,
                "subjects": [{"name": s.name, "digest": s.digest} for s in st.subjects],
            }
        )
    with open_output(output) as fh:
        if fmt is OutputFormat.JSON:
            write_json({"schema": "aisec.evidence-list/v1", "entries": rows}, fh)
            return
        table = Table("#", "time (UTC)", "stage", "control", "subjects")
        for r in rows:
            subj = ", ".join(f"{s['name']} {s['digest'][7:19]}…" for s in r["subjects"])
            table.add_row(
                str(r["index"]),
                r["created_at"][:19].replace("T", " "),
                r["stage"],
                r["predicate_type"].rsplit("/", 1)[-1],
                subj,
            )
        stdout_console(fh).print(table)


@evidence_group.command(name="show")
@click.argument("index", type=click.IntRange(min=0))
@db_option()
@format_option()
@output_option()
def show(index: int, db: str | None, fmt: OutputFormat, output: Path) -> None:
    """Show one entry: its statement, signature and inclusion proof in the latest head."""
    with EvidenceStore.open(db, create=False) as store:
        entry = store.get(index)
        head = store.latest_head()
        size = head.size if head else store.size()
        proof = store.inclusion_proof(index, size)
    statement = entry.statement.to_json()
    proved = head is not None and verify_inclusion(
        bytes.fromhex(entry.leaf_hash), index, size, proof, bytes.fromhex(head.root)
    )
    result = {
        "schema": "aisec.evidence-entry/v1",
        **entry.to_json(),
        "statement": statement,
        "inclusion": {
            "tree_size": size,
            "root": head.root if head else None,
            "proof": [p.hex() for p in proof],
            "verified": proved,
        },
    }
    with open_output(output) as fh:
        if fmt is OutputFormat.JSON:
            write_json(result, fh)
            return
        con = stdout_console(fh)
        con.print(f"entry #{entry.index}  {entry.created_at}", markup=False)
        con.print(f"  predicate: {entry.predicate_type}", markup=False)
        con.print(f"  signed by: {entry.keyid}", markup=False)
        for s in entry.statement.subjects:
            con.print(f"  subject:   {s.digest}  {s.name}", markup=False)
        con.print(
            f"  included in tree of size {size}: "
            f"{'proof verifies' if proved else 'NOT PROVED'} ({len(proof)} hashes)",
            markup=False,
        )
        con.print_json(json.dumps(statement["predicate"]))


@evidence_group.command(name="export")
@db_option()
@output_option()
def export(db: str | None, output: Path) -> None:
    """Write the whole log as JSON lines, verifiable offline with the public key."""
    with EvidenceStore.open(db, create=False) as store, open_output(output) as fh:
        count = store.export(fh)
    stderr_console().print(f"exported {count} entries", markup=False)


@evidence_group.command(name="head")
@db_option()
@output_option()
def head(db: str | None, output: Path) -> None:
    """Print the latest signed tree head (JSON); keep it elsewhere as a witness."""
    with EvidenceStore.open(db, create=False) as store:
        th = store.latest_head()
    if th is None:
        raise InputError("the evidence log is empty: no tree head yet")
    with open_output(output) as fh:
        write_json(th.to_json(), fh)


@evidence_group.command(name="consistency")
@click.argument("old_size", type=click.IntRange(min=1))
@click.argument("new_size", type=click.IntRange(min=1), required=False)
@db_option()
@output_option()
def consistency(old_size: int, new_size: int | None, db: str | None, output: Path) -> None:
    """Print and check the consistency proof between two signed tree heads (JSON)."""
    with EvidenceStore.open(db, create=False) as store:
        heads = {h.size: h for h in store.heads()}
        new_size = new_size or max(heads, default=0)
        if old_size not in heads or new_size not in heads:
            raise InputError(f"no signed tree heads of sizes {old_size} and {new_size}")
        proof = store.consistency_proof(old_size, new_size)
    old_root, new_root = heads[old_size].root, heads[new_size].root
    ok = verify_consistency(
        old_size, new_size, bytes.fromhex(old_root), bytes.fromhex(new_root), proof
    )
    with open_output(output) as fh:
        write_json(
            {
                "schema": "aisec.consistency-proof/v1",
                "old": {"size": old_size, "root": old_root},
                "new": {"size": new_size, "root": new_root},
                "proof": [p.hex() for p in proof],
                "verified": ok,
            },
            fh,
        )
    _exit(0 if ok else EXIT_FINDINGS)


@evidence_group.command(name="findings")
@click.option("--stage", default=None, help="Only findings of this stage.")
@click.option(
    "--status",
    type=click.Choice(["open", "triaged", "all"]),
    default="all",
    show_default=True,
    help="open: no active triage decision; triaged: accepted, false positive, fixed, suppressed.",
)
@db_option()
@format_option(sarif=True)
@output_option()
@fail_on_option()
def findings(
    stage: str | None,
    status: str,
    db: str | None,
    fmt: OutputFormat,
    output: Path,
    fail_on: Severity,
) -> None:
    """All findings recorded in the evidence, most severe first, with their triage state.

    Exit 1 when an open finding (no active triage decision) is at or above --fail-on.
    """
    from aisec.core.evidence.triage import triage_states

    with EvidenceStore.open(db, create=False) as store:
        recorded = store.findings(stage=stage)
        states = triage_states(store)
    # the newest report of each finding counts; older reports of the same fingerprint repeat it
    newest: dict[str, tuple[int, Finding]] = {}
    for idx, f in recorded:
        newest[f.fingerprint] = (idx, f)
    rows = sorted(newest.values(), key=lambda r: (-r[1].severity.rank, r[1].id, r[0]))
    active = {fp: t for fp, t in states.items() if t.active()}
    if status == "open":
        rows = [r for r in rows if r[1].fingerprint not in active]
    elif status == "triaged":
        rows = [r for r in rows if r[1].fingerprint in active]
    items = [f for _i, f in rows]
    with open_output(output) as fh:
        if fmt is OutputFormat.JSON:
            doc = findings_to_json(items)
            entry_of = {f.fingerprint: idx for idx, f in rows}
            for item in doc["findings"]:
                fp = finding_from_json(item).fingerprint
                t = states.get(fp)
                item |= {
                    "entry": entry_of[fp],
                    "fingerprint": fp,
                    "triage": t.to_json() if t else None,
                }
            write_json(doc, fh)
        elif fmt is OutputFormat.SARIF:
            notes = {
                fp: f"{t.state.value} by {t.by}"
                + (f" until {t.until}" if t.until else "")
                + f": {t.reason} (triage entry #{t.index})"
                for fp, t in active.items()
            }
            write_json(findings_to_sarif(items, rules=registry_rules(), suppressions=notes), fh)
        else:
            con = stdout_console(fh)
            render_findings_text(items, con)
            for idx, f in rows:
                t = states.get(f.fingerprint)
                label = t.label() if t else "open"
                con.print(f"  #{idx} {f.id} {f.fingerprint}: {label}", markup=False)
    open_items = [f for f in items if f.fingerprint not in active]
    stderr_console().print(f"{plural(len(items), 'finding')}, {len(open_items)} open", markup=False)
    _exit(EXIT_FINDINGS if exceeds(open_items, fail_on) else 0)


@evidence_group.command(name="triage")
@click.argument("finding")
@click.option(
    "--state",
    type=click.Choice([s.value for s in TriageState]),
    required=True,
    help="The decision; accepted-risk and suppressed need --until.",
)
@click.option("--reason", required=True, help="Why (kept, signed, shown wherever the finding is).")
@click.option("--by", "by", required=True, help="Who decided (name or e-mail).")
@click.option(
    "--until",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Expiry date (YYYY-MM-DD) of an acceptance or a suppression.",
)
@key_option()
@db_option()
@format_option()
@output_option()
def triage(
    finding: str,
    state: str,
    reason: str,
    by: str,
    until: Any,
    key_path: Path | None,
    db: str | None,
    fmt: OutputFormat,
    output: Path,
) -> None:
    """Record a triage decision about FINDING (its fingerprint fp:…, or ENTRY:N).

    The decision is signed evidence (core/triage): the dashboard, SARIF and 'evidence
    findings' show it, and the deploy gate honours it where its policy says so.
    """
    from aisec.core.evidence.triage import find_finding, triage_predicate

    key = load_signing_key(key_path or default_key_path())
    with EvidenceStore.open(db, create=False) as store:
        idx, found = find_finding(store, finding)
        predicate = triage_predicate(
            found,
            idx,
            state=TriageState(state),
            reason=reason,
            by=by,
            until=until.date() if until is not None else None,
        )
        entry = store.record(predicate.statement(), key)
    with open_output(output) as fh:
        if fmt is OutputFormat.JSON:
            write_json(
                {
                    "schema": "aisec.triage/v1",
                    "entry": entry.index,
                    "fingerprint": predicate.fingerprint,
                    "rule_id": predicate.rule_id,
                    "state": predicate.state.value,
                    "until": predicate.until.isoformat() if predicate.until else None,
                },
                fh,
            )
        else:
            stdout_console(fh).print(
                f"{predicate.fingerprint} {predicate.rule_id}: {predicate.state.value}"
                + (f" until {predicate.until}" if predicate.until else ""),
                markup=False,
            )
    stderr_console().print(f"recorded triage as entry #{entry.index}", markup=False)


def _load_witness(path: Path | None) -> TreeHead | None:
    if path is None:
        return None
    try:
        return TreeHead.from_json(json.loads(path.read_text()))
    except FileNotFoundError as exc:
        raise InputError("witness head file not found", path=path) from exc
    except ValueError as exc:
        raise FormatError("witness head is not JSON", path=path) from exc


@evidence_group.command(name="verify")
@click.option(
    "--trust",
    "keys",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Public key to pin (repeatable). Without it, the keys recorded in the log are "
    "trusted, which proves consistency but not authorship.",
)
@click.option(
    "--export",
    "export_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Verify an exported log (JSON lines) instead of the store.",
)
@click.option(
    "--witness",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="A tree head saved earlier ('aisec evidence head'); the log must extend it.",
)
@db_option()
@format_option()
@output_option()
def verify(
    keys: tuple[Path, ...],
    export_file: Path | None,
    witness: Path | None,
    db: str | None,
    fmt: OutputFormat,
    output: Path,
) -> None:
    """Recompute every leaf, root, signature and index; name what was altered.

    Exit 0 when the log verifies, 1 when it shows tampering, 2 on bad input.
    """
    pinned: list[PublicKey] = [load_public_key(k) for k in keys]
    witness_head = _load_witness(witness)
    where: str
    if export_file is not None:
        try:
            with export_file.open(encoding="utf-8") as fh:
                report = verify_export(fh, pinned or None, witness=witness_head)
        except FileNotFoundError as exc:
            raise InputError("export file not found", path=export_file) from exc
        except UnicodeDecodeError as exc:
            raise FormatError("export file is not UTF-8 text", path=export_file) from exc
        where = str(export_file)
    else:
        with EvidenceStore.open(db, create=False) as store:
            report = store.verify(pinned or None, witness=witness_head)
            where = store.url
    with open_output(output) as fh:
        if fmt is OutputFormat.JSON:
            write_json({**report.to_json(), "source": where}, fh)
        else:
            _print_report(report, where, stdout_console(fh))
    _exit(0 if report.ok else EXIT_FINDINGS)


def _print_report(report: VerifyReport, where: str, con: Any) -> None:
    if report.ok:
        con.print(
            f"[green]verified[/] {where}: {_plural(report.entries_checked, 'entry', 'entries')}, "
            f"{_plural(report.heads_checked, 'signed tree head', 'signed tree heads')}, "
            f"root {(report.root or '-')[:16]}…"
        )
    else:
        con.print(f"[bold red]TAMPERED[/] {where}: {len(report.problems)} problem(s)")
        for p in report.problems:
            con.print(f"  - {p.message}", markup=False)
    if report.pinned_keys:
        pinned = ", ".join(k[:16] for k in report.pinned_keys)
        con.print(f"  signatures checked against pinned key(s) {pinned}")
    else:
        con.print(
            "  [yellow]note[/]: no --trust key given; signatures were checked against the keys "
            "recorded in the log itself"
        )
    if report.ok and report.witness_size is not None:
        con.print(f"  consistent with the witnessed head of size {report.witness_size}")


def _plural(n: int, one: str, many: str) -> str:
    return plural(n, one, many)


def _chain_roots(target: str) -> tuple[list[str], list[str], str]:
    """(roots, files, shown): a digest, a file, or a folder's digest and its files'."""
    from aisec.core.digest import digest_file, digest_path, parse_digest

    path = Path(target)
    if path.exists():
        if path.is_dir():
            manifest = digest_path(path)
            return [manifest.digest], [e.digest for e in manifest.entries], str(path)
        return [digest_file(path)], [], str(path)
    if target.startswith("sha256:") or len(target) == 64:
        return [parse_digest(target)], [], target
    raise InputError(f"{target}: neither a file, a folder nor a sha256 digest", path=target)


@evidence_group.command(name="chain")
@click.argument("target")
@click.option(
    "--trust",
    "keys",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Only evidence signed by this public key counts (repeatable; default: the log's keys).",
)
@click.option(
    "--max-age-days",
    type=click.FloatRange(min=0),
    default=None,
    help="Evidence older than this is a gap.",
)
@click.option(
    "--until",
    type=click.Choice(["data", "training", "evaluation", "deployment", "inference", "monitoring"]),
    default="monitoring",
    show_default=True,
    help="The last lifecycle stage the chain must reach.",
)
@click.option(
    "-f",
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "dot", "mermaid"]),
    default="text",
    show_default=True,
)
@output_option()
@db_option()
def chain(
    target: str,
    keys: tuple[Path, ...],
    max_age_days: float | None,
    until: str,
    fmt: str,
    output: Path,
    db: str | None,
) -> None:
    """Walk the chain of evidence of TARGET (a file, a model folder or a digest), both ways.

    Prints each stage's links (result, signer, time) and the gaps: a stage without evidence,
    an untrusted signer, expired or unreadable evidence, a link to a digest nothing is about.
    Exit 1 when there is a gap, so CI can require a complete chain.
    """
    from datetime import timedelta

    from aisec.core.evidence.chain import walk_chain

    pinned = [load_public_key(k) for k in keys]
    roots, files, shown = _chain_roots(target)
    with EvidenceStore.open(db, create=False) as store:
        found = walk_chain(
            store,
            roots,
            files=files,
            keys=pinned or None,
            max_age=None if max_age_days is None else timedelta(days=max_age_days),
            until=until,
        )
    with open_output(output) as fh:
        if fmt == "json":
            write_json(found.to_json(), fh)
        elif fmt == "dot":
            fh.write(found.to_dot())
        elif fmt == "mermaid":
            fh.write(found.to_mermaid())
        else:
            _print_chain(found, shown, stdout_console(fh))
    stages_ok = sum(1 for st in found.stages if found.stage_state(st) == "ok")
    stderr_console().print(
        f"{shown}: {stages_ok} of {plural(len(found.stages), 'stage')} with evidence, "
        f"{plural(len(found.gaps), 'gap')}",
        markup=False,
    )
    _exit(EXIT_FINDINGS if found.gaps else 0)


def _print_chain(found: Any, shown: str, con: Any) -> None:
    con.print(f"chain of evidence of {shown} ({found.root[:19]}…)", markup=False)
    table = Table("stage", "state", "entry", "control", "result", "signer", "time", "via", box=None)
    for st in found.stages:
        links = found.stage_links(st)
        state = found.stage_state(st)
        if not links:
            table.add_row(st, state, "-", "-", "-", "-", "-", "-")
        for i, x in enumerate(links):
            table.add_row(
                st if i == 0 else "",
                state if i == 0 else "",
                f"#{x.index}",
                x.control,
                x.result.value if x.result is not None else "-",
                f"{x.signer[:12]}…" + ("" if x.trusted else " (untrusted)"),
                (x.time or "")[:19],
                x.relation.value,
            )
    con.print(table)
    if found.gaps:
        con.print("gaps:", markup=False)
        for g in found.gaps:
            con.print(f"  - {g.stage}: {g.kind.value}: {g.message}", markup=False)
    if found.truncated:
        con.print("  (the walk stopped at its bound of links; narrow it with a digest)")
