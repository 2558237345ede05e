"""What the dashboard shows, computed from the catalog and the evidence store alone.

Every figure on a page comes from here, so the HTML pages and the JSON API agree.
Predicates are read defensively: evidence is signed, but a field a stage did not write
is shown as missing, never guessed.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aisec.core.evidence import EvidenceStore, LogEntry
from aisec.core.findings import Finding, Severity
from aisec.core.frameworks import Catalog, Control, Stage

__all__ = [
    "ArtifactChain",
    "ControlStatus",
    "CoverageRow",
    "StageView",
    "alerts_over_time",
    "artifact_chain",
    "framework_coverage",
    "lifecycle",
    "redteam_intervals",
    "source_risks",
]

_DIGEST_KEYS = ("digest", "model_digest", "system_prompt_digest", "previous", "dataset_digest")
_MAX_CHAIN = 200


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


def _result(entry: LogEntry) -> str:
    """A one-word reading of a control's latest entry, from the fields stages agree on."""
    try:
        pred = entry.statement.predicate
    except Exception:  # a damaged entry: verification names it; here it is just unreadable
        return "unreadable"
    for key in ("verdict", "decision"):
        value = pred.get(key)
        if isinstance(value, str):
            return value
    if isinstance(pred.get("valid"), bool):
        return "valid" if pred["valid"] else "invalid"
    findings = pred.get("findings")
    if isinstance(findings, list):
        return (
            f"{len(findings)} finding{'s' if len(findings) != 1 else ''}" if findings else "clean"
        )
    return "recorded"


def lifecycle(store: EvidenceStore, catalog: Catalog) -> list[StageView]:
    """The six stages with the status of each control and the open findings."""
    entries = store.entries()
    by_predicate: dict[str, list[LogEntry]] = {}
    for e in entries:
        by_predicate.setdefault(e.predicate_type, []).append(e)
    findings = store.findings()
    roles = {r.id: r.name for r in catalog.roles}
    views = []
    for stage in catalog.stages:
        statuses = []
        for control in stage.controls:
            mine = by_predicate.get(control.predicate_type, [])
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


# ------------------------------------------------------------------- chains
@dataclass(frozen=True)
class ArtifactChain:
    """Every entry about an artifact and about the artifacts it was made from or tested with."""

    digest: str
    entries: tuple[LogEntry, ...]
    stages_with_evidence: tuple[str, ...]
    gaps: tuple[str, ...]
    truncated: bool = False
    names: Mapping[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "digest": self.digest,
            "names": dict(self.names),
            "entries": [
                {
                    "index": e.index,
                    "stage": e.stage,
                    "predicate_type": e.predicate_type,
                    "created_at": e.created_at,
                    "subjects": [
                        {"name": s.name, "digest": s.digest} for s in e.statement.subjects
                    ],
                }
                for e in self.entries
            ],
            "stages_with_evidence": list(self.stages_with_evidence),
            "gaps": list(self.gaps),
            "truncated": self.truncated,
        }


def _digests_in(value: Any, depth: int = 0) -> Iterable[str]:
    """sha256 digests a predicate points to (lineage fields), bounded in depth."""
    if depth > 6:
        return
    if isinstance(value, Mapping):
        for k, v in value.items():
            if k in _DIGEST_KEYS and isinstance(v, str) and v.startswith("sha256:"):
                yield v
            elif k == "derived_from" and isinstance(v, list):
                yield from (d for d in v if isinstance(d, str) and d.startswith("sha256:"))
            elif k == "source" or isinstance(v, Mapping | list):
                yield from _digests_in(v, depth + 1)
    elif isinstance(value, list):
        for item in value[:1000]:
            yield from _digests_in(item, depth + 1)


def artifact_chain(store: EvidenceStore, catalog: Catalog, digest: str) -> ArtifactChain:
    """Walk the evidence from one digest through the lineage its predicates record."""
    seen_digests = {digest}
    queue = deque([digest])
    found: dict[int, LogEntry] = {}
    names: dict[str, str] = {}
    truncated = False
    while queue:
        d = queue.popleft()
        for e in store.entries(subject_digest=d):
            if e.index in found:
                continue
            if len(found) >= _MAX_CHAIN:
                truncated = True
                break
            found[e.index] = e
            st = e.statement
            for s in st.subjects:
                names.setdefault(s.digest, s.name)
            for ref in _digests_in(st.predicate):
                if ref not in seen_digests:
                    seen_digests.add(ref)
                    queue.append(ref)
    entries = tuple(sorted(found.values(), key=lambda e: e.index))
    order = [s.id for s in catalog.stages]
    have = tuple(s for s in order if any(e.stage == s for e in entries))
    gaps = tuple(
        f"no {s.name.lower()} evidence ({', '.join(c.id for c in s.controls)})"
        for s in catalog.stages
        if s.id not in have
    )
    return ArtifactChain(digest, entries, have, gaps, truncated, names)


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
def _latest(store: EvidenceStore, predicate_type: str) -> LogEntry | None:
    entries = store.entries(predicate_type=predicate_type)
    return entries[-1] if entries else None


def _interval(value: Any) -> tuple[float, float] | None:
    if isinstance(value, list | tuple) and len(value) == 2:
        try:
            lo, hi = float(value[0]), float(value[1])
        except (TypeError, ValueError):
            return None
        if 0.0 <= lo <= hi <= 1.0:
            return lo, hi
    return None


def redteam_intervals(store: EvidenceStore) -> list[dict[str, Any]]:
    """Attack success rate with its interval per category, from the latest red-team run."""
    entry = _latest(store, "urn:aisec:predicate:evaluation/redteam:v1")
    if entry is None:
        return []
    cats = entry.statement.predicate.get("categories")
    rows = []
    if isinstance(cats, Mapping):
        for name, c in cats.items():
            if not isinstance(c, Mapping):
                continue
            ci = _interval(c.get("ci"))
            rate = c.get("rate")
            if ci is None or not isinstance(rate, int | float):
                continue
            rows.append(
                {
                    "label": str(name),
                    "value": float(rate),
                    "low": ci[0],
                    "high": ci[1],
                    "note": f"{c.get('successes', '?')}/{c.get('attempts', '?')}",
                }
            )
    return rows


def source_risks(store: EvidenceStore) -> list[dict[str, Any]]:
    """Risk per data source with its interval, from the latest data audit."""
    entry = _latest(store, "urn:aisec:predicate:data/audit:v1")
    if entry is None:
        return []
    sources = entry.statement.predicate.get("sources")
    rows = []
    for s in sources if isinstance(sources, list) else []:
        if not isinstance(s, Mapping) or not isinstance(s.get("risk"), int | float):
            continue
        ci = _interval(s.get("ci")) or (float(s["risk"]), float(s["risk"]))
        rows.append(
            {
                "label": str(s.get("name", "?")),
                "value": float(s["risk"]),
                "low": ci[0],
                "high": ci[1],
                "note": "",
            }
        )
    return rows


def alerts_over_time(store: EvidenceStore) -> list[tuple[str, int]]:
    """Gateway alerts per hour (UTC), oldest first."""
    counts: Counter[str] = Counter()
    for e in store.entries(predicate_type="urn:aisec:predicate:inference/alert:v1"):
        counts[e.created_at[:13]] += 1
    return sorted(counts.items())


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
    discoveries = [
        e
        for e in store.entries(predicate_type="urn:aisec:predicate:monitoring/inventory:v1")
        if isinstance(e.statement.predicate.get("systems"), list)
    ]
    if not discoveries:
        return []
    by_name: dict[str, list[LogEntry]] = {}
    for e in store.entries():
        if e.stage == "monitoring":
            continue
        for s in e.statement.subjects:
            label = s.name.split(":", 1)[-1].rsplit("/", 1)[-1].lower()
            by_name.setdefault(label, []).append(e)
    rows = []
    for raw in discoveries[-1].statement.predicate["systems"]:
        if not isinstance(raw, Mapping):
            continue
        name = str(raw.get("name", "?"))
        keys = {name.lower(), str(raw.get("registry_id") or "").split(":", 1)[-1].lower()}
        linked = sorted(
            {e.index: e for k in keys if k for e in by_name.get(k, [])}.values(),
            key=lambda e: e.index,
        )
        rows.append(
            SystemRow(
                id=str(raw.get("id", name)),
                name=name,
                kind=str(raw.get("kind", "?")),
                registered=bool(raw.get("registered")),
                owner=str(raw["owner"]) if raw.get("owner") else None,
                provider=str(raw["provider"]) if raw.get("provider") else None,
                evidence=tuple(e.index for e in linked),
                stages=tuple(dict.fromkeys(e.stage for e in linked)),
            )
        )
    return sorted(rows, key=lambda r: (r.registered, r.name.lower()))
