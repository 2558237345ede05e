"""Model weights mounted writable into a serving container: a foothold rewrites the model."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from aisec.core.findings import Mappings, Severity
from aisec.training.infra._model import InfraContext, InfraModel
from aisec.training.infra.rules._base import Hit, infra_rule
from aisec.training.infra.rules._k8s import container_name

WEIGHTS = re.compile(r"model|weight|checkpoint|ckpt|safetensors|adapter|lora", re.IGNORECASE)
# volumes that only carry what the pod itself makes or small config, never shared weights
_EPHEMERAL = ("emptyDir", "configMap", "secret", "downwardAPI", "projected")


def _volume_read_only(volume: Mapping[str, Any]) -> bool:
    for key in ("persistentVolumeClaim", "nfs", "csi", "hostPath", "awsElasticBlockStore", "bind"):
        src = volume.get(key)
        if isinstance(src, Mapping) and src.get("readOnly") is True:
            return True
    return False


def check(model: InfraModel, context: InfraContext) -> Iterator[Hit]:
    del context
    for w in model.workloads:
        volumes = {
            str(v.get("name")): v for v in w.spec.get("volumes") or [] if isinstance(v, Mapping)
        }
        for c in w.containers():
            for m in c.get("volumeMounts") or []:
                if not isinstance(m, Mapping) or m.get("readOnly") is True:
                    continue
                name, path = str(m.get("name", "")), str(m.get("mountPath", ""))
                vol = volumes.get(name, {})
                if any(k in vol for k in _EPHEMERAL) or _volume_read_only(vol):
                    continue
                if not (WEIGHTS.search(name) or WEIGHTS.search(path)):
                    continue
                yield Hit(
                    w.file,
                    w.address,
                    f"container {container_name(c)!r} mounts volume {name!r} at {path} writable",
                    f"volumeMounts: - name: {name}, mountPath: {path}",
                    f"volumes:\n  - {name}:{path}:ro"
                    if w.kind == "ComposeService"
                    else f"volumeMounts:\n- name: {name}\n  mountPath: {path}\n  readOnly: true",
                )


RULE = infra_rule(
    id="AISEC-TRN-203",
    severity=Severity.HIGH,
    title="Writable model-weight mount in a container",
    remediation="Mount weights read-only (readOnly: true on the mount, and on the claim); "
    "load only digests the deploy gate cleared.",
    mappings=Mappings(
        atlas=("AML.T0018", "AML.T0076"),
        saif=("SAIF-1", "SAIF-4"),
        nist_ai_rmf=("MEASURE 2.7", "MANAGE 1.3"),
    ),
    check=check,
    fixture="k8s_writable_weights",
    target="inference container",
    rationale="A writable weight mount lets a compromised server replace the model it serves.",
)
