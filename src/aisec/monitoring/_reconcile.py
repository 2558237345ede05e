"""Reconciliation: observations → systems, systems ↔ registry entries, shadow AI findings.

Matching a discovered system to a registry entry (the first rule that holds wins):

1. **endpoint** - the entry's ``endpoint`` (a host, a URL, a resource or model id, or a
   catalogue service id), lower-cased and stripped of scheme and path, equals one of the
   system's identifiers (hosts seen, resource names, model ids) or its service id;
2. **name** - the entry's name and one of the system's names or identifiers, both reduced
   to lower-case letters and digits, have a :class:`difflib.SequenceMatcher` ratio of at
   least 0.85 (stdlib; the strings are short, so a C matcher would buy nothing here).

When several entries qualify, the higher score wins and an entry whose ``owner`` is among
the system's owner candidates breaks ties. Several systems may match one entry (the same
model seen under two names); they become one system.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any

from aisec.core.findings import Finding, Subject
from aisec.monitoring._model import Observation, RegistryEntry
from aisec.monitoring._rules import NO_OWNER, SHADOW_RULE, SHADOW_SELF_HOSTED, make_finding

__all__ = ["NAME_THRESHOLD", "System", "reconcile"]

NAME_THRESHOLD = 0.85
_MAX_EVIDENCE = 50


@dataclass
class System:
    """One AI system of the inventory, with all the evidence that points at it."""

    key: str
    name: str
    kind: str
    provider: str
    observations: list[Observation] = field(default_factory=list)
    registry: RegistryEntry | None = None
    match: dict[str, Any] | None = None

    @property
    def id(self) -> str:
        basis = self.registry.id if self.registry else self.key
        return "sys-" + hashlib.sha256(basis.encode()).hexdigest()[:12]

    def identifiers(self) -> set[str]:
        out = {self.key.lower(), self.provider.lower(), self.name.lower()}
        for o in self.observations:
            out.update(i.lower() for i in o.identifiers if i)
        return out

    def owner_candidates(self) -> list[str]:
        votes: Counter[str] = Counter()
        for o in self.observations:
            if o.owner:
                votes[o.owner] += 1000  # a named owner (tag, SaaS owner, git author) first
            if o.cost_centre:
                votes[f"cost-centre:{o.cost_centre}"] += 100
            if o.user:
                votes[f"user:{o.user}"] += o.count
        return [c for c, _ in votes.most_common(5)]

    def to_json(self) -> dict[str, Any]:
        obs = self.observations
        seen = sorted(t for o in obs for t in (o.first_seen, o.last_seen) if t)
        owner = self.registry.owner if self.registry and self.registry.owner else None
        candidates = self.owner_candidates()
        centres = Counter(o.cost_centre for o in obs if o.cost_centre)
        return {
            "id": self.id,
            "name": self.registry.name if self.registry else self.name,
            "kind": self.kind,
            "registered": self.registry is not None,
            "registry_id": self.registry.id if self.registry else None,
            "description": self.registry.description if self.registry else None,
            "provider": self.provider,
            "owner": owner,
            "team": centres.most_common(1)[0][0] if centres else None,
            "owner_candidates": candidates,
            "first_seen": seen[0] if seen else None,
            "last_seen": seen[-1] if seen else None,
            "sources": sorted({o.source for o in obs}),
            "calls": sum(o.count for o in obs if o.source == "network"),
            "cost": round(sum(o.cost for o in obs), 2),
            "users": sorted({o.user for o in obs if o.user})[:20],
            "hosts": sorted({o.host for o in obs if o.host})[:20],
            "cost_centres": sorted(centres),
            "match": self.match,
            "evidence": [o.to_json() for o in obs[:_MAX_EVIDENCE]],
            "evidence_total": len(obs),
        }


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _endpoint(text: str) -> str:
    t = re.sub(r"^[a-z][a-z0-9+.-]*://", "", text.strip().lower())
    return t.split("/", 1)[0] if "://" in text else t


def _score(entry: RegistryEntry, system: System) -> tuple[float, str] | None:
    idents = system.identifiers()
    if entry.endpoint:
        ep = _endpoint(entry.endpoint)
        if ep in idents or entry.endpoint.strip().lower() in idents:
            return 1.0, "endpoint"
    target = _norm(entry.name)
    if not target:
        return None
    best = max(
        (SequenceMatcher(None, target, _norm(i)).ratio() for i in idents if _norm(i)), default=0.0
    )
    if best >= NAME_THRESHOLD:
        return best, "name"
    return None


def _group(observations: Iterable[Observation]) -> dict[str, System]:
    systems: dict[str, System] = {}
    for o in observations:
        s = systems.get(o.key)
        if s is None:
            s = systems[o.key] = System(key=o.key, name=o.name, kind=o.kind, provider=o.provider)
        s.observations.append(o)
    return systems


def reconcile(
    observations: Iterable[Observation], registry: Iterable[RegistryEntry]
) -> tuple[list[System], list[Finding]]:
    """The inventory (registered systems first, then shadow AI) and its findings."""
    found = _group(observations)
    entries = list(registry)
    by_entry: dict[str, System] = {}
    shadow: list[System] = []
    for s in found.values():
        best: tuple[float, int, str, RegistryEntry] | None = None
        owners = {c.lower() for c in s.owner_candidates()}
        for e in entries:
            hit = _score(e, s)
            if hit is None:
                continue
            bonus = int(bool(e.owner and e.owner.lower() in owners))
            cand = (hit[0], bonus, hit[1], e)
            if best is None or cand[:2] > best[:2]:
                best = cand
        if best is None:
            shadow.append(s)
            continue
        entry = best[3]
        merged = by_entry.get(entry.id)
        match = {"method": best[2], "score": round(best[0], 3), "via": s.key}
        if merged is None:
            s.registry, s.match = entry, match
            by_entry[entry.id] = s
        else:
            merged.observations += s.observations
            merged.match = {
                **(merged.match or {}),
                "also": [*(merged.match or {}).get("also", []), s.key],
            }
    systems: list[System] = []
    for e in entries:
        s = by_entry.get(e.id) or System(
            key=e.id, name=e.name, kind="registered-internal", provider="internal", registry=e
        )
        systems.append(s)
    systems += sorted(shadow, key=lambda s: (s.kind, s.name.lower()))
    return systems, _findings(systems)


def _findings(systems: list[System]) -> list[Finding]:
    out = []
    for s in systems:
        data = s.to_json()
        subject = Subject(path=f"inventory:{data['id']}")
        evidence = {
            "system": data["id"],
            "name": data["name"],
            "kind": s.kind,
            "sources": data["sources"],
            "owner_candidates": data["owner_candidates"],
            "first_seen": data["first_seen"],
            "last_seen": data["last_seen"],
        }
        if s.registry is None:
            detail = (
                f"{data['name']} ({s.kind}) seen in {', '.join(data['sources'])}: "
                f"{len(s.observations)} evidence rows, {data['calls']} calls, "
                f"cost {data['cost']}; owner candidates: "
                f"{', '.join(data['owner_candidates'][:3]) or 'none'}"
            )
            out.append(
                make_finding(SHADOW_RULE.get(s.kind, SHADOW_SELF_HOSTED), subject, detail, evidence)
            )
        elif not s.registry.owner:
            detail = f"registry entry {s.registry.id} has no owner"
            out.append(make_finding(NO_OWNER, subject, detail, evidence))
    return out
