"""What the dashboard shows per model and per finding: the dossier, the model list, the
findings with their triage state, filters and trends. Computed from the evidence alone."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aisec.core.errors import FormatError
from aisec.core.evidence import EvidenceStore
from aisec.core.evidence.chain import Chain, walk_chain
from aisec.core.evidence.triage import Triage, triage_states
from aisec.core.findings import Finding, Severity
from aisec.core.predicates.deployment import GatePredicate, SignaturePredicate
from aisec.core.predicates.evaluation import RedteamPredicate
from aisec.core.predicates.inference import AlertPredicate
from aisec.core.predicates.monitoring import InventoryPredicate
from aisec.dashboard.views import time_buckets

__all__ = [
    "STATUSES",
    "Dossier",
    "FindingRow",
    "ModelRow",
    "build_dossier",
    "finding_rows",
    "findings_trend",
    "model_rows",
]

STATUSES = ("all", "open", "triaged")


@dataclass(frozen=True)
class FindingRow:
    """The newest report of one finding (by fingerprint) and its triage state."""

    index: int
    finding: Finding
    triage: Triage | None

    @property
    def open(self) -> bool:
        return self.triage is None or not self.triage.active()

    @property
    def status(self) -> str:
        return "open" if self.triage is None else self.triage.label()

    def to_json(self) -> dict[str, Any]:
        return {
            "entry": self.index,
            "fingerprint": self.finding.fingerprint,
            **self.finding.to_json(),
            "status": self.status,
            "open": self.open,
            "triage": self.triage.to_json() if self.triage else None,
        }


def finding_rows(
    store: EvidenceStore,
    *,
    stage: str | None = None,
    severity: str | None = None,
    status: str = "all",
    entries: set[int] | None = None,
    query: str | None = None,
) -> list[FindingRow]:
    """Findings, newest report per fingerprint, most severe first, filtered.

    ``entries`` keeps findings reported by those log entries (a model's chain); ``query``
    matches the id, title, detail or subject path (case-insensitive).
    """
    states = triage_states(store)
    newest: dict[str, tuple[int, Finding]] = {}
    for idx, f in store.findings(stage=stage):
        if entries is None or idx in entries:
            newest[f.fingerprint] = (idx, f)
    rows = [FindingRow(i, f, states.get(fp)) for fp, (i, f) in newest.items()]
    if severity:
        floor = Severity(severity).rank
        rows = [r for r in rows if r.finding.severity.rank >= floor]
    if status == "open":
        rows = [r for r in rows if r.open]
    elif status == "triaged":
        rows = [r for r in rows if not r.open]
    if query:
        q = query.lower()
        rows = [r for r in rows if q in _haystack(r.finding)]
    return sorted(rows, key=lambda r: (-r.finding.severity.rank, r.finding.id, r.index))


def _haystack(f: Finding) -> str:
    return f"{f.id} {f.title} {f.detail} {f.subject.path}".lower()


def findings_trend(store: EvidenceStore) -> tuple[list[tuple[str, int]], str]:
    """New findings over time (each fingerprint counted when first reported)."""
    first: dict[str, int] = {}
    for idx, f in store.findings():
        first.setdefault(f.fingerprint, idx)
    if not first:
        return [], "day"
    when = {e.index: e.created_at for e in store.entries()}
    times = [datetime.fromisoformat(when[i].replace("Z", "+00:00")) for i in first.values()]
    return time_buckets(times)


# ----------------------------------------------------------------------------- models
@dataclass(frozen=True)
class ModelRow:
    digest: str
    name: str
    decision: str | None  # the newest gate decision about it
    signed: bool
    redteamed: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "digest": self.digest,
            "name": self.name,
            "decision": self.decision,
            "signed": self.signed,
            "redteamed": self.redteamed,
        }


def model_rows(store: EvidenceStore) -> list[ModelRow]:
    """Every model (folder) the evidence judged: gated, signed or red-teamed."""
    found: dict[str, dict[str, Any]] = {}

    def note(digest: str, name: str, **fields: Any) -> None:
        row = found.setdefault(
            digest,
            {"name": name, "decision": None, "signed": False, "redteamed": False},
        )
        row.update(fields)

    for model, key in ((GatePredicate, "decision"), (SignaturePredicate, "signed")):
        for entry in store.entries(predicate_type=model.predicate_type()):
            try:
                p = model.from_statement(entry.statement)
            except FormatError:
                continue
            subject = p.subjects[0]
            value = p.decision.value if isinstance(p, GatePredicate) else p.valid
            note(subject.digest, subject.name, **{key: value})
    for entry in store.entries(predicate_type=RedteamPredicate.predicate_type()):
        try:
            rt = RedteamPredicate.from_statement(entry.statement)
        except FormatError:
            continue
        name = next((x.name for x in rt.subjects if x.digest == rt.model_digest), "model")
        note(rt.model_digest, found.get(rt.model_digest, {}).get("name", name), redteamed=True)
    return sorted(
        (ModelRow(d, **row) for d, row in found.items()), key=lambda r: (r.name, r.digest)
    )


# ----------------------------------------------------------------------------- dossier
@dataclass(frozen=True)
class Dossier:
    """One model's page: its chain, findings, gate decisions, alerts and inventory entry."""

    chain: Chain
    findings: tuple[FindingRow, ...]
    gates: tuple[tuple[int, GatePredicate], ...]
    alerts: tuple[dict[str, Any], ...]
    systems: tuple[dict[str, Any], ...]

    @property
    def name(self) -> str:
        return self.chain.names.get(self.chain.root, self.chain.root[:19])

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": "aisec.dashboard.dossier/v1",
            "name": self.name,
            "chain": self.chain.to_json(),
            "findings": [r.to_json() for r in self.findings],
            "gate_decisions": [
                {"entry": i, "decision": g.decision.value, "result": g.result.value}
                for i, g in self.gates
            ],
            "alerts": list(self.alerts),
            "systems": list(self.systems),
        }


def build_dossier(store: EvidenceStore, digest: str, *, status: str = "all") -> Dossier:
    chain = walk_chain(store, [digest])
    indices = {x.index for x in chain.links}
    gates: list[tuple[int, GatePredicate]] = []
    alerts: list[dict[str, Any]] = []
    systems: list[dict[str, Any]] = []
    for link in chain.links:
        entry = store.get(link.index)
        try:
            if link.control == "deployment/gate":
                gates.append((link.index, GatePredicate.from_statement(entry.statement)))
            elif link.control == "inference/alert":
                alerts += [dict(a) for a in AlertPredicate.from_statement(entry.statement).alerts]
            elif link.control == "monitoring/inventory":
                inv = InventoryPredicate.from_statement(entry.statement)
                for system in inv.systems:
                    row = system.model_dump(mode="json")
                    # only the system that names this model by digest
                    if any(d in json.dumps(row) for d in chain.identity):
                        systems.append(row)
        except FormatError:
            continue
    return Dossier(
        chain=chain,
        findings=tuple(finding_rows(store, entries=indices, status=status)),
        gates=tuple(gates),
        alerts=tuple(alerts[-50:]),
        systems=tuple(systems),
    )
