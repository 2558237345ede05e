"""Service-account tokens mounted into inference pods although nothing declared a need.

Explicit ``automountServiceAccountToken: true`` (on the pod or its ServiceAccount) is
taken as a stated need; left unset, Kubernetes mounts the token by default.
"""

from __future__ import annotations

from collections.abc import Iterator

from aisec.core.findings import Mappings, Severity
from aisec.training.infra._model import InfraContext, InfraModel
from aisec.training.infra.rules._base import Hit, infra_rule


def check(model: InfraModel, context: InfraContext) -> Iterator[Hit]:
    del context
    accounts = {(a.namespace, a.name): a for a in model.service_accounts}
    for w in model.workloads:
        pod = w.spec.get("automountServiceAccountToken")
        name = str(w.spec.get("serviceAccountName") or w.spec.get("serviceAccount") or "default")
        account = accounts.get((w.namespace, name))
        sa = account.automount if account else None
        if pod is False or (pod is None and sa is False) or pod is True or sa is True:
            continue
        yield Hit(
            w.file,
            w.address,
            f"service account {name!r} token is mounted by default; serving does not call "
            "the Kubernetes API",
            "automountServiceAccountToken: <unset>",
            "automountServiceAccountToken: false",
        )


RULE = infra_rule(
    id="AISEC-TRN-207",
    severity=Severity.MEDIUM,
    title="Service-account token mounted without need",
    remediation="Set automountServiceAccountToken: false on the pod spec (or its "
    "ServiceAccount); a stolen token lets an attacker act on the cluster.",
    mappings=Mappings(
        atlas=("AML.T0055", "AML.T0012"),
        saif=("SAIF-1", "SAIF-4"),
        nist_ai_rmf=("MEASURE 2.7",),
    ),
    check=check,
    fixture="k8s_sa_token",
    target="inference container",
    rationale="A mounted service-account token lets a compromised pod talk to the Kubernetes API.",
)
