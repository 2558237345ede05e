"""NetworkPolicy egress rules that allow everything, or addresses beyond the cluster and
the allowlist."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Mapping
from typing import Any

from aisec.core.findings import Mappings, Severity
from aisec.training.infra._model import ANYWHERE, InfraContext, InfraModel
from aisec.training.infra.rules._base import Hit, infra_rule


def _dns_only(rule: Mapping[str, Any]) -> bool:
    ports = rule.get("ports") or []
    return bool(ports) and all(isinstance(p, Mapping) and p.get("port") == 53 for p in ports)


def _problem(rule: Any, context: InfraContext) -> str | None:
    if not isinstance(rule, Mapping):
        return None
    peers = rule.get("to")
    if not peers:
        return None if _dns_only(rule) else "an egress rule without 'to' allows every destination"
    for peer in peers:
        block = peer.get("ipBlock") if isinstance(peer, Mapping) else None
        if not isinstance(block, Mapping):
            continue
        try:
            net = ipaddress.ip_network(str(block.get("cidr")), strict=False)
        except ValueError:
            return f"ipBlock {block.get('cidr')!r} is not a CIDR"
        if net in ANYWHERE:
            return f"ipBlock {net} allows the whole internet"
        if not context.egress_allowed(net):
            return f"ipBlock {net} is beyond the cluster and the egress allowlist"
    return None


def check(model: InfraModel, context: InfraContext) -> Iterator[Hit]:
    for p in model.policies:
        for i, rule in enumerate(p.spec.get("egress") or []):
            problem = _problem(rule, context)
            if problem is None:
                continue
            allowed = [str(c) for c in context.allow_cidrs] or ["<registry/logging CIDR>"]
            fix = "egress:\n" + "".join(
                f"- to:\n  - ipBlock:\n      cidr: {c}\n"
                "  ports:\n  - {port: 443, protocol: TCP}\n"
                for c in allowed
            )
            yield Hit(p.file, p.address, f"egress[{i}]: {problem}", str(dict(rule)), fix.rstrip())


RULE = infra_rule(
    id="AISEC-TRN-202",
    severity=Severity.HIGH,
    title="NetworkPolicy allows egress beyond serving needs",
    remediation="Allow egress only to DNS and the named endpoints (by ipBlock within the "
    "allowlist, or by namespace/pod selector).",
    mappings=Mappings(
        atlas=("AML.T0025", "AML.T0072"),
        saif=("SAIF-1", "SAIF-4"),
        nist_ai_rmf=("MEASURE 2.7", "MANAGE 1.3"),
    ),
    check=check,
    fixture="k8s_egress_open",
    target="inference container",
    rationale=(
        "Egress beyond the input queue and output endpoint lets a compromised server exfiltrate."
    ),
)
