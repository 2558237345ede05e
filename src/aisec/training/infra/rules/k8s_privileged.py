"""Privileged containers, privilege escalation and dangerous added capabilities."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from aisec.core.findings import Severity
from aisec.training.infra._model import InfraContext, InfraModel
from aisec.training.infra.rules._base import Hit, infra_rule
from aisec.training.infra.rules._k8s import CONTAINER, container_name, effective

DANGEROUS_CAPS = {"ALL", "SYS_ADMIN", "NET_ADMIN", "SYS_PTRACE", "SYS_MODULE", "DAC_READ_SEARCH"}
COMPOSE_FIX = "privileged: false\ncap_drop: [ALL]\nsecurity_opt:\n  - no-new-privileges:true"
FIX = (
    "securityContext:\n  privileged: false\n  allowPrivilegeEscalation: false\n"
    "  capabilities:\n    drop: [ALL]"
)


def check(model: InfraModel, context: InfraContext) -> Iterator[Hit]:
    del context
    for w in model.workloads:
        for c in w.containers():
            problems = []
            if effective(w, c, "privileged") is True:
                problems.append("privileged: true")
            if effective(w, c, "allowPrivilegeEscalation") is True:
                problems.append("allowPrivilegeEscalation: true")
            caps = effective(w, c, "capabilities")
            added = caps.get("add") if isinstance(caps, Mapping) else None
            bad = sorted({str(x).upper() for x in added or []} & DANGEROUS_CAPS)
            if bad:
                problems.append(f"capabilities.add: {bad}")
            if problems:
                yield Hit(
                    w.file,
                    w.address,
                    f"container {container_name(c)!r}: {', '.join(problems)}",
                    "; ".join(problems),
                    COMPOSE_FIX if w.kind == "ComposeService" else FIX,
                )


RULE = infra_rule(
    id="AISEC-TRN-204",
    severity=Severity.CRITICAL,
    title="Privileged container",
    remediation="Serving needs no privileges: drop all capabilities and forbid escalation.",
    mappings=CONTAINER,
    check=check,
    fixture="k8s_privileged",
    target="inference container",
    rationale="A privileged container can take over its node and every model on it.",
)
