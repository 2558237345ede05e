"""Closed sets the predicates share, as plain enums (no pydantic): a stage that only needs a
verdict, such as a scan that records nothing, imports them without loading the models."""

from __future__ import annotations

from enum import StrEnum

from aisec.core.controls import ControlResult

__all__ = ["GateDecisionKind", "ScanVerdict", "TriageState"]


class ScanVerdict(StrEnum):
    """A scanned file's (or a whole scan's) verdict. Only ``clean`` means safe to load."""

    CLEAN = "clean"
    UNSAFE = "unsafe"
    UNVERIFIED = "unverified"

    @property
    def result(self) -> ControlResult:
        match self:
            case ScanVerdict.CLEAN:
                return ControlResult.PASS
            case ScanVerdict.UNSAFE:
                return ControlResult.FAIL
            case ScanVerdict.UNVERIFIED:
                return ControlResult.UNVERIFIED


class GateDecisionKind(StrEnum):
    ALLOW = "allow"
    DENY = "deny"


class TriageState(StrEnum):
    """What a team decided about one finding (``core/triage``).

    ``accepted-risk`` and ``suppressed`` need an expiry date; ``reopened`` undoes an earlier
    decision. Only the deploy gate's policy decides which states it honours.
    """

    ACCEPTED_RISK = "accepted-risk"
    FALSE_POSITIVE = "false-positive"
    FIXED = "fixed"
    SUPPRESSED = "suppressed"
    REOPENED = "reopened"

    @property
    def needs_expiry(self) -> bool:
        return self in (TriageState.ACCEPTED_RISK, TriageState.SUPPRESSED)
