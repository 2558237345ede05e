"""Ingress open to the whole internet (0.0.0.0/0 or ::/0)."""

from __future__ import annotations

from collections.abc import Iterator

from aisec.core.findings import Mappings, Severity
from aisec.training.infra._model import ANYWHERE, InfraContext, InfraModel
from aisec.training.infra.rules._base import Hit, cluster_or_placeholder, infra_rule, net_fix


def check(model: InfraModel, context: InfraContext) -> Iterator[Hit]:
    for r in model.net_rules:
        anywhere = [c for c in r.cidrs if c in ANYWHERE]
        if r.direction != "ingress" or not anywhere:
            continue
        yield Hit(
            r.file,
            r.address,
            f"{r.text(anywhere)}: every address on the internet can reach the training nodes",
            r.text(),
            net_fix(r, cluster_or_placeholder(context)),
        )


RULE = infra_rule(
    id="AISEC-TRN-102",
    severity=Severity.CRITICAL,
    title="Ingress to training nodes from anywhere",
    remediation="Allow ingress only from the cluster's own range (and named load balancers "
    "or peers by security group).",
    mappings=Mappings(
        atlas=("AML.T0049", "AML.T0018"),
        saif=("SAIF-1",),
        nist_ai_rmf=("MEASURE 2.7", "MANAGE 1.3"),
    ),
    check=check,
    fixture="ingress_anywhere",
    target="training cluster",
    rationale="Ingress from anywhere exposes training nodes and their weights to the internet.",
)
