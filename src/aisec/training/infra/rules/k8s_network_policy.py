"""Pods that no NetworkPolicy restricts: they can reach (and be reached from) anything.
The finding names the workload's kind (a Job is a training or data job, not serving). A
docker-compose service is restricted only when all its networks are ``internal``."""

from __future__ import annotations

from collections.abc import Iterator

from aisec.core.findings import Mappings, Severity
from aisec.training.infra._model import InfraContext, InfraModel
from aisec.training.infra.rules._base import Hit, infra_rule


def check(model: InfraModel, context: InfraContext) -> Iterator[Hit]:
    del context
    for w in model.workloads:
        if w.kind == "ComposeService":
            if not w.networks_internal:
                yield Hit(
                    w.file,
                    w.address,
                    f"{w.role} on a network with outside access: nothing limits its egress",
                    "networks: <not internal>",
                    "networks:\n  serving:\n    internal: true  # plus a proxy to the "
                    "queue/output endpoint",
                )
            continue
        covered: set[str] = set()
        for p in model.policies:
            if p.selects(w):
                covered |= p.policy_types
        missing = sorted({"Ingress", "Egress"} - covered)
        if not missing:
            continue
        labels = "\n".join(f"      {k}: {v}" for k, v in sorted(w.labels.items())) or "      {}"
        fix = (
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n"
            f"  name: {w.name}-serving\n  namespace: {w.namespace}\nspec:\n"
            f"  podSelector:\n    matchLabels:\n{labels}\n"
            "  policyTypes: [Ingress, Egress]\n"
            "  ingress:\n  - from:\n    - namespaceSelector:\n        matchLabels:\n"
            "          kubernetes.io/metadata.name: <gateway namespace>\n"
            "    ports:\n    - port: <serving port>\n"
            "  egress:\n  - to:\n    - namespaceSelector: {}\n      podSelector:\n"
            "        matchLabels:\n          k8s-app: kube-dns\n"
            "    ports:\n    - {port: 53, protocol: UDP}"
        )
        yield Hit(
            w.file,
            w.address,
            f"{w.role} pods: no NetworkPolicy restricts their "
            f"{' and '.join(missing).lower()} traffic",
            f"policyTypes covered: {sorted(covered) or 'none'}",
            fix,
        )


RULE = infra_rule(
    id="AISEC-TRN-201",
    severity=Severity.HIGH,
    title="Pods without a NetworkPolicy",
    remediation="Select the serving pods with a NetworkPolicy that allows ingress only from "
    "the gateway and egress only to DNS (and the endpoints serving really needs).",
    mappings=Mappings(
        atlas=("AML.T0025", "AML.T0072"),
        saif=("SAIF-1", "SAIF-4"),
        nist_ai_rmf=("MEASURE 2.7", "MANAGE 1.3"),
    ),
    check=check,
    fixture="k8s_network_policy",
    target="inference container",
    rationale="Without a NetworkPolicy an inference pod can reach every service in the cluster.",
)
