"""Values a rule needs that the files do not state: reported, never taken as a pass."""

from __future__ import annotations

from collections.abc import Iterator

from aisec.core.findings import Mappings, Severity
from aisec.training.infra._model import InfraContext, InfraModel
from aisec.training.infra.rules._base import Hit, infra_rule


def check(model: InfraModel, context: InfraContext) -> Iterator[Hit]:
    del context
    seen: set[tuple[str, str, str]] = set()
    for u in model.unverified:
        key = (u.file, u.address, u.attribute)
        if key in seen:
            continue
        seen.add(key)
        yield Hit(
            u.file,
            u.address,
            f"{u.attribute} = {u.expression} could not be resolved statically; the checks "
            "that read it could not be verified",
            f"{u.attribute} = {u.expression}",
            "# give the value as a literal, a variable default or a .tfvars entry, or check "
            "the plan (terraform show -json) instead",
        )


RULE = infra_rule(
    id="AISEC-TRN-100",
    severity=Severity.LOW,
    title="Security-relevant value could not be verified",
    remediation="Check the plan JSON, where Terraform has resolved every value, or make the "
    "value static.",
    mappings=Mappings(
        atlas=("AML.T0049",),
        saif=("SAIF-1",),
        nist_ai_rmf=("MEASURE 2.7",),
    ),
    check=check,
    fixture="unverified",
    target="training cluster",
    rationale="An unresolved CIDR or flag may hide any of the other findings.",
)
