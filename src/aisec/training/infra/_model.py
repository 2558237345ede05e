"""The normalised view of infrastructure files that the rules read.

Terraform (plan, ``terraform show -json`` state, raw ``.tfstate``), AWS CLI JSON and
Kubernetes manifests all become these few records, so each rule is written once.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aisec.core.errors import InputError

__all__ = [
    "ANYWHERE",
    "InfraContext",
    "InfraModel",
    "NetPolicy",
    "NetRule",
    "Network",
    "Node",
    "ServiceAccount",
    "Storage",
    "Workload",
]

IPNet = ipaddress.IPv4Network | ipaddress.IPv6Network
ANYWHERE = (ipaddress.ip_network("0.0.0.0/0"), ipaddress.ip_network("::/0"))
ALL_PORTS = (0, 65535)


def parse_cidr(text: str, *, what: str = "CIDR") -> IPNet:
    try:
        return ipaddress.ip_network(str(text).strip(), strict=False)
    except ValueError as exc:
        raise InputError(f"{what} {text!r} is not an IP network like 10.0.0.0/16") from exc


@dataclass(frozen=True, slots=True)
class NetRule:
    """One security-group rule: direction, protocol, port range and its CIDR peers.

    ``style`` says how the source file wrote it, so a fix is proposed in the same form:
    ``inline`` (an ``ingress``/``egress`` block of ``aws_security_group``),
    ``sg_rule`` (``aws_security_group_rule``), ``vpc_rule``
    (``aws_vpc_security_group_{ingress,egress}_rule``) or ``aws_cli``.
    """

    file: str
    address: str
    direction: str
    protocol: str
    ports: tuple[int, int]
    cidrs: tuple[IPNet, ...]
    style: str
    group: str = ""

    @property
    def all_traffic(self) -> bool:
        return self.protocol in ("-1", "all") or (
            self.ports == ALL_PORTS and self.protocol in ("tcp", "6")
        )

    def covers_port(self, port: int) -> bool:
        if self.protocol not in ("-1", "all", "tcp", "6"):
            return False
        return self.ports[0] <= port <= self.ports[1]

    def text(self, cidrs: Sequence[IPNet] | None = None) -> str:
        peer = "to" if self.direction == "egress" else "from"
        shown = ", ".join(str(c) for c in (self.cidrs if cidrs is None else cidrs))
        proto = "all" if self.protocol in ("-1", "all") else self.protocol
        if proto == "all":
            return f"{self.direction} all traffic {peer} {shown}"
        lo, hi = self.ports
        port = str(lo) if lo == hi else f"{lo}-{hi}"
        return f"{self.direction} {proto}/{port} {peer} {shown}"


@dataclass(frozen=True, slots=True)
class Node:
    """A compute node (or the subnet/template it is launched from) with a public IP."""

    file: str
    address: str
    reason: str
    public: bool


@dataclass(frozen=True, slots=True)
class Storage:
    file: str
    address: str
    kind: str  # bucket, volume, filesystem
    encrypted: bool
    reason: str


@dataclass(frozen=True, slots=True)
class Network:
    file: str
    address: str
    cidr: IPNet
    kind: str  # vpc or subnet


@dataclass(frozen=True, slots=True)
class Workload:
    """A Kubernetes workload's pod template: ``Kind/namespace/name``."""

    file: str
    kind: str
    namespace: str
    name: str
    labels: Mapping[str, str]
    spec: Mapping[str, Any]

    @property
    def address(self) -> str:
        return f"{self.kind}/{self.namespace}/{self.name}"

    def containers(self) -> list[Mapping[str, Any]]:
        out: list[Mapping[str, Any]] = []
        for key in ("initContainers", "containers"):
            items = self.spec.get(key) or []
            out.extend(c for c in items if isinstance(c, Mapping))
        return out


@dataclass(frozen=True, slots=True)
class NetPolicy:
    file: str
    namespace: str
    name: str
    spec: Mapping[str, Any]

    @property
    def address(self) -> str:
        return f"NetworkPolicy/{self.namespace}/{self.name}"

    @property
    def policy_types(self) -> set[str]:
        types = self.spec.get("policyTypes")
        if isinstance(types, list) and types:
            return {str(t) for t in types}
        # the API's default: Ingress always, Egress when egress rules are present
        return {"Ingress", "Egress"} if "egress" in self.spec else {"Ingress"}

    def selects(self, workload: Workload) -> bool:
        if workload.namespace != self.namespace:
            return False
        selector = self.spec.get("podSelector") or {}
        return label_selector_matches(selector, workload.labels)


@dataclass(frozen=True, slots=True)
class ServiceAccount:
    file: str
    namespace: str
    name: str
    automount: bool | None


def label_selector_matches(selector: object, labels: Mapping[str, str]) -> bool:
    """Kubernetes label-selector semantics (matchLabels and matchExpressions)."""
    if not isinstance(selector, Mapping):
        return False
    match = selector.get("matchLabels") or {}
    if not isinstance(match, Mapping):
        return False
    if any(labels.get(str(k)) != str(v) for k, v in match.items()):
        return False
    for expr in selector.get("matchExpressions") or []:
        if not isinstance(expr, Mapping):
            return False
        key, op = str(expr.get("key")), str(expr.get("operator"))
        values = {str(v) for v in expr.get("values") or []}
        present = key in labels
        ok = {
            "In": present and labels.get(key) in values,
            "NotIn": not present or labels.get(key) not in values,
            "Exists": present,
            "DoesNotExist": not present,
        }.get(op, False)
        if not ok:
            return False
    return True


@dataclass
class InfraModel:
    """Everything read from the input files."""

    net_rules: list[NetRule] = field(default_factory=list)
    nodes: list[Node] = field(default_factory=list)
    storages: list[Storage] = field(default_factory=list)
    networks: list[Network] = field(default_factory=list)
    workloads: list[Workload] = field(default_factory=list)
    policies: list[NetPolicy] = field(default_factory=list)
    service_accounts: list[ServiceAccount] = field(default_factory=list)

    def extend(self, other: InfraModel) -> None:
        self.net_rules += other.net_rules
        self.nodes += other.nodes
        self.storages += other.storages
        self.networks += other.networks
        self.workloads += other.workloads
        self.policies += other.policies
        self.service_accounts += other.service_accounts

    def size(self) -> int:
        return sum(
            len(x)
            for x in (
                self.net_rules,
                self.nodes,
                self.storages,
                self.networks,
                self.workloads,
                self.policies,
                self.service_accounts,
            )
        )


@dataclass(frozen=True)
class InfraContext:
    """What the files often cannot say: the cluster's own ranges and the egress allowlist.

    ``cluster`` is filled from ``--cluster-cidr`` and, when the files define them, the
    subnets (or, without subnets, the VPCs) they contain.
    """

    cluster: tuple[IPNet, ...] = ()
    allow_cidrs: tuple[IPNet, ...] = ()
    allow_hosts: tuple[str, ...] = ()
    cluster_from_files: bool = False

    @classmethod
    def build(
        cls, cluster_cidrs: Iterable[str] = (), allow_egress: Iterable[str] = ()
    ) -> InfraContext:
        cluster = tuple(parse_cidr(c, what="cluster CIDR") for c in cluster_cidrs)
        cidrs: list[IPNet] = []
        hosts: list[str] = []
        for item in allow_egress:
            text = str(item).strip()
            try:
                cidrs.append(ipaddress.ip_network(text, strict=False))
            except ValueError:
                if not text or any(ch.isspace() or ch in "/:" for ch in text):
                    raise InputError(
                        f"--allow-egress {text!r} is neither a CIDR nor a host name"
                    ) from None
                hosts.append(text.lower())
        return cls(cluster, tuple(cidrs), tuple(hosts))

    def with_networks(self, networks: Sequence[Network]) -> InfraContext:
        subnets = [n.cidr for n in networks if n.kind == "subnet"]
        found = subnets or [n.cidr for n in networks if n.kind == "vpc"]
        if not found:
            return self
        return InfraContext(
            (*self.cluster, *found), self.allow_cidrs, self.allow_hosts, cluster_from_files=True
        )

    def inside_cluster(self, net: IPNet) -> bool:
        return any(_within(net, c) for c in self.cluster)

    def egress_allowed(self, net: IPNet) -> bool:
        return self.inside_cluster(net) or any(_within(net, c) for c in self.allow_cidrs)


def _within(net: IPNet, outer: IPNet) -> bool:
    return net.version == outer.version and net.subnet_of(outer)  # type: ignore[arg-type]
