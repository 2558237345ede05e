"""The chain of evidence of one artifact: every attestation about it, what it was made from,
and what consumed it, stage by stage, with the gaps.

The walk follows only digests, never names:

* the artifact's *identity*: its digest, and across a ``model-file`` edge the bundle (model
  folder) a file belongs to and the files of a bundle ("a file inside a signed bundle
  resolves to the bundle and back");
* **about**: entries whose subjects include an identity digest (scans, red-team runs,
  signatures, gate decisions of this model);
* **upstream**: for those entries, the producers of what they read: entries whose subjects
  are the digests in their ``inputs`` (the conversion's source, the training record's data
  set, that data set's audit, the audit's provenance records), recursively;
* **downstream**: entries that read the identity (``inputs``): a gateway configuration that
  serves the model, an inventory that lists it, then what is about those (the gateway's
  alerts), recursively.

A *gap* is a broken chain, not a bad result: a stage with no evidence, evidence signed by a key
the caller does not trust, evidence older than the caller allows, an entry that cannot be read,
or a link that points at a digest nothing in the log is about (a training record naming a data
set that was never audited or registered). Results (pass, fail, unverified, ...) are shown per
link; the deploy gate judges them.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from aisec.core.controls import ControlResult
from aisec.core.errors import FormatError

if TYPE_CHECKING:
    from aisec.core.evidence.keys import PublicKey
    from aisec.core.evidence.store import EvidenceStore, LogEntry

__all__ = [
    "CHAIN_SCHEMA",
    "LIFECYCLE",
    "Chain",
    "Gap",
    "GapKind",
    "Link",
    "Relation",
    "walk_chain",
]

CHAIN_SCHEMA = "aisec.evidence-chain/v1"
#: The stages of the chain, in lifecycle order.
LIFECYCLE = ("data", "training", "evaluation", "deployment", "inference", "monitoring")
#: Input roles that tie a file to the bundle (model folder) it belongs to.
MEMBER_ROLES = frozenset({"model-file"})
#: Input roles naming material an artifact was made from: each should have evidence of its own.
MATERIAL_ROLES = frozenset({"source", "dataset", "base-model", "provenance", "model"})
#: Input roles that are not lineage: what a decision checked, not what the artifact came from.
_NOT_LINEAGE = ("requires:", "policy")
MAX_LINKS = 500


class Relation(StrEnum):
    """How a link was reached from the artifact."""

    ABOUT = "about"
    UPSTREAM = "upstream"
    DOWNSTREAM = "downstream"


class GapKind(StrEnum):
    MISSING = "missing"
    UNTRUSTED = "untrusted"
    EXPIRED = "expired"
    UNREADABLE = "unreadable"
    DANGLING = "dangling"


@dataclass(frozen=True, slots=True)
class Link:
    """One attestation in the chain."""

    index: int
    stage: str
    control: str
    predicate_type: str
    relation: Relation
    result: ControlResult | None
    signer: str
    trusted: bool
    time: str | None
    subjects: tuple[tuple[str, str], ...]
    inputs: tuple[tuple[str, str, str], ...]
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "stage": self.stage,
            "control": self.control,
            "predicate_type": self.predicate_type,
            "relation": self.relation.value,
            "result": self.result.value if self.result is not None else None,
            "signer": self.signer,
            "trusted": self.trusted,
            "time": self.time,
            "subjects": [{"name": n, "digest": d} for n, d in self.subjects],
            "inputs": [{"name": n, "digest": d, "role": r} for n, d, r in self.inputs],
            "note": self.note,
        }


@dataclass(frozen=True, slots=True)
class Gap:
    stage: str
    kind: GapKind
    message: str
    index: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "kind": self.kind.value,
            "message": self.message,
            "index": self.index,
        }


@dataclass(frozen=True)
class Chain:
    root: str
    identity: tuple[str, ...]
    links: tuple[Link, ...]
    gaps: tuple[Gap, ...]
    stages: tuple[str, ...]
    names: dict[str, str] = field(default_factory=dict)
    truncated: bool = False

    @property
    def complete(self) -> bool:
        return not self.gaps

    def stage_links(self, stage: str) -> tuple[Link, ...]:
        return tuple(x for x in self.links if x.stage == stage)

    def stage_state(self, stage: str) -> str:
        """``ok`` when the stage has usable evidence, else the kind of its first gap."""
        gap = next((g for g in self.gaps if g.stage == stage), None)
        return gap.kind.value if gap is not None else "ok"

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": CHAIN_SCHEMA,
            "root": self.root,
            "name": self.names.get(self.root),
            "identity": list(self.identity),
            "complete": self.complete,
            "stages": [
                {
                    "stage": s,
                    "state": self.stage_state(s),
                    "links": [x.to_json() for x in self.stage_links(s)],
                }
                for s in self.stages
            ],
            "other_links": [x.to_json() for x in self.links if x.stage not in self.stages],
            "gaps": [g.to_json() for g in self.gaps],
            "truncated": self.truncated,
        }

    # ------------------------------------------------------------------ pictures
    def _label(self, link: Link) -> str:
        result = link.result.value if link.result is not None else "recorded"
        return f"#{link.index} {link.control}\\n{result}"

    def to_dot(self) -> str:
        """A Graphviz digraph: stages as clusters, links as nodes, edges by digest."""
        out = ["digraph chain {", "  rankdir=LR;", '  node [shape=box, fontname="sans-serif"];']
        for s in self.stages:
            out.append(f'  subgraph "cluster_{s}" {{ label="{s} ({self.stage_state(s)})";')
            for x in self.stage_links(s):
                colour = _COLOUR.get(x.result.value if x.result else "recorded", "black")
                out.append(f'    n{x.index} [label="{self._label(x)}", color="{colour}"];')
            out.append("  }")
        for a, b in self.edges():
            out.append(f"  n{a} -> n{b};")
        out.append("}")
        return "\n".join(out) + "\n"

    def to_mermaid(self) -> str:
        out = ["flowchart LR"]
        for s in self.stages:
            out.append(f"  subgraph {s}[{s}: {self.stage_state(s)}]")
            for x in self.stage_links(s):
                label = self._label(x).replace("\\n", " ")
                out.append(f'    n{x.index}["{label}"]')
            out.append("  end")
        for a, b in self.edges():
            out.append(f"  n{a} --> n{b}")
        return "\n".join(out) + "\n"

    def edges(self) -> list[tuple[int, int]]:
        """producer -> consumer: an entry whose subject another entry read."""
        produced: dict[str, list[int]] = {}
        for x in self.links:
            for _n, d in x.subjects:
                produced.setdefault(d, []).append(x.index)
        edges = set()
        for x in self.links:
            for _n, d, _r in x.inputs:
                for p in produced.get(d, []):
                    if p != x.index:
                        edges.add((p, x.index))
        return sorted(edges)


_COLOUR = {
    "pass": "darkgreen",
    "recorded": "steelblue",
    "fail": "red",
    "unverified": "orange",
    "inconclusive": "orange",
}


def _parse(entry: LogEntry) -> tuple[Any | None, str]:
    """The typed predicate of an entry (None for another tool's type) or why not."""
    from aisec.core.predicates import validate_statement

    try:
        return validate_statement(entry.statement), ""
    except FormatError as exc:
        return None, exc.message


@dataclass
class _Walk:
    store: EvidenceStore
    keys: Sequence[PublicKey] | None
    max_age: timedelta | None
    now: datetime
    found: dict[int, tuple[LogEntry, Relation]] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    dangling: list[tuple[LogEntry, str, str, str]] = field(default_factory=list)
    truncated: bool = False

    def add(self, entry: LogEntry, relation: Relation) -> bool:
        if entry.index in self.found:
            return False
        if len(self.found) >= MAX_LINKS:
            self.truncated = True
            return False
        self.found[entry.index] = (entry, relation)
        for s in entry.statement.subjects:
            self.names.setdefault(s.digest, s.name)
        return True

    def about(self, digest: str) -> list[LogEntry]:
        return self.store.entries(subject_digest=digest)

    def consumers(self, digest: str) -> list[LogEntry]:
        return self.store.entries(input_digest=digest)


def _inputs(entry: LogEntry) -> list[tuple[str, str, str]]:
    predicate, _why = _parse(entry)
    if predicate is None:
        return []
    return [(i.name, i.digest, i.role) for i in predicate.inputs]


def _identity(w: _Walk, roots: Iterable[str], files: Iterable[str]) -> tuple[set[str], set[str]]:
    """(whole, members): the roots and the bundles a root file belongs to, then every
    member file of those bundles (and ``files``, a folder's own). A member shared with another
    bundle (a config file) does not pull that other bundle in."""
    whole = set(roots)
    for d in list(whole):
        for e in w.consumers(d):  # d is a member file: the bundles naming it as one
            if any(r in MEMBER_ROLES and dd == d for _n, dd, r in _inputs(e)):
                whole |= {s.digest for s in e.statement.subjects}
    members: set[str] = set()
    for b in whole:
        for e in w.about(b):
            members |= {dd for _n, dd, r in _inputs(e) if r in MEMBER_ROLES}
    return whole, (members | set(files)) - whole


def walk_chain(
    store: EvidenceStore,
    roots: Sequence[str],
    *,
    files: Sequence[str] = (),
    keys: Sequence[PublicKey] | None = None,
    max_age: timedelta | None = None,
    until: str = "monitoring",
    now: datetime | None = None,
) -> Chain:
    """The chain of the artifact with digests ``roots`` (a file's, or a folder's manifest
    digest with the folder's ``files``).

    ``keys``: only evidence signed by them is trusted (default: the store's own keys);
    ``max_age``: older evidence is a gap; ``until``: the last lifecycle stage required.
    """
    if until not in LIFECYCLE:
        raise ValueError(f"unknown stage {until!r}")
    w = _Walk(store, keys, max_age, now or datetime.now(UTC))
    whole, members = _identity(w, roots, files)
    identity = whole | members
    for d in sorted(whole):
        for e in w.about(d):
            w.add(e, Relation.ABOUT)
    for d in sorted(members):
        # about a member file: only evidence about nothing but this artifact's files (a scan
        # of another folder that shares a config file says nothing about this model)
        for e in w.about(d):
            if {s.digest for s in e.statement.subjects} <= identity:
                w.add(e, Relation.ABOUT)
    # upstream: the producers of what the chain's entries read
    queue = deque(e for e, _r in list(w.found.values()))
    seen_inputs: set[str] = set(identity)
    while queue and not w.truncated:
        entry = queue.popleft()
        for _n, d, role in _inputs(entry):
            if d in seen_inputs or role in MEMBER_ROLES or role.startswith(_NOT_LINEAGE):
                continue
            seen_inputs.add(d)
            producers = w.about(d)
            if not producers and role in MATERIAL_ROLES:
                w.dangling.append((entry, _n, d, role))
            for producer in producers:
                if w.add(producer, Relation.UPSTREAM):
                    queue.append(producer)
    # downstream: what read the artifact as a whole, and what is about those (a file's other
    # readers are the bundles it belongs to, or other bundles that share it)
    frontier = deque(sorted(whole))
    seen_down: set[str] = set(identity)
    while frontier and not w.truncated:
        d = frontier.popleft()
        for consumer in w.consumers(d):
            if w.add(consumer, Relation.DOWNSTREAM):
                for s in consumer.statement.subjects:
                    if s.digest not in seen_down:
                        seen_down.add(s.digest)
                        frontier.append(s.digest)
                        for e in w.about(s.digest):
                            w.add(e, Relation.DOWNSTREAM)
    links = tuple(_link(w, e, r) for e, r in sorted(w.found.values(), key=lambda x: x[0].index))
    stages = LIFECYCLE[: LIFECYCLE.index(until) + 1]
    root = roots[0] if roots else ""
    return Chain(
        root=root,
        identity=tuple(sorted(identity)),
        links=links,
        gaps=tuple(_gaps(links, stages, w.dangling)),
        stages=stages,
        names=w.names,
        truncated=w.truncated,
    )


def _link(w: _Walk, entry: LogEntry, relation: Relation) -> Link:
    predicate, why = _parse(entry)
    trust = list(w.keys) if w.keys else w.store.keys()
    trusted = bool(entry.envelope.verified_keyids(trust))
    time = w.store.signed_time(entry, trust) or None
    note = why
    if trusted and w.max_age is not None and time is not None:
        stamp = datetime.fromisoformat(time.replace("Z", "+00:00"))
        if w.now - stamp > w.max_age:
            note = f"recorded {time}, older than {w.max_age / timedelta(days=1):g} days"
    control = entry.statement.control
    return Link(
        index=entry.index,
        stage=entry.stage,
        control=f"{entry.statement.stage}/{control}" if "/" not in control else control,
        predicate_type=entry.predicate_type,
        relation=relation,
        result=predicate.result if predicate is not None else None,
        signer=entry.keyid,
        trusted=trusted,
        time=time or entry.created_at,
        subjects=tuple((s.name, s.digest) for s in entry.statement.subjects),
        inputs=tuple(
            (i.name, i.digest, i.role) for i in (predicate.inputs if predicate is not None else ())
        ),
        note=note,
    )


def _gaps(
    links: Sequence[Link], stages: Sequence[str], dangling: Sequence[tuple[LogEntry, str, str, str]]
) -> list[Gap]:
    out: list[Gap] = []
    for stage in stages:
        mine = [x for x in links if x.stage == stage]
        usable = [
            x
            for x in mine
            if x.trusted and not x.note and x.predicate_type.startswith("urn:aisec:")
        ]
        if usable:
            continue
        if not mine:
            out.append(Gap(stage, GapKind.MISSING, f"no {stage} evidence for this artifact"))
            continue
        x = mine[-1]
        if not x.trusted:
            kind = GapKind.UNTRUSTED
            msg = f"entry #{x.index} is signed by {x.signer[:16]}…, a key that is not trusted"
        elif x.note.startswith("recorded "):
            kind, msg = GapKind.EXPIRED, f"entry #{x.index} expired: {x.note}"
        else:
            kind, msg = GapKind.UNREADABLE, f"entry #{x.index} cannot be read: {x.note}"
        out.append(Gap(stage, kind, msg, x.index))
    for entry, name, digest, role in dangling:
        out.append(
            Gap(
                entry.stage,
                GapKind.DANGLING,
                f"entry #{entry.index} read {name} ({role}, {digest[:19]}…), but nothing in "
                "the log is about that digest",
                entry.index,
            )
        )
    return out
