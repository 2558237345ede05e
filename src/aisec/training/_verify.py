"""Check the checkpoints on disk against a run's ledger.

Reports (see :mod:`aisec.training._rules`): modified, missing, unrecorded, rolled back
(a file now holding an older recorded checkpoint, or steps going backwards in the
ledger), chain breaks (a record removed, inserted or unsigned) and gaps longer than
the interval between records.
"""

from __future__ import annotations

import fnmatch
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import Any

from aisec.core.digest import digest_path
from aisec.core.errors import InputError
from aisec.core.evidence import EvidenceStore
from aisec.core.findings import Finding, Severity
from aisec.training import _rules as rules
from aisec.training._ledger import CheckpointRecord, load_records

__all__ = ["CheckpointStatus", "VerifyResult", "list_checkpoints", "verify_checkpoints"]

VERIFY_SCHEMA = "aisec.train-verify/v1"


@dataclass(frozen=True, slots=True)
class CheckpointStatus:
    """One checkpoint's verdict: ok, modified, missing, unrecorded, rolled-back."""

    path: str
    status: str
    digest: str | None
    step: int | None
    sequence: int | None

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "status": self.status,
            "digest": self.digest,
            "step": self.step,
            "sequence": self.sequence,
        }


@dataclass(frozen=True, slots=True)
class VerifyResult:
    run_id: str
    directory: str
    records: int
    checkpoints: tuple[CheckpointStatus, ...]
    findings: tuple[Finding, ...]

    def to_json(self) -> dict[str, Any]:
        from aisec.core.findings import findings_to_json

        return {
            "schema": VERIFY_SCHEMA,
            "run": self.run_id,
            "directory": self.directory,
            "records": self.records,
            "checkpoints": [c.to_json() for c in self.checkpoints],
            "findings": findings_to_json(self.findings),
        }


def list_checkpoints(directory: Path, pattern: str = "*") -> list[str]:
    """Top-level files and folders of ``directory`` matching ``pattern``; hidden ones skipped."""
    if not directory.is_dir():
        raise InputError("not a folder of checkpoints", path=directory)
    try:
        names = sorted(p.name for p in directory.iterdir())
    except OSError as exc:
        raise InputError(f"cannot list the folder: {exc.strerror}", path=directory) from exc
    return [n for n in names if not n.startswith(".") and fnmatch.fnmatch(n, pattern)]


def _relative(name: str) -> bool:
    p = PurePosixPath(name)
    return not p.is_absolute() and ".." not in p.parts


def verify_checkpoints(
    directory: Path | str,
    run_id: str,
    *,
    store: EvidenceStore,
    interval: timedelta | None = None,
    pattern: str = "*",
    allow_deleted: bool = False,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> VerifyResult:
    """Compare every checkpoint in ``directory`` with the ledger of ``run_id``."""
    root = Path(directory)
    records = load_records(store, run_id)
    if not records:
        raise InputError(
            f"no checkpoint records for run {run_id!r} in {store.url}; "
            "record some with CheckpointLedger or 'aisec train watch'"
        )
    findings = _ledger_findings(records)
    file_records = [r for r in records if r.kind != "state_dict" and _relative(r.name)]
    latest: dict[str, CheckpointRecord] = {}
    for r in file_records:
        latest[r.name] = r
    by_digest: dict[str, list[CheckpointRecord]] = {}
    for r in file_records:
        by_digest.setdefault(r.digest, []).append(r)

    on_disk = set(list_checkpoints(root, pattern))
    on_disk |= {n for n in latest if (root / n).exists()}
    statuses: list[CheckpointStatus] = []
    for name in sorted(on_disk):
        digest = digest_path(root / name).digest
        rec = latest.get(name)
        status, finding = _judge(name, digest, rec, by_digest)
        if finding is not None:
            findings.append(finding)
        statuses.append(
            CheckpointStatus(
                name, status, digest, rec.step if rec else None, rec.sequence if rec else None
            )
        )
    for name, rec in sorted(latest.items()):
        if name in on_disk:
            continue
        statuses.append(CheckpointStatus(name, "missing", rec.digest, rec.step, rec.sequence))
        findings.append(
            rules.MISSING.finding(
                name,
                f"run {run_id!r} recorded {name} at step {rec.step} (sequence {rec.sequence}, "
                f"{rec.digest}); it is no longer in {root}",
                digest=rec.digest,
                severity=Severity.INFO if allow_deleted else None,
                evidence={"step": rec.step, "sequence": rec.sequence, "log_index": rec.index},
            )
        )
    findings.extend(_gap_findings(records, interval, now()))
    return VerifyResult(run_id, str(root), len(records), tuple(statuses), tuple(findings))


def _judge(
    name: str,
    digest: str,
    rec: CheckpointRecord | None,
    by_digest: dict[str, list[CheckpointRecord]],
) -> tuple[str, Finding | None]:
    if rec is not None and digest == rec.digest:
        return "ok", None
    earlier = [r for r in by_digest.get(digest, []) if rec is None or r.sequence < rec.sequence]
    if rec is None:
        same = ", ".join(f"{r.name} (step {r.step})" for r in by_digest.get(digest, []))
        detail = "no record of this checkpoint in the run's ledger"
        if same:
            detail += f"; its content equals the recorded {same} under another name"
        return "unrecorded", rules.UNRECORDED.finding(
            name, detail, digest=digest, evidence={"matches": same or None}
        )
    if earlier:
        old = earlier[-1]
        return "rolled-back", rules.ROLLED_BACK.finding(
            name,
            f"recorded at step {rec.step} as {rec.digest}, but it now holds the older "
            f"checkpoint {old.name} of step {old.step} ({digest})",
            digest=digest,
            evidence={
                "recorded_digest": rec.digest,
                "recorded_step": rec.step,
                "now_matches": old.name,
                "now_matches_step": old.step,
            },
        )
    return "modified", rules.MODIFIED.finding(
        name,
        f"recorded at step {rec.step} (sequence {rec.sequence}) as {rec.digest}; "
        f"the file on disk is now {digest}",
        digest=digest,
        evidence={"recorded_digest": rec.digest, "step": rec.step, "log_index": rec.index},
    )


def _ledger_findings(records: Sequence[CheckpointRecord]) -> list[Finding]:
    findings: list[Finding] = []
    prev: CheckpointRecord | None = None
    for i, r in enumerate(records):
        where = f"ledger:{r.run_id}#{r.sequence}"
        if not r.signed:
            findings.append(
                rules.CHAIN.finding(
                    where,
                    f"record {r.name} (log entry #{r.index}) has no valid signature from a "
                    "key the store knows",
                    digest=r.digest,
                )
            )
        expected_prev = prev.digest if prev else None
        if r.sequence != i or r.previous != expected_prev:
            findings.append(
                rules.CHAIN.finding(
                    where,
                    f"record {r.name} has sequence {r.sequence} and previous {r.previous}; "
                    f"expected sequence {i} and previous {expected_prev}: a record was "
                    "removed or inserted",
                    digest=r.digest,
                    evidence={"log_index": r.index},
                )
            )
        if prev is not None and r.step < prev.step:
            findings.append(
                rules.ROLLED_BACK.finding(
                    where,
                    f"step went backwards in the ledger: {prev.name} at step {prev.step}, "
                    f"then {r.name} at step {r.step}",
                    digest=r.digest,
                    evidence={"previous_step": prev.step, "step": r.step},
                )
            )
        if prev is not None and prev.final:
            findings.append(
                rules.CHAIN.finding(
                    where,
                    f"record {r.name} was added after the run was finished by {prev.name}",
                    digest=r.digest,
                )
            )
        prev = r
    return findings


def _gap_findings(
    records: Sequence[CheckpointRecord], interval: timedelta | None, now: datetime
) -> list[Finding]:
    if interval is None:
        stored = [r.interval_seconds for r in records if r.interval_seconds]
        interval = timedelta(seconds=stored[-1]) if stored else None
    if interval is None:
        return []
    findings = []
    times = [(r.name, r.time) for r in records]
    if not records[-1].final:
        times.append(("now (run not finished)", now))
    for (a_name, a), (b_name, b) in itertools.pairwise(times):
        if b - a > interval:
            findings.append(
                rules.GAP.finding(
                    f"ledger:{records[0].run_id}",
                    f"{b - a} between {a_name} ({a:%Y-%m-%d %H:%M:%S}Z) and {b_name} "
                    f"({b:%Y-%m-%d %H:%M:%S}Z); the interval is {interval}",
                    evidence={"from": a_name, "to": b_name, "seconds": (b - a).total_seconds()},
                )
            )
    return findings
