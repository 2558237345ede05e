"""Admin ports published beyond the cluster by a Service (LoadBalancer, NodePort,
externalIPs), an Ingress, a hostPort, a compose ``ports`` entry, a cloud load balancer or
a public Kubernetes control plane (EKS, GKE, AKS)."""

from __future__ import annotations

from collections.abc import Iterator

from aisec.core.findings import Mappings, Severity
from aisec.training.infra._model import ANYWHERE, InfraContext, InfraModel
from aisec.training.infra.rules._base import Hit, cluster_note, infra_rule


def check(model: InfraModel, context: InfraContext) -> Iterator[Hit]:
    for e in model.exposures:
        name = context.admin_name(e.port)
        if name is None:
            continue
        if e.sources and all(c not in ANYWHERE and context.inside_cluster(c) for c in e.sources):
            continue
        reach = (
            "anyone who can reach the nodes or the load balancer"
            if not e.sources
            else ", ".join(str(c) for c in e.sources)
        )
        yield Hit(
            e.file,
            e.address,
            f"{name} ({e.port}) exposed by {e.how} to {reach} ({cluster_note(context)})",
            e.how,
            e.fix,
        )


RULE = infra_rule(
    id="AISEC-TRN-110",
    severity=Severity.HIGH,
    title="Admin port exposed through a Service, load balancer or public endpoint",
    remediation="Publish only the serving port; reach SSH, the Kubernetes API, etcd, the "
    "kubelet and dashboards through a private endpoint, IAP/Bastion/SSM or port-forward.",
    mappings=Mappings(
        atlas=("AML.T0049", "AML.T0012"),
        saif=("SAIF-1",),
        nist_ai_rmf=("MEASURE 2.7", "MANAGE 1.3"),
    ),
    check=check,
    fixture="exposed_admin",
    target="training cluster",
    rationale="An exposed admin port is a direct path onto the nodes that hold the weights.",
)
