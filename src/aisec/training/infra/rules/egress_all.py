"""All-traffic egress to destinations beyond the cluster and the allowlist.

Catches the per-rule form ``aws_vpc_security_group_egress_rule`` with ``ip_protocol = "-1"``
as well as inline ``egress`` blocks and ``aws_security_group_rule``.
"""

from __future__ import annotations

from collections.abc import Iterator

from aisec.core.findings import Mappings, Severity
from aisec.training.infra._model import InfraContext, InfraModel, IPNet, NetRule
from aisec.training.infra.rules._base import Hit, infra_rule, net_fix

EXFIL = Mappings(
    atlas=("AML.T0025", "AML.T0035"),
    saif=("SAIF-1",),
    nist_ai_rmf=("MEASURE 2.7", "MANAGE 1.3"),
)


def allowed_peers(context: InfraContext) -> list[str]:
    peers = [str(c) for c in context.allow_cidrs]
    return peers or ["<registry/logging endpoint CIDR>"]


def host_note(context: InfraContext) -> str:
    if context.allow_hosts:
        return (
            " Host names cannot be enforced by a security group: send traffic to "
            f"{', '.join(context.allow_hosts)} through an egress proxy or VPC endpoints."
        )
    return ""


def disallowed(r: NetRule, context: InfraContext) -> list[IPNet]:
    return [c for c in r.cidrs if not context.egress_allowed(c)]


def check(model: InfraModel, context: InfraContext) -> Iterator[Hit]:
    for r in model.net_rules:
        if r.direction != "egress" or not r.all_traffic:
            continue
        bad = disallowed(r, context)
        if not bad:
            continue
        yield Hit(
            r.file,
            r.address,
            f"{r.text(bad)}; the allowlist is "
            f"{', '.join(allowed_peers(context))}.{host_note(context)}",
            r.text(),
            net_fix(r, allowed_peers(context), ports=(443, 443), proto="tcp"),
        )


RULE = infra_rule(
    id="AISEC-TRN-104",
    severity=Severity.HIGH,
    title="Allow-all egress from training nodes",
    remediation="Replace allow-all egress with HTTPS to the model registry and logging "
    "endpoints only (their CIDRs, VPC endpoints or prefix lists); a compromised node must "
    "not be able to send weights anywhere else.",
    mappings=EXFIL,
    check=check,
    fixture="egress_all",
    target="training cluster",
    rationale="A compromised node with open egress can send the weights and data anywhere.",
)
