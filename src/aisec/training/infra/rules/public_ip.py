"""Training nodes (or the subnets/templates they launch from) with public IP addresses."""

from __future__ import annotations

from collections.abc import Iterator

from aisec.core.findings import Mappings, Severity
from aisec.training.infra._model import InfraContext, InfraModel
from aisec.training.infra.rules._base import Hit, infra_rule

_FIX = {
    "aws_instance": "associate_public_ip_address = false",
    "aws_subnet": "map_public_ip_on_launch = false",
    "aws_launch_template": "network_interfaces {\n  associate_public_ip_address = false\n}",
    "aws_eip": "# remove the aws_eip; reach the node through a private path",
}


def check(model: InfraModel, context: InfraContext) -> Iterator[Hit]:
    del context
    for n in model.nodes:
        if not n.public:
            continue
        kind = n.address.split(".")[0]
        fix = n.fix or _FIX.get(
            kind, "launch the node without a public IP (private subnet, NAT for egress)"
        )
        yield Hit(
            n.file,
            n.address,
            f"{n.reason}: the node is addressable from the internet",
            n.reason,
            fix,
        )


RULE = infra_rule(
    id="AISEC-TRN-106",
    severity=Severity.HIGH,
    title="Public IP on a training node",
    remediation="Run training nodes in private subnets without public addresses; send "
    "allowed egress through NAT or VPC endpoints.",
    mappings=Mappings(
        atlas=("AML.T0049", "AML.T0025"),
        saif=("SAIF-1",),
        nist_ai_rmf=("MEASURE 2.7",),
    ),
    check=check,
    fixture="public_ip",
    target="training cluster",
    rationale=(
        "A public address makes a training node reachable and able to send from outside the VPC."
    ),
)
