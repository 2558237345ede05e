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


def _serving_problem(rule: Any, context: InfraContext) -> str | None:
    """With the serving endpoints declared, every peer must be one of them (or DNS)."""
    if not isinstance(rule, Mapping) or _dns_only(rule):
        return None
    for peer in rule.get("to") or []:
        if not isinstance(peer, Mapping):
            continue
        block = peer.get("ipBlock")
        if isinstance(block, Mapping):
            try:
                net = ipaddress.ip_network(str(block.get("cidr")), strict=False)
            except ValueError:
                continue
            ok = list(context.serving_cidrs) + list(context.allow_cidrs)
            if not any(net.version == o.version and net.subnet_of(o) for o in ok):  # type: ignore[arg-type]
                return f"ipBlock {net} is not the input queue or output endpoint"
            continue
        labels: dict[str, str] = {}
        for key in ("podSelector", "namespaceSelector"):
            sel = peer.get(key)
            if isinstance(sel, Mapping) and isinstance(sel.get("matchLabels"), Mapping):
                labels.update({str(k): str(v) for k, v in sel["matchLabels"].items()})
        if not any(
            all(labels.get(k) == v for k, v in want.items()) for want in context.serving_selectors
        ):
            shown = ", ".join(f"{k}={v}" for k, v in sorted(labels.items())) or "any pod"
            return f"pods {shown} are not the input queue or output endpoint"
    return None


def check(model: InfraModel, context: InfraContext) -> Iterator[Hit]:
    for p in model.policies:
        serving = context.serving_declared and any(
            p.selects(w) and w.kind not in ("Job", "CronJob") for w in model.workloads
        )
        for i, rule in enumerate(p.spec.get("egress") or []):
            problem = _problem(rule, context)
            if problem is None and serving:
                problem = _serving_problem(rule, context)
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
