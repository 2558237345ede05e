"""Helpers the Kubernetes rules share: effective security context, fix snippets."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aisec.core.findings import Mappings
from aisec.training.infra._model import Workload

__all__ = ["CONTAINER", "container_name", "effective", "snippet"]

CONTAINER = Mappings(
    atlas=("AML.T0105", "AML.T0018"),
    saif=("SAIF-1", "SAIF-4"),
    nist_ai_rmf=("MEASURE 2.7", "MANAGE 1.3"),
)


def container_name(c: Mapping[str, Any]) -> str:
    return str(c.get("name", "?"))


def effective(w: Workload, c: Mapping[str, Any], key: str) -> Any:
    """A securityContext field: the container's value, else the pod's."""
    csc = c.get("securityContext")
    if isinstance(csc, Mapping) and key in csc:
        return csc[key]
    psc = w.spec.get("securityContext")
    if isinstance(psc, Mapping):
        return psc.get(key)
    return None


def snippet(*lines: str) -> str:
    return "\n".join(lines)
