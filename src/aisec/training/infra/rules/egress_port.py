"""Egress on named ports (e.g. 443) to destinations beyond the cluster and the allowlist."""

from __future__ import annotations

from collections.abc import Iterator

from aisec.core.findings import Severity
from aisec.training.infra._model import InfraContext, InfraModel
from aisec.training.infra.rules._base import Hit, infra_rule, net_fix
from aisec.training.infra.rules.egress_all import EXFIL, allowed_peers, disallowed, host_note


def check(model: InfraModel, context: InfraContext) -> Iterator[Hit]:
    for r in model.net_rules:
        if r.direction != "egress" or r.all_traffic:
            continue  # all traffic is AISEC-TRN-104's
        bad = disallowed(r, context)
        if not bad:
            continue
        yield Hit(
            r.file,
            r.address,
            f"{r.text(bad)} is beyond the egress allowlist "
            f"({', '.join(allowed_peers(context))}); HTTPS to anywhere carries weights out as "
            f"well as any other port.{host_note(context)}",
            r.text(),
            net_fix(r, allowed_peers(context)),
        )


RULE = infra_rule(
    id="AISEC-TRN-105",
    severity=Severity.HIGH,
    title="Egress from training nodes beyond the allowlist",
    remediation="Limit the destination to the allowlisted endpoints (model registry, "
    "logging) by CIDR, VPC endpoint or prefix list.",
    mappings=EXFIL,
    check=check,
    fixture="egress_port",
    target="training cluster",
    rationale="Egress beyond the registry and logging endpoints is an exfiltration path.",
)
