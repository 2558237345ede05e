"""The rule record and the helpers rules share (fix text in the style of the source)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from aisec.core.controls import Rule
from aisec.core.findings import Finding, Mappings, Severity, Subject
from aisec.training.infra._model import InfraContext, InfraModel, IPNet, NetRule

__all__ = ["Hit", "InfraCheck", "infra_rule", "net_fix"]


@dataclass(frozen=True, slots=True)
class Hit:
    """One resource breaking a rule: where, what it says now, and the fixed text."""

    file: str
    address: str
    detail: str
    current: str
    fix: str


Check = Callable[[InfraModel, InfraContext], Iterable[Hit]]


@dataclass(frozen=True, slots=True)
class InfraCheck:
    """A :class:`~aisec.core.controls.Rule` and the small check function that fires it.

    ``fixture`` names its test folder under tests/training/fixtures/ (a ``bad`` file it
    must flag and a ``good`` one it must not); ``target`` is what it protects.
    """

    rule: Rule
    check: Check
    fixture: str
    target: str  # "training cluster" or "inference container"

    @property
    def id(self) -> str:
        return self.rule.id

    @property
    def title(self) -> str:
        return self.rule.title

    @property
    def severity(self) -> Severity:
        return self.rule.severity

    @property
    def remediation(self) -> str:
        return self.rule.remediation

    @property
    def mappings(self) -> Mappings:
        return self.rule.mappings

    def run(self, model: InfraModel, context: InfraContext) -> list[Finding]:
        return [
            Finding(
                id=self.rule.id,
                stage="training",
                severity=self.rule.severity,
                title=self.rule.title,
                detail=f"{hit.address}: {hit.detail}",
                subject=Subject(path=hit.file),
                remediation=f"{self.rule.remediation} Fixed rule:\n{hit.fix}",
                mappings=self.rule.mappings,
                evidence={
                    "file": hit.file,
                    "resource": hit.address,
                    "rule": self.rule.id,
                    "current": hit.current,
                    "fix": hit.fix,
                },
            )
            for hit in self.check(model, context)
        ]


def infra_rule(
    *,
    id: str,
    severity: Severity,
    title: str,
    remediation: str,
    mappings: Mappings,
    check: Check,
    fixture: str,
    target: str,
    rationale: str = "",
) -> InfraCheck:
    """Declare an infrastructure rule (a core :class:`Rule`) with its check."""
    rule = Rule(id, "training", severity, title, remediation, mappings, rationale)
    return InfraCheck(rule, check, fixture, target)


def _ports(rule: NetRule, ports: tuple[int, int] | None, proto: str | None) -> tuple[str, int, int]:
    p = proto or ("tcp" if rule.protocol in ("-1", "all") else rule.protocol)
    lo, hi = ports or rule.ports
    return p, lo, hi


def net_fix(
    rule: NetRule,
    cidrs: Sequence[IPNet | str],
    *,
    ports: tuple[int, int] | None = None,
    proto: str | None = None,
) -> str:
    """The rule rewritten with ``cidrs`` (and optionally other ports) in the file's style."""
    p, lo, hi = _ports(rule, ports, proto)
    peers = [str(c) for c in cidrs]
    quoted = ", ".join(json.dumps(c) for c in peers)
    if rule.style in ("inline", "sg_rule"):
        head = f"{rule.direction} {{" if rule.style == "inline" else f"# {rule.address}"
        lines = [head]
        if rule.style == "sg_rule":
            lines.append(f'  type        = "{rule.direction}"')
        lines += [
            f"  from_port   = {lo}",
            f"  to_port     = {hi}",
            f'  protocol    = "{p}"',
            f"  cidr_blocks = [{quoted}]",
        ]
        if rule.style == "inline":
            lines.append("}")
        return "\n".join(lines)
    if rule.style == "vpc_rule":
        kind = rule.address.split(".")[0] if "." in rule.address else "aws_vpc_security_group_rule"
        blocks = []
        for i, c in enumerate(peers):
            family = "cidr_ipv6" if ":" in c else "cidr_ipv4"
            name = rule.address.split(".", 1)[-1].split("[")[0] + (
                f"_{i}" if len(peers) > 1 else ""
            )
            blocks.append(
                f'resource "{kind}" "{name}" {{\n'
                f"  security_group_id = <same as before>\n"
                f'  {family} = "{c}"\n'
                f"  from_port   = {lo}\n  to_port     = {hi}\n"
                f'  ip_protocol = "{p}"\n}}'
            )
        return "\n".join(blocks)
    ranges = [{"CidrIpv6" if ":" in c else "CidrIp": c} for c in peers]
    perm = {"IpProtocol": p, "FromPort": lo, "ToPort": hi, "IpRanges": ranges}
    key = "IpPermissionsEgress" if rule.direction == "egress" else "IpPermissions"
    return json.dumps({key: [perm]})


def cluster_or_placeholder(context: InfraContext) -> list[IPNet | str]:
    return list(context.cluster) or ["<cluster CIDR>"]


def cluster_note(context: InfraContext) -> str:
    if context.cluster:
        return f"cluster range {', '.join(str(c) for c in context.cluster)}"
    return "no cluster range known (pass --cluster-cidr or include the VPC/subnets)"
