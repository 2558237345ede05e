"""Buckets and storage accounts that anyone can read (public IAM, ACLs, container access)."""

from __future__ import annotations

from collections.abc import Iterator

from aisec.core.findings import Mappings, Severity
from aisec.training.infra._model import InfraContext, InfraModel
from aisec.training.infra.rules._base import Hit, infra_rule


def check(model: InfraModel, context: InfraContext) -> Iterator[Hit]:
    del context
    for s in model.storages:
        if s.public:
            yield Hit(
                s.file, s.address, f"{s.kind} can be read publicly: {s.reason}", s.reason, s.fix
            )


RULE = infra_rule(
    id="AISEC-TRN-108",
    severity=Severity.CRITICAL,
    title="Weights or training data storage open to the public",
    remediation="Grant bucket roles to named identities only, enforce uniform bucket-level "
    "access and public-access prevention, keep containers private.",
    mappings=Mappings(
        atlas=("AML.T0035", "AML.T0036", "AML.T0025"),
        saif=("SAIF-1",),
        nist_ai_rmf=("MEASURE 2.7", "MANAGE 1.3"),
    ),
    check=check,
    fixture="public_storage",
    target="training cluster",
    rationale="A public bucket hands the weights and the training data to anyone.",
)
