"""Triage as evidence: the state of each finding, from the signed ``core/triage`` decisions.

A finding is identified by its :attr:`~aisec.core.findings.Finding.fingerprint` (rule, artifact
digest, where, what it names), so a decision about it holds across runs that report it again.
The newest trusted decision per fingerprint is its state; an acceptance or a suppression past
its expiry date no longer holds.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from aisec.core.controls import ControlResult
from aisec.core.errors import FormatError, InputError
from aisec.core.findings import Finding
from aisec.core.predicates.enums import TriageState

if TYPE_CHECKING:
    from aisec.core.evidence.keys import PublicKey
    from aisec.core.evidence.store import EvidenceStore
    from aisec.core.predicates.core import TriagePredicate

__all__ = ["Triage", "active_decisions", "find_finding", "triage_predicate", "triage_states"]


@dataclass(frozen=True, slots=True)
class Triage:
    """The current decision about one finding, and the entry that records it."""

    fingerprint: str
    state: TriageState
    reason: str
    by: str
    until: date | None
    index: int
    recorded_at: str

    def active(self, today: date | None = None) -> bool:
        """Whether the decision still holds (not reopened, not past its expiry date)."""
        if self.state is TriageState.REOPENED:
            return False
        return self.until is None or (today or datetime.now(UTC).date()) <= self.until

    def label(self, today: date | None = None) -> str:
        if self.state is TriageState.REOPENED:
            return "open (reopened)"
        if not self.active(today):
            return f"{self.state.value} (expired {self.until})"
        until = f" until {self.until}" if self.until else ""
        return f"{self.state.value}{until}"

    def to_json(self, today: date | None = None) -> dict[str, Any]:
        return {
            "fingerprint": self.fingerprint,
            "state": self.state.value,
            "active": self.active(today),
            "reason": self.reason,
            "by": self.by,
            "until": self.until.isoformat() if self.until else None,
            "entry": self.index,
            "recorded_at": self.recorded_at,
        }


def triage_states(
    store: EvidenceStore, *, keys: Sequence[PublicKey] | None = None
) -> dict[str, Triage]:
    """The newest decision per fingerprint, signed by ``keys`` (default: the store's keys)."""
    from aisec.core.predicates.core import TriagePredicate

    trust = list(keys) if keys else store.keys()
    out: dict[str, Triage] = {}
    for entry in store.entries(predicate_type=TriagePredicate.predicate_type()):
        if not entry.envelope.verified_keyids(trust):
            continue
        try:
            t = TriagePredicate.from_statement(entry.statement)
        except FormatError:
            continue  # unreadable: evidence verify names it
        out[t.fingerprint] = Triage(
            t.fingerprint,
            t.state,
            t.reason,
            t.by,
            t.until,
            entry.index,
            store.signed_time(entry, trust) or entry.created_at,
        )
    return out


def find_finding(store: EvidenceStore, ref: str) -> tuple[int, Finding]:
    """The newest recorded finding with fingerprint ``ref`` (or ``ENTRY:N``, the N-th finding
    of entry ENTRY, as ``aisec evidence findings`` lists them)."""
    found = store.findings()
    if ref.startswith("fp:"):
        hits = [(i, f) for i, f in found if f.fingerprint == ref]
        if hits:
            return hits[-1]
        raise InputError(f"no recorded finding has fingerprint {ref}")
    entry, sep, ordinal = ref.partition(":")
    if sep and entry.isdigit() and ordinal.isdigit():
        mine = [f for i, f in found if i == int(entry)]
        if int(ordinal) < len(mine):
            return int(entry), mine[int(ordinal)]
    raise InputError(
        f"{ref!r} is not a finding: give its fingerprint (fp:…) or ENTRY:N "
        "(see: aisec evidence findings)"
    )


def triage_predicate(
    finding: Finding,
    entry: int | None,
    *,
    state: TriageState,
    reason: str,
    by: str,
    until: date | None = None,
) -> TriagePredicate:
    """A decision about ``finding``; raises InputError for a decision that does not hold
    together (an acceptance without an expiry date, an expiry in the past)."""
    from pydantic import ValidationError

    from aisec.core.predicates import SubjectRef
    from aisec.core.predicates.core import TriagePredicate

    if until is not None and until < datetime.now(UTC).date():
        raise InputError(f"--until {until} is in the past")
    digest = finding.subject.digest
    if digest is None:
        raise InputError(f"finding {finding.fingerprint} names no artifact digest to attest")
    try:
        return TriagePredicate(
            result=ControlResult.RECORDED,
            subjects=(SubjectRef(name=finding.subject.path or "artifact", digest=digest),),
            fingerprint=finding.fingerprint,
            rule_id=finding.id,
            finding_stage=finding.stage,
            state=state,
            reason=reason.strip(),
            by=by.strip(),
            until=until,
            entry=entry,
        )
    except ValidationError as exc:
        msg = exc.errors(include_url=False)[0].get("msg", "invalid")
        raise InputError(f"triage decision: {msg}") from exc


def active_decisions(
    findings: Iterable[Finding],
    states: dict[str, Triage],
    allowed: Iterable[TriageState],
    today: date | None = None,
) -> list[Triage] | None:
    """The decisions that cover every one of ``findings`` with an allowed, active state, or
    None when one of them is not covered."""
    ok = set(allowed)
    out = []
    for f in findings:
        t = states.get(f.fingerprint)
        if t is None or t.state not in ok or not t.active(today):
            return None
        out.append(t)
    return out
