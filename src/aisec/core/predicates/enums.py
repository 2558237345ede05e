"""Closed sets the predicates share, as plain enums (no pydantic): a stage that only needs a
verdict, such as a scan that records nothing, imports them without loading the models."""

from __future__ import annotations

from enum import StrEnum

from aisec.core.controls import ControlResult

__all__ = ["GateDecisionKind", "ScanVerdict"]


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
