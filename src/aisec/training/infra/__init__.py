"""``aisec train infra-check``: training-cluster and inference-container infrastructure rules.

>>> from aisec.training.infra import InfraContext, check_infra
>>> report = check_infra([Path("plan.json")], InfraContext.build(["10.0.0.0/16"]))  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aisec.core.controls import ControlResult
from aisec.core.findings import Finding, findings_to_json
from aisec.training.infra._load import InputSummary, expand_inputs, load_inputs
from aisec.training.infra._model import InfraContext, InfraModel
from aisec.training.infra.rules import INFRA_RULES, Hit, InfraCheck

__all__ = [
    "INFRA_RULES",
    "Hit",
    "InfraCheck",
    "InfraContext",
    "InfraModel",
    "InfraReport",
    "InputSummary",
    "check_infra",
    "load_inputs",
]


if TYPE_CHECKING:
    from aisec.core.predicates.training import InfraCheckPredicate

UNVERIFIED_ID = "AISEC-TRN-100"


@dataclass(frozen=True, slots=True)
class InfraReport:
    inputs: tuple[InputSummary, ...]
    findings: tuple[Finding, ...]
    context: InfraContext
    files: tuple[Path, ...] = ()
    rules: int = 0

    @property
    def result(self) -> ControlResult:
        """fail on any finding; unverified when the only findings are unresolved values."""
        if any(f.id != UNVERIFIED_ID for f in self.findings):
            return ControlResult.FAIL
        if self.findings:
            return ControlResult.UNVERIFIED
        return ControlResult.PASS

    def to_json(self) -> dict[str, Any]:
        doc = findings_to_json(self.findings)
        doc["result"] = self.result.value
        doc["inputs"] = [i.to_json() for i in self.inputs]
        return doc

    def predicates(self) -> tuple[InfraCheckPredicate]:
        """One ``training/infra-check`` predicate over every file read (by digest)."""
        from aisec.core.digest import digest_file
        from aisec.core.predicates import SubjectRef
        from aisec.core.predicates.training import InfraCheckPredicate

        subjects = tuple(SubjectRef(name=str(p), digest=digest_file(p)) for p in self.files)
        return (
            InfraCheckPredicate(
                result=self.result,
                findings=self.findings,
                subjects=subjects,
                resources=sum(i.resources for i in self.inputs),
                rules=self.rules,
                unverified=tuple(
                    f.evidence["resource"] + ": " + f.evidence["current"]
                    for f in self.findings
                    if f.id == UNVERIFIED_ID
                ),
            ),
        )


def check_infra(
    paths: Sequence[Path],
    context: InfraContext | None = None,
    *,
    rules: Sequence[InfraCheck] = INFRA_RULES,
) -> InfraReport:
    """Run ``rules`` over every file; the files' own VPCs/subnets join the cluster range."""
    model, inputs = load_inputs(paths)
    model.apply_precedence()
    ctx = (context or InfraContext()).with_networks(model.networks)
    findings = [f for rule in rules for f in rule.run(model, ctx)]
    return InfraReport(tuple(inputs), tuple(findings), ctx, tuple(expand_inputs(paths)), len(rules))
