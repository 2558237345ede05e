"""One shape for every control: its rules, its declaration, its result.

A *control* is a check (or a record) that a stage runs and that signs one attestation. Every
control of every stage is declared once, as a :class:`Control`, next to its stage's code:

* its id (``<stage>/<key>``), the question it answers and the commands that run it;
* its typed predicate (a :class:`aisec.core.predicates.Predicate` subclass: the predicate type
  URN and version come from the model, so nothing spells a URN a second time);
* the :class:`Rule` values whose findings it can report, and its framework mappings.

``aisec.registry`` gathers the stages' declarations in one explicit tuple; the gate, the
dashboard, ``aisec lifecycle`` and ``aisec controls`` read that registry and the typed
predicates, never raw dict keys.

    Rule ──fires──► Finding ──┐
                              ├─► Predicate (result, findings, subjects, inputs, run, own fields)
    Control ──declares──► Rule│        │
           └──declares──► Predicate    └─► Statement ──Recorder──► evidence store
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from aisec.core.findings import Finding, Mappings, Region, Severity, Subject

if TYPE_CHECKING:
    from aisec.core.predicates import Predicate

__all__ = [
    "STAGE_CODES",
    "Control",
    "ControlResult",
    "Rule",
]

#: The stage part of a finding id, per lifecycle stage (``AISEC-<CODE>-<NNN>``).
STAGE_CODES: Mapping[str, str] = {
    "core": "CORE",
    "data": "DAT",
    "training": "TRN",
    "evaluation": "EVA",
    "deployment": "DEP",
    "inference": "INF",
    "monitoring": "MON",
}
_RULE_ID = re.compile(r"^AISEC-([A-Z]{2,6})-(\d{3})$")
_CONTROL_ID = re.compile(
    r"^(core|data|training|evaluation|deployment|inference|monitoring)/[a-z0-9-]+$"
)


class ControlResult(StrEnum):
    """What one run of a control concluded. A closed set: readers match it exhaustively.

    * ``pass``: the control covered what it was asked to check and found nothing at or above
      its threshold;
    * ``fail``: it found a problem;
    * ``unverified``: it could not check part of its input (unreadable, over a bound, a
      format it cannot read), so it cannot say pass;
    * ``inconclusive``: it ran, but the evidence is too thin for a verdict (too few trials,
      too small a sample): "not adequately tested", never "pass";
    * ``recorded``: the control records a fact (a provenance record, a checkpoint digest, a
      gateway configuration) rather than judging one.
    """

    PASS = "pass"  # noqa: S105 - a result, not a password
    FAIL = "fail"
    UNVERIFIED = "unverified"
    INCONCLUSIVE = "inconclusive"
    RECORDED = "recorded"

    @property
    def assures(self) -> bool:
        """Only a pass is assurance; every other result leaves a question open or records."""
        return self is ControlResult.PASS


@dataclass(frozen=True, slots=True)
class Rule:
    """One kind of finding a control reports: the only rule type in aisec.

    Declared as data next to the code that fires it; ``rationale`` says in one line why the
    rule exists (what an attacker does with the weakness). Ids are ``AISEC-<CODE>-<NNN>``
    with the stage's code (:data:`STAGE_CODES`) and are unique across the tool (the registry
    and a contract test check it).
    """

    id: str
    stage: str
    severity: Severity
    title: str
    remediation: str
    mappings: Mappings
    rationale: str = ""

    def __post_init__(self) -> None:
        m = _RULE_ID.match(self.id)
        if m is None:
            raise ValueError(f"rule id {self.id!r} is not of the form AISEC-<STAGE>-<NNN>")
        expected = STAGE_CODES.get(self.stage)
        if expected is None:
            raise ValueError(f"rule {self.id}: unknown stage {self.stage!r}")
        if m.group(1) != expected:
            raise ValueError(f"rule {self.id}: a {self.stage} rule id starts AISEC-{expected}-")

    def finding(
        self,
        path: str,
        detail: str,
        *,
        digest: str | None = None,
        severity: Severity | None = None,
        title: str | None = None,
        evidence: Mapping[str, Any] | None = None,
        region: Region | None = None,
    ) -> Finding:
        """A finding of this rule about ``path`` (the artifact with ``digest``).

        ``title`` overrides the rule's title for one finding only where the stage names the
        thing found (a system, a category); the rule's own metadata stays stable.
        """
        return Finding(
            id=self.id,
            stage=self.stage,
            severity=severity or self.severity,
            title=title or self.title,
            detail=detail,
            subject=Subject(path=path, digest=digest, region=region),
            remediation=self.remediation,
            mappings=self.mappings,
            evidence=dict(evidence or {}),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "stage": self.stage,
            "severity": self.severity.value,
            "title": self.title,
            "remediation": self.remediation,
            "rationale": self.rationale,
            "mappings": self.mappings.to_json(),
        }


@dataclass(frozen=True, slots=True)
class Control:
    """A control declared once: what it asks, how it is run, what it reports and records.

    ``predicate`` is the typed predicate model (its ``predicate_type()`` gives the URN);
    ``legacy`` names older predicate types of this control that readers still accept (the
    model's ``upgrade`` turns them into the current shape).
    """

    id: str
    name: str
    question: str
    description: str
    commands: tuple[str, ...]
    predicate: type[Predicate]
    rules: tuple[Rule, ...] = ()
    mappings: Mappings = field(default_factory=Mappings)

    def __post_init__(self) -> None:
        if not _CONTROL_ID.match(self.id):
            raise ValueError(f"control id {self.id!r} is not <stage>/<key>")
        stage = self.id.partition("/")[0]
        if (stage, self.key) != (self.predicate.STAGE, self.predicate.CONTROL):
            raise ValueError(
                f"control {self.id}: its predicate model {self.predicate.__name__} is for "
                f"{self.predicate.STAGE}/{self.predicate.CONTROL}"
            )
        for rule in self.rules:
            if rule.stage != stage:
                raise ValueError(f"control {self.id}: rule {rule.id} belongs to {rule.stage}")

    @property
    def stage(self) -> str:
        return self.id.partition("/")[0]

    @property
    def key(self) -> str:
        """The control's name within its stage, e.g. ``audit`` for ``data/audit``."""
        return self.id.partition("/")[2]

    @property
    def predicate_type(self) -> str:
        return self.predicate.predicate_type()

    @property
    def predicate_types(self) -> tuple[str, ...]:
        """The current predicate type first, then the older ones readers still accept."""
        return (self.predicate_type, *self.predicate.legacy_types())

    @property
    def command(self) -> str:
        return " / ".join(self.commands)

    def rule(self, rule_id: str) -> Rule:
        for r in self.rules:
            if r.id == rule_id:
                return r
        raise KeyError(f"control {self.id} has no rule {rule_id}")

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "stage": self.stage,
            "name": self.name,
            "question": self.question,
            "description": self.description,
            "commands": list(self.commands),
            "predicate_type": self.predicate_type,
            "accepts": list(self.predicate.legacy_types()),
            "mappings": self.mappings.to_json(),
            "rules": [r.to_json() for r in self.rules],
        }
