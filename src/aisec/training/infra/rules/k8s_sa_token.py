"""Service-account tokens mounted into pods.

The pod spec's ``automountServiceAccountToken`` wins over its ServiceAccount's: a pod
that sets ``true`` mounts the token even when the account says ``false``. Left unset on
both, Kubernetes mounts it. Every effective mount is reported, saying which setting
decided it, so an override on the pod is never hidden behind a careful ServiceAccount.
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
        if pod is False or (pod is None and sa is False):
            continue
        if pod is True and sa is False:
            why = (
                f"the pod sets automountServiceAccountToken: true, overriding service account "
                f"{name!r} which sets false"
            )
            current = "pod: automountServiceAccountToken: true"
        elif pod is True:
            why = f"the pod sets automountServiceAccountToken: true (service account {name!r})"
            current = "pod: automountServiceAccountToken: true"
        elif sa is True:
            why = f"service account {name!r} sets automountServiceAccountToken: true"
            current = f"ServiceAccount {name}: automountServiceAccountToken: true"
        else:
            why = f"service account {name!r} token is mounted by default (unset on pod and account)"
            current = "automountServiceAccountToken: <unset>"
        yield Hit(
            w.file,
            w.address,
            f"{w.role}: {why}",
            current,
            "automountServiceAccountToken: false  # on the pod spec and the ServiceAccount",
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
