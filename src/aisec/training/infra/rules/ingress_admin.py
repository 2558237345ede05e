"""Admin ports (SSH, RDP, Kubernetes API, etcd, kubelet, ...) reachable from outside the
training cluster, e.g. a bastion's single /32. The list is ``InfraContext.admin_ports``."""

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
        if r.direction != "ingress":
            continue
        ports = [p for p in sorted(context.admin_ports) if r.covers_port(p)]
        outside = [c for c in r.cidrs if c not in ANYWHERE and not context.inside_cluster(c)]
        if not ports or not outside:
            continue
        names = ", ".join(f"{context.admin_ports[p]} ({p})" for p in ports)
        sources = ", ".join(str(c) for c in outside)
        yield Hit(
            r.file,
            r.address,
            f"{names} open to {sources}, outside the training cluster ({cluster_note(context)})",
            r.text(),
            net_fix(r, cluster_or_placeholder(context)),
        )


RULE = infra_rule(
    id="AISEC-TRN-101",
    severity=Severity.HIGH,
    title="Admin ports of training nodes reachable from outside the cluster",
    remediation="Delete the rule and reach nodes through SSM Session Manager or a "
    "short-lived, audited path; if nodes need SSH among themselves (MPI), allow only the "
    "cluster's own range.",
    mappings=Mappings(
        atlas=("AML.T0012", "AML.T0018"),
        saif=("SAIF-1",),
        nist_ai_rmf=("MEASURE 2.7", "MANAGE 1.3"),
    ),
    check=check,
    fixture="ingress_admin",
    target="training cluster",
    rationale=(
        "Admin ports reachable from outside let a stolen bastion key reach every training node."
    ),
)
