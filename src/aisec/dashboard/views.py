"""What the dashboard shows, computed from the catalog and the evidence store alone.

Every figure on a page comes from here, so the HTML pages and the JSON API agree.
Predicates are read defensively: evidence is signed, but a field a stage did not write
is shown as missing, never guessed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from aisec.core.controls import Control
from aisec.core.errors import FormatError
from aisec.core.evidence import EvidenceStore, LogEntry
from aisec.core.findings import Finding, Severity
from aisec.core.frameworks import Catalog, Stage
from aisec.core.predicates import Predicate, model_for, result_of
from aisec.core.predicates.data import AuditPredicate
from aisec.core.predicates.evaluation import RedteamPredicate
from aisec.core.predicates.inference import AlertPredicate
from aisec.core.predicates.monitoring import InventoryPredicate
from aisec.registry import controls_for_stage

__all__ = [
    "ControlStatus",
    "CoverageRow",
    "StageView",
    "alerts_over_time",
    "framework_coverage",
    "lifecycle",
    "open_findings",
    "redteam_intervals",
    "source_risks",
]

P = TypeVar("P", bound=Predicate)


@dataclass(frozen=True)
class ControlStatus:
    control: Control
    runs: int
    last_at: str | None
    last_index: int | None
    result: str

    @property
    def ran(self) -> bool:
        return self.runs > 0

    def to_json(self) -> dict[str, Any]:
        return {
            "control": self.control.id,
            "name": self.control.name,
            "command": self.control.command,
            "predicate_type": self.control.predicate_type,
            "runs": self.runs,
            "last_at": self.last_at,
            "last_index": self.last_index,
            "result": self.result,
        }


@dataclass(frozen=True)
class StageView:
    stage: Stage
    controls: tuple[ControlStatus, ...]
    findings: tuple[tuple[int, Finding], ...]
    primary: tuple[str, ...]
    secondary: tuple[str, ...]

    @property
    def severity_counts(self) -> dict[str, int]:
        counts = Counter(f.severity.value for _, f in self.findings)
        return {s.value: counts.get(s.value, 0) for s in reversed(Severity)}

    @property
    def controls_ran(self) -> int:
        return sum(1 for c in self.controls if c.ran)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.stage.id,
            "number": self.stage.number,
            "name": self.stage.name,
            "question": self.stage.question,
            "threats": list(self.stage.threats),
            "controls": [c.to_json() for c in self.controls],
            "findings": [{"index": i, **f.to_json()} for i, f in self.findings],
            "severity_counts": self.severity_counts,
            "roles": {"primary": list(self.primary), "secondary": list(self.secondary)},
        }


def typed(entry: LogEntry) -> Predicate | None:
    """The entry's typed predicate; None for another tool's predicate or an unreadable one."""
    model = model_for(entry.predicate_type)
    if model is None:
        return None
    try:
        return model.from_statement(entry.statement)
    except FormatError:
        return None


def _result(entry: LogEntry) -> str:
    """The result the control recorded (pass, fail, unverified, inconclusive, recorded)."""
    try:
        result = result_of(entry)
    except FormatError:
        return "unreadable"  # a damaged entry: verification names it
    return result.value if result is not None else "recorded"


def open_findings(store: EvidenceStore) -> list[tuple[int, Finding]]:
    """The newest report of each finding that no active triage decision covers."""
    from aisec.core.evidence.triage import triage_states

    active = {fp for fp, t in triage_states(store).items() if t.active()}
    newest: dict[str, tuple[int, Finding]] = {}
    for idx, f in store.findings():
        newest[f.fingerprint] = (idx, f)
    return sorted(
        (r for fp, r in newest.items() if fp not in active),
        key=lambda r: (-r[1].severity.rank, r[1].id, r[0]),
    )


def lifecycle(store: EvidenceStore, catalog: Catalog) -> list[StageView]:
    """The six stages with the status of each control and the open findings."""
    entries = store.entries()
    by_predicate: dict[str, list[LogEntry]] = {}
    for e in entries:
        by_predicate.setdefault(e.predicate_type, []).append(e)
    findings = open_findings(store)
    roles = {r.id: r.name for r in catalog.roles}
    views = []
    for stage in catalog.stages:
        statuses = []
        for control in controls_for_stage(stage.id):
            mine = sorted(
                (e for t in control.predicate_types for e in by_predicate.get(t, [])),
                key=lambda e: e.index,
            )
            last = mine[-1] if mine else None
            statuses.append(
                ControlStatus(
                    control=control,
                    runs=len(mine),
                    last_at=last.created_at if last else None,
                    last_index=last.index if last else None,
                    result=_result(last) if last else "not run",
                )
            )
        views.append(
            StageView(
                stage=stage,
                controls=tuple(statuses),
                findings=tuple((i, f) for i, f in findings if f.stage == stage.id),
                primary=tuple(roles.get(r, r) for r in stage.primary_roles),
                secondary=tuple(roles.get(r, r) for r in stage.secondary_roles),
            )
        )
    return views


# ------------------------------------------------------------------- coverage
@dataclass(frozen=True)
class CoverageRow:
    id: str
    name: str
    state: str  # "evidence" | "finding" | "no evidence"
    stages: tuple[str, ...]
    controls_ran: tuple[str, ...]
    findings: int

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "state": self.state,
            "stages": list(self.stages),
            "controls_ran": list(self.controls_ran),
            "findings": self.findings,
        }


_FINDING_FIELD = {"atlas": "atlas", "owasp-llm-2025": "owasp_llm", "saif": "saif"}
_STAGE_FIELD = {
    "atlas": "atlas",
    "owasp-llm-2025": "owasp",
    "saif": "saif",
    "nist-ai-rmf": "nist",
    "iso-42001": "iso",
}


def framework_coverage(
    views: list[StageView], catalog: Catalog, framework: str
) -> list[CoverageRow]:
    """Which entries of a framework the evidence addresses.

    An entry is addressed when a stage that lists it has at least one control with evidence;
    an open finding mapped to it marks it as a known problem.
    """
    catalog.framework(framework)  # raises CatalogError for an unknown key
    stage_field = _STAGE_FIELD.get(framework)
    finding_field = _FINDING_FIELD.get(framework)
    finding_counts: Counter[str] = Counter()
    for v in views:
        for _, f in v.findings:
            mapped = f.mappings.nist_ai_rmf
            if finding_field:
                mapped = getattr(f.mappings, finding_field, ())
            finding_counts.update(mapped)
    ids: dict[str, list[StageView]] = {}
    if stage_field:
        for v in views:
            for entry_id in getattr(v.stage, stage_field):
                ids.setdefault(entry_id, []).append(v)
    for entry_id in finding_counts:
        ids.setdefault(entry_id, [])
    rows = []
    for entry_id, stage_views in ids.items():
        entry = catalog.get(entry_id)
        ran = tuple(c.control.id for v in stage_views for c in v.controls if c.ran)
        count = finding_counts.get(entry_id, 0)
        state = "finding" if count else "evidence" if ran else "no evidence"
        rows.append(
            CoverageRow(
                id=entry_id,
                name=entry.name if entry else entry_id,
                state=state,
                stages=tuple(v.stage.id for v in stage_views),
                controls_ran=ran,
                findings=count,
            )
        )
    return sorted(rows, key=lambda r: r.id)


# ------------------------------------------------------------------- chart data
def _latest(store: EvidenceStore, model: type[P]) -> P | None:
    """The newest readable predicate of ``model``'s type (any version it reads)."""
    found = {
        e.index: e
        for t in (model.predicate_type(), *model.legacy_types())
        for e in store.entries(predicate_type=t)
    }
    for index in sorted(found, reverse=True):
        try:
            return model.from_statement(found[index].statement)
        except FormatError:
            continue  # an unreadable entry: verification names it
    return None


def redteam_intervals(store: EvidenceStore) -> list[dict[str, Any]]:
    """Attack success rate with its interval per category, from the latest red-team run."""
    run = _latest(store, RedteamPredicate)
    if run is None:
        return []
    return [
        {
            "label": name,
            "value": c.rate,
            "low": c.ci[0],
            "high": c.ci[1],
            "note": f"{c.successes}/{c.attempts}",
        }
        for name, c in run.categories.items()
    ]


def source_risks(store: EvidenceStore) -> list[dict[str, Any]]:
    """Risk per data source with its interval, from the latest data audit."""
    audit = _latest(store, AuditPredicate)
    if audit is None:
        return []
    # riskiest first: a long list of sources must never hide the ones that matter
    ranked = sorted(audit.sources, key=lambda s: (-s.risk, s.name))
    return [
        {
            "label": s.name,
            "value": s.risk,
            "low": s.ci[0],
            "high": s.ci[1],
            "note": f"rank {s.rank}",
        }
        for s in ranked
    ]


def alerts_over_time(store: EvidenceStore) -> tuple[list[tuple[str, int]], str]:
    """Gateway alerts over time (UTC), oldest first, in buckets that fit the span: minutes
    for a short run, hours for a day, days beyond; every bucket in the span is present."""
    times = []
    for t in (AlertPredicate.predicate_type(), *AlertPredicate.legacy_types()):
        for e in store.entries(predicate_type=t):
            try:
                predicate = AlertPredicate.from_statement(e.statement)
            except FormatError:
                continue
            n = max(1, len(predicate.alerts))
            stamp = datetime.fromisoformat(e.created_at.replace("Z", "+00:00"))
            times += [stamp] * n
    return time_buckets(times)


def time_buckets(times: Sequence[datetime]) -> tuple[list[tuple[str, int]], str]:
    """Counts of ``times`` per bucket, with the bucket's unit ("minute", "hour", "day")."""
    if not times:
        return [], "hour"
    lo, hi = min(times), max(times)
    span = hi - lo
    if span <= timedelta(hours=3):
        step, unit, fmt = timedelta(minutes=5), "5 minutes", "%H:%M"
        start = lo.replace(minute=lo.minute - lo.minute % 5, second=0, microsecond=0)
    elif span <= timedelta(days=3):
        step, unit, fmt = timedelta(hours=1), "hour", "%m-%d %H:00"
        start = lo.replace(minute=0, second=0, microsecond=0)
    else:
        step, unit, fmt = timedelta(days=1), "day", "%Y-%m-%d"
        start = lo.replace(hour=0, minute=0, second=0, microsecond=0)
    counts = Counter(int((t - start) / step) for t in times)
    buckets = [
        ((start + i * step).strftime(fmt), counts.get(i, 0))
        for i in range(int((hi - start) / step) + 1)
    ]
    return buckets, unit


# ------------------------------------------------------------------- AI systems
@dataclass(frozen=True)
class SystemRow:
    """An AI system from the newest inventory, with the evidence that names it."""

    id: str
    name: str
    kind: str
    registered: bool
    owner: str | None
    provider: str | None
    evidence: tuple[int, ...]
    stages: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "kind": self.kind,
            "registered": self.registered,
            "shadow": not self.registered,
            "owner": self.owner,
            "provider": self.provider,
            "evidence": list(self.evidence),
            "stages": list(self.stages),
        }


def systems(store: EvidenceStore) -> list[SystemRow]:
    """The systems of the newest discovery; evidence is linked by system or model name."""
    inventory = _latest(store, InventoryPredicate)
    if inventory is None:
        return []
    by_name: dict[str, list[LogEntry]] = {}
    for e in store.entries():
        if e.stage == "monitoring":
            continue
        for s in e.statement.subjects:
            label = s.name.split(":", 1)[-1].rsplit("/", 1)[-1].lower()
            by_name.setdefault(label, []).append(e)
    rows = []
    for system in inventory.systems:
        name = system.name
        keys = {name.lower(), (system.registry_id or "").split(":", 1)[-1].lower()}
        linked = sorted(
            {e.index: e for k in keys if k for e in by_name.get(k, [])}.values(),
            key=lambda e: e.index,
        )
        rows.append(
            SystemRow(
                id=system.id,
                name=name,
                kind=system.kind,
                registered=system.registered,
                owner=system.owner,
                provider=system.provider,
                evidence=tuple(e.index for e in linked),
                stages=tuple(dict.fromkeys(e.stage for e in linked)),
            )
        )
    return sorted(rows, key=lambda r: (r.registered, r.name.lower()))
