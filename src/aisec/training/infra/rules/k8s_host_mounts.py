"""hostPath volumes and host namespaces (network, PID, IPC) in inference pods."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from aisec.core.findings import Mappings, Severity
from aisec.training.infra._model import InfraContext, InfraModel
from aisec.training.infra.rules._base import Hit, infra_rule


def check(model: InfraModel, context: InfraContext) -> Iterator[Hit]:
    del context
    for w in model.workloads:
        problems = [f"{k}: true" for k in ("hostNetwork", "hostPID", "hostIPC") if w.spec.get(k)]
        problems += [
            f"volume {v.get('name')!r} is hostPath {v['hostPath'].get('path')}"
            for v in w.spec.get("volumes") or []
            if isinstance(v, Mapping) and isinstance(v.get("hostPath"), Mapping)
        ]
        if problems:
            yield Hit(
                w.file,
                w.address,
                "; ".join(problems),
                "; ".join(problems),
                "# no network_mode/pid/ipc: host; no bind mount of host system paths\n"
                "volumes:\n  - <weights volume>:/models:ro"
                if w.kind == "ComposeService"
                else "hostNetwork: false\nhostPID: false\nhostIPC: false\nvolumes:\n"
                "- name: <volume>\n  persistentVolumeClaim:\n    claimName: <weights claim>\n"
                "    readOnly: true",
            )


RULE = infra_rule(
    id="AISEC-TRN-206",
    severity=Severity.HIGH,
    title="Host mounts or host namespaces in a pod",
    remediation="Serve from a read-only volume claim or an image layer; never share the "
    "node's file system, network or process namespace.",
    mappings=Mappings(
        atlas=("AML.T0105", "AML.T0037"),
        saif=("SAIF-1", "SAIF-4"),
        nist_ai_rmf=("MEASURE 2.7", "MANAGE 1.3"),
    ),
    check=check,
    fixture="k8s_host_mounts",
    target="inference container",
    rationale="Host mounts and namespaces break the container boundary around the model server.",
)
