"""Any other port reachable from outside the cluster's range (a corporate CIDR, a peer VPC)."""

from __future__ import annotations

from collections.abc import Iterator

from aisec.core.findings import Mappings, Severity
from aisec.training.infra._model import ANYWHERE, InfraContext, InfraModel
from aisec.training.infra.rules._base import (
    Hit,
    cluster_note,
    cluster_or_placeholder,
    infra_rule,
    net_fix,
)


def check(model: InfraModel, context: InfraContext) -> Iterator[Hit]:
    for r in model.net_rules:
        if r.direction != "ingress" or any(r.covers_port(p) for p in context.admin_ports):
            continue  # admin ports are AISEC-TRN-101's
        outside = [c for c in r.cidrs if c not in ANYWHERE and not context.inside_cluster(c)]
        if not outside:
            continue
        yield Hit(
            r.file,
            r.address,
            f"{r.text(outside)}: a source outside the training cluster ({cluster_note(context)})",
            r.text(),
            net_fix(r, cluster_or_placeholder(context)),
        )


RULE = infra_rule(
    id="AISEC-TRN-103",
    severity=Severity.MEDIUM,
    title="Ingress to training nodes from outside the cluster",
    remediation="Limit ingress to the cluster's own range; reach services from outside "
    "through a load balancer or a peer security group, not a CIDR.",
    mappings=Mappings(
        atlas=("AML.T0049",),
        saif=("SAIF-1",),
        nist_ai_rmf=("MEASURE 2.7",),
    ),
    check=check,
    fixture="ingress_outside",
    target="training cluster",
    rationale=(
        "Ingress from outside the cluster widens who can reach nodes holding data and weights."
    ),
)
