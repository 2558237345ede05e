"""The derived index rows of a log entry (subjects, findings, runs) and their verification.

The rows make look-ups by digest fast; they are computed from the signed statement, so
``verify`` recomputes them and names any entry whose rows were altered.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from aisec.core.errors import FormatError
from aisec.core.evidence._tables import entries_t, findings_t, inputs_t, runs_t, subjects_t
from aisec.core.evidence.attestation import Envelope, Statement
from aisec.core.evidence.verify import Problem, ProblemKind
from aisec.core.findings import finding_from_json

__all__ = ["Derived", "derive", "entry_stage", "verify_indexes", "write_derived"]


@dataclass(frozen=True)
class Derived:
    subjects: list[dict[str, Any]]
    inputs: list[dict[str, Any]]
    findings: list[dict[str, Any]]
    run: dict[str, Any] | None


def entry_stage(statement: Statement) -> str:
    """The lifecycle stage an entry is filed under.

    A stage's own predicate names it; the core artifact predicate may carry one.
    """
    stage = statement.predicate.get("stage")
    if statement.stage == "core" and isinstance(stage, str) and stage:
        return stage[:32]
    return statement.stage


def derive(index: int, statement: Statement) -> Derived:
    """Index rows computed from a statement; verify recomputes and compares them."""
    subjects = [
        {"idx": index, "ordinal": i, "name": s.name, "digest": s.digest}
        for i, s in enumerate(statement.subjects)
    ]
    inputs = []
    raw_inputs = statement.predicate.get("inputs")
    if statement.predicate_type.startswith("urn:aisec:") and isinstance(raw_inputs, list):
        # the common envelope's inputs (validated against the model on append)
        for i, item in enumerate(raw_inputs):
            if isinstance(item, dict) and isinstance(item.get("digest"), str):
                inputs.append(
                    {
                        "idx": index,
                        "ordinal": i,
                        "name": str(item.get("name", "")),
                        "digest": item["digest"],
                        "role": str(item.get("role", ""))[:64],
                    }
                )
    findings = []
    for i, raw in enumerate(statement.predicate.get("findings") or []):
        f = finding_from_json(raw)
        findings.append(
            {
                "idx": index,
                "ordinal": i,
                "rule_id": f.id,
                "stage": f.stage,
                "severity": f.severity.value,
                "subject_digest": f.subject.digest,
                "body": json.dumps(f.to_json(), sort_keys=True),
            }
        )
    run_raw = statement.predicate.get("run")
    run = None
    if isinstance(run_raw, dict) and run_raw.get("id"):
        run = {"run_id": str(run_raw["id"]), "status": run_raw.get("status")}
    return Derived(subjects=subjects, inputs=inputs, findings=findings, run=run)


def _group(rows: Iterator[Any]) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = {}
    for r in rows:
        out.setdefault(int(r["idx"]), []).append(dict(r))
    return out


def _strip(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return sorted(tuple(sorted((k, str(v)) for k, v in r.items())) for r in rows)


def write_derived(conn: Connection, index: int, statement: Statement, created: str) -> None:
    """Insert the index rows of entry ``index`` (and create or extend its run's row)."""
    d = derive(index, statement)
    if d.subjects:
        conn.execute(subjects_t.insert(), d.subjects)
    if d.inputs:
        conn.execute(inputs_t.insert(), d.inputs)
    if d.findings:
        conn.execute(findings_t.insert(), d.findings)
    if d.run is None:
        return
    row = conn.execute(sa.select(runs_t).where(runs_t.c.run_id == d.run["run_id"])).first()
    if row is None:
        conn.execute(
            runs_t.insert().values(
                run_id=d.run["run_id"],
                stage=entry_stage(statement),
                control=statement.control,
                first_idx=index,
                last_idx=index,
                entries=1,
                status=d.run["status"],
                updated_at=created,
            )
        )
    else:
        conn.execute(
            runs_t.update()
            .where(runs_t.c.run_id == d.run["run_id"])
            .values(
                last_idx=index,
                entries=row.entries + 1,
                status=d.run["status"] or row.status,
                updated_at=created,
            )
        )


def verify_indexes(
    conn: Connection, already: set[int | None], *, after: int | None
) -> list[Problem]:
    """Derived rows against signed content; positions shifted by a removal are skipped."""
    problems = []
    subj = _group(conn.execute(sa.select(subjects_t)).mappings())
    ins = _group(conn.execute(sa.select(inputs_t)).mappings())
    finds = _group(conn.execute(sa.select(findings_t)).mappings())
    runs = {r["run_id"]: dict(r) for r in conn.execute(sa.select(runs_t)).mappings()}
    entry_rows = conn.execute(sa.select(entries_t).order_by(entries_t.c.idx)).all()
    expected_runs: dict[str, list[int]] = {}
    for row in entry_rows:
        i = int(row.idx)
        if i in already or (after is not None and i >= after):
            continue
        try:
            st = Envelope.from_bytes(row.envelope.encode()).statement()
            d = derive(i, st)
        except (FormatError, ValueError, KeyError):
            continue  # already reported as a changed entry
        if d.run is not None:
            expected_runs.setdefault(d.run["run_id"], []).append(i)
        columns_ok = row.predicate_type == st.predicate_type and row.stage == entry_stage(st)
        if (
            not columns_ok
            or _strip(subj.get(i, [])) != _strip(d.subjects)
            or _strip(ins.get(i, [])) != _strip(d.inputs)
            or _strip(finds.get(i, [])) != _strip(d.findings)
        ):
            problems.append(
                Problem(
                    ProblemKind.INDEX,
                    i,
                    f"entry #{i}: the subject/input/finding index rows were altered and no "
                    "longer match its signed content",
                )
            )
    # run rows summarise many entries: with an entry already named (unreadable or
    # removed) their counts cannot be recomputed, and the named entry says enough
    if already - {None} or after is not None:
        return problems
    for rid, idxs in expected_runs.items():
        r = runs.get(rid)
        if r is None or (r["first_idx"], r["last_idx"], r["entries"]) != (
            idxs[0],
            idxs[-1],
            len(idxs),
        ):
            problems.append(
                Problem(
                    ProblemKind.INDEX,
                    idxs[-1],
                    f"run {rid!r}: its index row no longer matches entries {idxs[0]}..{idxs[-1]}",
                )
            )
    return problems
