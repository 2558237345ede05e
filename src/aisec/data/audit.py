"""``audit_dataset``: the data-trust audit of one table, source by source.

The report is a plain JSON-ready dict tagged ``aisec.data-audit/v1`` (docs/data.md lists
its keys); :func:`audit_statement` wraps its scores in a ``data/audit:v1`` statement over
the dataset digest.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from aisec.core.digest import digest_path
from aisec.core.errors import FormatError, InputError
from aisec.core.evidence import ArtifactRef, Statement, predicate_type
from aisec.core.findings import Finding, Severity
from aisec.data import _rules as rules
from aisec.data._checks import duplicate_scales, duplicates, leakage
from aisec.data._drift import column_kind, drift
from aisec.data._ml import MLResult, ml_checks
from aisec.data._poison import find_triggers
from aisec.data._records import RecordVersion
from aisec.data._risk import SourceCounts, score_sources
from aisec.data._robust import gross_errors
from aisec.data._rowpass import RowChecks, RowPass, RowPlan, row_checks
from aisec.data._table import (
    ROW,
    SAMPLE_CAP,
    ExpectedSchema,
    Table,
    _pl,
    check_readable,
    open_table,
    sample_rows,
    schema_problems,
)

__all__ = ["AUDIT_PREDICATE", "AUDIT_SCHEMA", "audit_dataset", "audit_statement"]

AUDIT_SCHEMA = "aisec.data-audit/v1"
AUDIT_PREDICATE = predicate_type("data", "audit")
STEPS = 10
_ROW_CAP = 100_000
"""Flagged rows listed at most in the report (counts are complete)."""


def audit_dataset(
    path: str | os.PathLike[str],
    *,
    label: str,
    source_column: str | None = None,
    id_column: str | None = None,
    reference: str | os.PathLike[str] | None = None,
    test_split: str | os.PathLike[str] | None = None,
    schema: ExpectedSchema | None = None,
    records: Sequence[RecordVersion] = (),
    sample_cap: int = SAMPLE_CAP,
    seed: int = 0,
    step: Callable[[str], None] | None = None,
    row_pass: RowPass | None = None,
) -> dict[str, Any]:
    """Audit the table at ``path``; ``step`` is told the name of each stage as it starts.

    ``row_pass`` runs the row-local checks (missing values, schema values, personal data,
    duplicate hashes, the sample's rows; :mod:`aisec.data._rowpass`): in this process by
    default, on a Ray cluster with ``aisec.scale.ray_row_pass``; the findings are the same.

    A cell that does not parse as its column's type, found anywhere in the file, is an
    ``FormatError`` naming the column (Polars infers types from the first 10 000 rows).
    """
    path = Path(path)
    reference = None if reference is None else Path(reference)
    test_split = None if test_split is None else Path(test_split)
    pl = _pl()
    try:
        return _audit(
            path,
            label=label,
            source_column=source_column,
            id_column=id_column,
            reference=reference,
            test_split=test_split,
            schema=schema,
            records=records,
            sample_cap=sample_cap,
            seed=seed,
            step=step,
            row_pass=row_pass,
        )
    except pl.exceptions.PolarsError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        where = path if reference is None and test_split is None else None
        raise FormatError(f"cannot read the data: {first}", path=where) from exc


def _audit(
    path: Path,
    *,
    label: str,
    source_column: str | None,
    id_column: str | None,
    reference: Path | None,
    test_split: Path | None,
    schema: ExpectedSchema | None,
    records: Sequence[RecordVersion],
    sample_cap: int,
    seed: int,
    step: Callable[[str], None] | None,
    row_pass: RowPass | None,
) -> dict[str, Any]:
    say = step or (lambda _name: None)
    say("reading")
    table = open_table(path)
    for role, col in (("label", label), ("source", source_column), ("id", id_column)):
        if col is not None and col not in table.columns:
            shown = ", ".join([c for c in table.columns if c != ROW][:8])
            raise InputError(f"no {role} column {col!r} (columns: {shown})", path=path)
    n_rows = check_readable(table)
    if n_rows == 0:
        raise InputError("the dataset has no rows", path=path)
    say("hashing")
    digest = digest_path(path).digest
    special = [c for c in (label, source_column, id_column) if c]
    features = table.numeric(special)
    texts = table.text(special)
    report: dict[str, Any] = {
        "schema": AUDIT_SCHEMA,
        "dataset": {
            "path": str(path),
            "digest": digest,
            "rows": n_rows,
            "columns": len(table.columns) - 1,
        },
        "label": label,
        "source_column": source_column,
        "id_column": id_column,
        "sample": {"rows": min(n_rows, sample_cap), "cap": sample_cap, "seed": seed},
    }
    findings: list[Finding] = []
    sub = (str(path), digest)

    say("schema and missing values")
    dup_features = features + texts
    plan = RowPlan(
        id_column=id_column,
        source_column=source_column,
        texts=tuple(texts),
        dup_features=tuple(dup_features),
        scales=duplicate_scales(table, dup_features),
        schema=schema,
        sample=sample_rows(n_rows, sample_cap, seed),
    )
    rc: RowChecks = (row_pass or row_checks)(table, plan)
    missing = rc.missing
    problems = schema_problems(table, schema, rc.schema_counts) if schema else []
    if problems:
        findings.append(
            rules.SCHEMA.finding(
                sub[0],
                f"{len(problems)} schema problems: "
                + "; ".join(f"{p['column']}: {p['problem']}" for p in problems[:5]),
                digest=digest,
                evidence={"problems": problems},
            )
        )
    heavy = {c: n for c, n in missing.items() if n / n_rows > 0.2}
    if heavy:
        findings.append(
            rules.MISSING.finding(
                sub[0],
                "over 20% missing in " + ", ".join(heavy),
                digest=digest,
                evidence={"missing": heavy, "rows": n_rows},
            )
        )

    say("duplicates")
    dup = duplicates(
        table, id_col=id_column, features=dup_features, source_col=source_column, keys=rc.dup_keys
    )
    if dup.flagged:
        sev = Severity.MEDIUM if len(dup.flagged) / n_rows > 0.05 else Severity.LOW
        findings.append(
            rules.DUPLICATES.finding(
                sub[0],
                f"{dup.exact_rows} exact and {dup.near_rows} near-duplicate rows",
                digest=digest,
                severity=sev,
                evidence={"exact": dup.exact_rows, "near": dup.near_rows},
            )
        )
    leak_pairs: list[dict[str, Any]] = []
    leak_rows: dict[int, float] = {}
    if test_split is not None:
        say("leakage")
        test = open_table(test_split, role="test split")
        check_readable(test)
        leak_pairs, n_leak, leak_rows = leakage(
            table, test, id_col=id_column, features=features, texts=texts
        )
        if n_leak:
            findings.append(
                rules.LEAKAGE.finding(
                    sub[0],
                    f"{n_leak} training rows also occur in {test_split.name}",
                    digest=digest,
                    evidence={"rows": n_leak},
                )
            )

    say("personal data")
    pii_list, pii_counts, pii_rows = rc.pii_list, rc.pii_counts, rc.pii_rows
    if pii_rows:
        findings.append(
            rules.PII.finding(
                sub[0],
                f"{len(pii_rows)} rows hold personal data: "
                + ", ".join(f"{k} {v}" for k, v in sorted(pii_counts.items())),
                digest=digest,
                evidence={"rows": len(pii_rows), "kinds": pii_counts},
            )
        )

    drift_rows: list[dict[str, Any]] = []
    if reference is not None:
        say("drift")
        ref = open_table(reference, role="reference")
        check_readable(ref)
        cols = [c for c in table.columns if c not in (ROW, id_column, source_column)]
        drift_rows = drift(table, ref, columns=cols)
        drifted = [d["column"] for d in drift_rows if d["drifted"]]
        if drifted:
            findings.append(
                rules.DRIFT.finding(
                    sub[0],
                    f"{len(drifted)} columns drifted: " + ", ".join(drifted[:10]),
                    digest=digest,
                    evidence={"columns": drifted},
                )
            )

    say("gross errors and unit mix-ups")
    gross_rows, gross_list, gross_scale = gross_errors(table, features=features, id_col=id_column)
    if gross_rows:
        findings.append(
            rules.GROSS_ERRORS.finding(
                sub[0],
                f"{len(gross_rows)} rows hold gross errors: "
                + "; ".join(f"{g['column']}={g['value']:g} ({g['cause']})" for g in gross_list[:3]),
                digest=digest,
                evidence={"rows": len(gross_rows), "worst": gross_list[:20]},
            )
        )

    say("backdoor triggers")
    cats = [c for c in texts if _categorical(table, c, n_rows)]
    trig_rows, triggers, _ = find_triggers(
        table,
        label=label,
        source=source_column,
        numeric=features,
        categorical=cats,
        id_col=id_column,
        seed=seed,
    )

    say("label issues, outliers, spectral signatures")
    frame = rc.sample
    ml = ml_checks(frame, label=label, source=source_column, features=features, seed=seed)
    ml.trigger = trig_rows
    ml.triggers = triggers
    sampled = min(n_rows, sample_cap)
    report["rows_checked"] = {
        "rows": n_rows,
        "every_row": [
            "schema",
            "missing",
            "duplicates",
            "pii",
            "gross_errors",
            "trigger_feature",
            *(["leakage"] if test_split is not None else []),
            *(["drift"] if reference is not None else []),
        ],
        "model_based": {
            "checks": ["label_issue", "spectral_signature", "outlier"],
            "rows": sampled,
            "note": "every row"
            if sampled == n_rows
            else f"seeded sample of {sampled} of {n_rows} rows (seed {seed}); "
            "per-source rates carry 95% Wilson intervals for the sample",
        },
    }

    say("scoring sources")
    full_flags: dict[str, dict[int, float]] = {
        "duplicate": {r: 1.0 for r, k in dup.flagged.items() if k == "exact"},
        "near_duplicate": {r: 0.5 for r, k in dup.flagged.items() if k == "near"},
        "leakage": leak_rows,
        "pii": {r: float(len(k)) for r, k in pii_rows.items()},
        "gross_error": gross_rows,
        "trigger_feature": trig_rows,
    }
    sample_flags: dict[str, dict[int, float]] = {
        "label_issue": ml.label_issue,
        "spectral_signature": ml.spectral,
        "outlier": ml.outlier,
    }
    sources = _score(table, source_column, ml, full_flags, records, digest, n_rows, len(missing))
    report["sources"] = sources
    total = sum(s["rows"] for s in sources) or 1
    report["risk"] = {"overall": round(sum(s["risk"] * s["rows"] for s in sources) / total, 4)}
    report["checks"] = {k: len(v) for k, v in {**sample_flags, **full_flags}.items()}
    report["flagged_rows"] = _flagged(
        table, id_column, source_column, {**sample_flags, **full_flags}
    )
    report["drift"] = drift_rows
    report["pii"] = pii_list
    report["duplicates"] = dup.pairs
    report["leakage"] = leak_pairs
    report["triggers"] = ml.triggers
    report["gross_errors"] = gross_list[:_ROW_CAP]
    report["column_scales"] = gross_scale
    report["missing"] = {c: n for c, n in missing.items() if n}
    report["schema_problems"] = problems
    report["skipped"] = ml.skipped
    findings += _source_findings(sources, ml, sub)
    findings.sort(key=lambda f: (-f.severity.rank, f.id))
    report["findings"] = [f.to_json() for f in findings]
    return report


def _categorical(table: Table, col: str, n_rows: int) -> bool:
    distinct = table.collect(table.lazy.select(_pl().col(col).n_unique())).item()
    return column_kind(table, col, int(distinct), n_rows) == "categorical"


def _score(
    table: Table,
    source_column: str | None,
    ml: MLResult,
    full_flags: dict[str, dict[int, float]],
    records: Sequence[RecordVersion],
    digest: str,
    n_rows: int,
    n_cols: int,
) -> list[dict[str, Any]]:
    pl = _pl()
    if source_column:
        src = pl.col(source_column).cast(pl.Utf8).fill_null("<none>")
        miss = pl.sum_horizontal([pl.col(c).is_null() for c in table.columns if c != ROW])
        per = table.collect(
            table.lazy.group_by(src.alias("_s")).agg(pl.len().alias("_n"), miss.sum().alias("_m"))
        )
        totals = {s: (int(n), int(m)) for s, n, m in per.iter_rows()}
        hit_rows = set().union(*full_flags.values())
        row_src: dict[int, str] = {}
        if hit_rows:
            got = table.collect(
                table.lazy.filter(
                    pl.col(ROW).is_in(pl.Series(sorted(hit_rows), dtype=pl.UInt32).implode())
                ).select(pl.col(ROW), src.alias("_s"))
            )
            row_src = {int(r): s for r, s in got.iter_rows()}
    else:
        nulls = table.collect(
            table.lazy.select(
                pl.sum_horizontal([pl.col(c).is_null() for c in table.columns if c != ROW]).sum()
            )
        )
        totals = {"all": (n_rows, int(nulls.item()))}
        row_src = {r: "all" for flags in full_flags.values() for r in flags}
    sampled: dict[str, list[int]] = {}
    for r, s in zip(ml.rows, ml.sources, strict=True):
        sampled.setdefault(s, []).append(r)
    by_name = {v.record.name: v for v in records}
    # a record of the whole file applies to every source that has no record of its own
    by_digest = [v for v in records if v.digest == digest and v.record.name not in totals]
    counts = []
    for name, (n, m) in totals.items():
        rows = sampled.get(name, [])
        k = len(rows)
        hits = {
            "label_issues": (sum(r in ml.label_issue for r in rows), k),
            "spectral": (sum(r in ml.spectral for r in rows), k),
            "outliers": (sum(r in ml.outlier for r in rows), k),
            "missing": (m, n * max(n_cols, 1)),
        }
        for comp, key in (
            ("duplicates", ("duplicate", "near_duplicate")),
            ("pii", ("pii",)),
            ("leakage", ("leakage",)),
            ("poisoning", ("trigger_feature",)),
            ("gross_errors", ("gross_error",)),
        ):
            hit = {r for kk in key for r in full_flags[kk] if row_src.get(r) == name}
            hits[comp] = (len(hit), n)
        recs = [by_name[name]] if name in by_name else by_digest
        flags = tuple(sorted({f.value for v in recs for f in v.record.flags}))
        counts.append(
            SourceCounts(
                name, n, k, hits, flags, tuple(f"{v.record.name} v{v.version}" for v in recs)
            )
        )
    return score_sources(counts)


def _flagged(
    table: Table,
    id_column: str | None,
    source_column: str | None,
    flags: dict[str, dict[int, float]],
) -> list[dict[str, Any]]:
    pl = _pl()
    by_row: dict[int, list[dict[str, Any]]] = {}
    for check, rows in flags.items():
        for r, score in rows.items():
            by_row.setdefault(r, []).append({"check": check, "score": score})
    if not by_row:
        return []
    keep = sorted(by_row, key=lambda r: (-len(by_row[r]), r))[:_ROW_CAP]
    cols = [pl.col(ROW)]
    cols.append((pl.col(id_column) if id_column else pl.col(ROW)).cast(pl.Utf8).alias("_id"))
    cols.append(
        pl.col(source_column).cast(pl.Utf8).alias("_s")
        if source_column
        else pl.lit(None, pl.Utf8).alias("_s")
    )
    got = table.collect(
        table.lazy.filter(pl.col(ROW).is_in(pl.Series(keep, dtype=pl.UInt32).implode())).select(
            cols
        )
    )
    out = [
        {"id": i, "row": int(r), "source": s, "checks": by_row[int(r)]}
        for r, i, s in got.iter_rows()
    ]
    out.sort(key=lambda x: (-len(x["checks"]), x["row"]))
    return out


def _source_findings(
    sources: list[dict[str, Any]], ml: MLResult, sub: tuple[str, str]
) -> list[Finding]:
    path, digest = sub
    out: list[Finding] = [
        rules.POISONING.finding(
            path,
            f"source {t['source']}: "
            + " and ".join(f"{c['column']} = {c['value']}" for c in t["conditions"])
            + f" gives label {t['label']} in {t['purity']:.0%} of {t['rows']} rows; a model "
            f"without those columns agrees for {t['model_agrees']:.0%}",
            digest=digest,
            evidence=t,
        )
        for t in ml.triggers
    ]
    for s in sources:
        comps = s["components"]
        li = comps.get("label_issues")
        if li and li["of"] and li["ci"][0] > 0.05:
            sev = Severity.HIGH if li["ci"][0] > 0.15 else Severity.MEDIUM
            out.append(
                rules.LABEL_ISSUES.finding(
                    path,
                    f"source {s['name']}: {li['count']} of {li['of']} sampled rows look "
                    f"mislabelled ({li['rate']:.1%}, 95% CI {li['ci'][0]:.1%}-{li['ci'][1]:.1%})",
                    digest=digest,
                    severity=sev,
                    evidence={"source": s["name"], **li},
                )
            )
        ol = comps.get("outliers")
        if ol and ol["of"] and ol["ci"][0] > 0.05:
            out.append(
                rules.OUTLIERS.finding(
                    path,
                    f"source {s['name']}: {ol['rate']:.1%} outlying rows",
                    digest=digest,
                    evidence={"source": s["name"], **ol},
                )
            )
        prov = comps["provenance"]
        if prov["flags"] or not prov["records"]:
            what = ", ".join(prov["flags"]) or "no provenance record"
            out.append(
                rules.PROVENANCE.finding(
                    path,
                    f"source {s['name']}: {what}",
                    digest=digest,
                    severity=Severity.MEDIUM if prov["flags"] else Severity.LOW,
                    evidence={"source": s["name"], **prov},
                )
            )
        if s["risk"] >= 0.3:
            out.append(
                rules.SOURCE_RISK.finding(
                    path,
                    f"source {s['name']}: risk {s['risk']:.2f} (95% CI {s['ci'][0]:.2f}-"
                    f"{s['ci'][1]:.2f}), rank {s['rank']} of {len(sources)}; "
                    + "; ".join(s["controls"][:3]),
                    digest=digest,
                    severity=Severity.HIGH if s["risk"] >= 0.5 else Severity.MEDIUM,
                    evidence={
                        "source": s["name"],
                        "risk": s["risk"],
                        "ci": s["ci"],
                        "controls": s["controls"],
                    },
                )
            )
    return out


def audit_statement(report: dict[str, Any]) -> Statement:
    """A ``data/audit:v1`` statement over the dataset digest (docs/predicates.md)."""
    ds = report["dataset"]
    predicate = {
        "risk": report["risk"],
        "sources": [
            {
                "name": s["name"],
                "risk": s["risk"],
                "ci": s["ci"],
                "rank": s["rank"],
                "rows": s["rows"],
                "components": s["components"],
            }
            for s in report["sources"]
        ],
        "checks": report["checks"],
        "drifted": [d["column"] for d in report["drift"] if d["drifted"]],
        "sample": {**report["sample"], "rows_checked": report.get("rows_checked", {})},
        "label": report["label"],
        "findings": report["findings"],
    }
    name = Path(ds["path"]).name or ds["path"]
    return Statement(
        subjects=(ArtifactRef(name=name, digest=ds["digest"]),),
        predicate_type=AUDIT_PREDICATE,
        predicate=predicate,
    )
