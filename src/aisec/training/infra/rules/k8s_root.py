"""Containers that run as root (runAsUser 0, or runAsNonRoot not required)."""

from __future__ import annotations

from collections.abc import Iterator

from aisec.core.findings import Severity
from aisec.training.infra._model import InfraContext, InfraModel
from aisec.training.infra.rules._base import Hit, infra_rule
from aisec.training.infra.rules._k8s import CONTAINER, container_name, effective

FIX = "securityContext:\n  runAsNonRoot: true\n  runAsUser: 10001"


def check(model: InfraModel, context: InfraContext) -> Iterator[Hit]:
    del context
    for w in model.workloads:
        for c in w.containers():
            user = effective(w, c, "runAsUser")
            non_root = effective(w, c, "runAsNonRoot")
            if user == 0:
                why = "runAsUser: 0"
            elif non_root is True or (isinstance(user, int) and user > 0):
                continue
            else:
                why = (
                    "neither runAsNonRoot: true nor a non-zero runAsUser "
                    "(the image's user, often root)"
                )
            fix = 'user: "10001:10001"' if w.kind == "ComposeService" else FIX
            yield Hit(w.file, w.address, f"container {container_name(c)!r}: {why}", why, fix)


RULE = infra_rule(
    id="AISEC-TRN-205",
    severity=Severity.HIGH,
    title="Container runs as root",
    remediation="Run serving as a non-root user and require it with runAsNonRoot.",
    mappings=CONTAINER,
    check=check,
    fixture="k8s_root",
    target="inference container",
    rationale=(
        "Root in the container turns any code-execution bug into control of the serving host."
    ),
)
