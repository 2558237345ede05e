"""The normalised view of infrastructure files that the rules read.

Terraform (plan, ``terraform show -json`` state, raw ``.tfstate``), AWS CLI JSON and
Kubernetes manifests all become these few records, so each rule is written once.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aisec.core.errors import InputError

__all__ = [
    "ADMIN_PORTS",
    "ANYWHERE",
    "Exposure",
    "InfraContext",
    "InfraModel",
    "NetPolicy",
    "NetRule",
    "Network",
    "Node",
    "ServiceAccount",
    "Storage",
    "Unverified",
    "Workload",
]

IPNet = ipaddress.IPv4Network | ipaddress.IPv6Network
ANYWHERE = (ipaddress.ip_network("0.0.0.0/0"), ipaddress.ip_network("::/0"))
ALL_PORTS = (0, 65535)
# ports that administer a node or a cluster; public facts of the protocols and products
ADMIN_PORTS: Mapping[int, str] = {
    22: "SSH",
    3389: "RDP",
    5985: "WinRM",
    5986: "WinRM over TLS",
    6443: "Kubernetes API",
    2379: "etcd",
    2380: "etcd peer",
    10250: "kubelet API",
    10255: "kubelet read-only API",
    10257: "kube-controller-manager",
    10259: "kube-scheduler",
    8265: "Ray dashboard / Jobs API",
}


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
    action: str = "allow"  # GCP firewall and Azure NSG rules can deny
    priority: int | None = None  # lower number first (GCP, Azure); None for AWS

    @property
    def all_traffic(self) -> bool:
        return self.protocol in ("-1", "all") or (
            self.ports == ALL_PORTS and self.protocol in ("tcp", "6")
        )

    def covers_port(self, port: int) -> bool:
        if self.protocol not in ("-1", "all", "tcp", "6"):
            return False
        return self.ports[0] <= port <= self.ports[1]

    def covers(self, other: NetRule) -> bool:
        """This rule's protocol and port range include ``other``'s."""
        if self.protocol not in ("-1", "all") and self.protocol != other.protocol:
            return False
        if self.protocol in ("-1", "all"):
            return True
        return self.ports[0] <= other.ports[0] and other.ports[1] <= self.ports[1]

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
    fix: str = ""


@dataclass(frozen=True, slots=True)
class Storage:
    file: str
    address: str
    kind: str  # bucket, volume, filesystem, storageclass
    encrypted: bool
    reason: str
    fix: str = ""
    public: bool = False  # readable by anyone (public ACL/IAM/container access)


@dataclass(frozen=True, slots=True)
class Exposure:
    """A port published beyond the cluster: a Service, Ingress, hostPort or public endpoint."""

    file: str
    address: str
    port: int
    how: str  # e.g. "Service type LoadBalancer", "NodePort 30022", "public API endpoint"
    sources: tuple[IPNet, ...] = ()  # empty: not restricted
    fix: str = ""


@dataclass(frozen=True, slots=True)
class Unverified:
    """A value a rule needs that the file does not state (an unresolved HCL expression)."""

    file: str
    address: str
    attribute: str
    expression: str


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

    networks_internal: bool | None = None  # compose: every network is internal

    @property
    def address(self) -> str:
        return f"{self.kind}/{self.namespace}/{self.name}"

    @property
    def role(self) -> str:
        """What the workload is, in words, so findings name its real kind."""
        if self.kind in ("Job", "CronJob"):
            return f"batch {self.kind} (training or data job)"
        if self.kind == "ComposeService":
            return "docker-compose service"
        return f"{self.kind}"

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
    exposures: list[Exposure] = field(default_factory=list)
    unverified: list[Unverified] = field(default_factory=list)

    def extend(self, other: InfraModel) -> None:
        self.net_rules += other.net_rules
        self.nodes += other.nodes
        self.storages += other.storages
        self.networks += other.networks
        self.workloads += other.workloads
        self.policies += other.policies
        self.service_accounts += other.service_accounts
        self.exposures += other.exposures
        self.unverified += other.unverified

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
                self.exposures,
            )
        )

    def apply_precedence(self) -> None:
        """Keep only what allow rules really let through (GCP firewall, Azure NSG).

        A deny rule of the same group and direction evaluated first (lower priority number;
        in GCP a deny also wins a tie) removes the peers it covers from an allow rule; an
        allow rule left without peers is dropped. Deny rules are then set aside.
        """
        denies = [r for r in self.net_rules if r.action == "deny"]
        kept: list[NetRule] = []
        for r in self.net_rules:
            if r.action == "deny":
                continue
            if r.priority is None:
                kept.append(r)
                continue
            first = [
                d
                for d in denies
                if d.group == r.group
                and d.direction == r.direction
                and d.priority is not None
                and (d.priority < r.priority or (d.priority == r.priority and d.style != "azure"))
                and d.covers(r)
            ]
            left = tuple(
                c for c in r.cidrs if not any(_within(c, o) for d in first for o in d.cidrs)
            )
            if left == r.cidrs:
                kept.append(r)
            elif left:
                kept.append(dataclasses.replace(r, cidrs=left))
        self.net_rules = kept


@dataclass(frozen=True)
class InfraContext:
    """What the files often cannot say: the cluster's own ranges and the egress allowlist.

    ``cluster`` is filled from ``--cluster-cidr`` and, when the files define them, the
    subnets (or, without subnets, the VPCs) they contain. ``serving_cidrs``,
    ``serving_hosts`` and ``serving_selectors`` are the serving pods' own endpoints (input
    queue, output endpoint): once any is given, a serving pod's egress to anything else,
    inside the cluster too, is a finding. ``admin_ports`` replaces the default list.
    """

    cluster: tuple[IPNet, ...] = ()
    allow_cidrs: tuple[IPNet, ...] = ()
    allow_hosts: tuple[str, ...] = ()
    cluster_from_files: bool = False
    admin_ports: Mapping[int, str] = field(default_factory=lambda: dict(ADMIN_PORTS))
    serving_cidrs: tuple[IPNet, ...] = ()
    serving_hosts: tuple[str, ...] = ()
    serving_selectors: tuple[Mapping[str, str], ...] = ()

    @classmethod
    def build(
        cls,
        cluster_cidrs: Iterable[str] = (),
        allow_egress: Iterable[str] = (),
        *,
        admin_ports: Mapping[int, str] | None = None,
        serving: Iterable[object] = (),
    ) -> InfraContext:
        cluster = tuple(parse_cidr(c, what="cluster CIDR") for c in cluster_cidrs)
        cidrs, hosts = _split_endpoints(allow_egress, "--allow-egress")
        s_items = list(serving)
        selectors = tuple(
            {str(k): str(v) for k, v in item.items()}
            for item in s_items
            if isinstance(item, Mapping)
        )
        s_cidrs, s_hosts = _split_endpoints(
            (str(i) for i in s_items if not isinstance(i, Mapping)), "serving endpoint"
        )
        return cls(
            cluster,
            tuple(cidrs),
            tuple(hosts),
            admin_ports=dict(ADMIN_PORTS if admin_ports is None else admin_ports),
            serving_cidrs=tuple(s_cidrs),
            serving_hosts=tuple(s_hosts),
            serving_selectors=selectors,
        )

    @classmethod
    def from_file(
        cls,
        path: Path,
        cluster_cidrs: Iterable[str] = (),
        allow_egress: Iterable[str] = (),
    ) -> InfraContext:
        """``--context FILE``: one YAML with ``cluster_cidrs``, ``registry``, ``logging``,
        ``allow_egress``, ``serving_endpoints`` (CIDRs, hosts or label maps) and
        ``admin_ports`` (a list of ports or a map port -> name). Flags add to it."""
        import yaml

        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise InputError(f"cannot read: {exc.strerror}", path=path) from exc
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise InputError("context file is not valid YAML", path=path) from exc
        if not isinstance(doc, Mapping):
            raise InputError("context file must be a YAML mapping", path=path)
        known = {"cluster_cidrs", "registry", "logging", "allow_egress", "serving_endpoints",
                 "admin_ports"}  # fmt: skip
        unknown = sorted(str(k) for k in doc if k not in known)
        if unknown:
            raise InputError(f"unknown context key(s) {', '.join(unknown)}", path=path)

        def items(key: str) -> list[Any]:
            v = doc.get(key) or []
            if not isinstance(v, list):
                raise InputError(f"context key {key} must be a list", path=path)
            return v

        ports_raw = doc.get("admin_ports")
        admin: dict[int, str] | None = None
        if ports_raw is not None:
            pairs = (
                ports_raw.items()
                if isinstance(ports_raw, Mapping)
                else (
                    (p, ADMIN_PORTS.get(int(p), f"port {p}") if str(p).isdigit() else "")
                    for p in (ports_raw if isinstance(ports_raw, list) else [ports_raw])
                )
            )
            admin = {}
            for port, name in pairs:
                if not str(port).isdigit() or not 0 < int(port) < 65536:
                    raise InputError(f"admin port {port!r} is not a port number", path=path)
                admin[int(port)] = str(name)
        return cls.build(
            [*map(str, items("cluster_cidrs")), *cluster_cidrs],
            [
                *map(str, items("registry") + items("logging") + items("allow_egress")),
                *allow_egress,
            ],
            admin_ports=admin,
            serving=items("serving_endpoints"),
        )

    def with_networks(self, networks: Sequence[Network]) -> InfraContext:
        subnets = [n.cidr for n in networks if n.kind == "subnet"]
        found = subnets or [n.cidr for n in networks if n.kind == "vpc"]
        if not found:
            return self
        return dataclasses.replace(self, cluster=(*self.cluster, *found), cluster_from_files=True)

    @property
    def serving_declared(self) -> bool:
        return bool(self.serving_cidrs or self.serving_hosts or self.serving_selectors)

    def inside_cluster(self, net: IPNet) -> bool:
        return any(_within(net, c) for c in self.cluster)

    def egress_allowed(self, net: IPNet) -> bool:
        return self.inside_cluster(net) or any(_within(net, c) for c in self.allow_cidrs)

    def admin_name(self, port: int) -> str | None:
        return self.admin_ports.get(port)


def _split_endpoints(items: Iterable[object], what: str) -> tuple[list[IPNet], list[str]]:
    cidrs: list[IPNet] = []
    hosts: list[str] = []
    for item in items:
        text = str(item).strip()
        try:
            cidrs.append(ipaddress.ip_network(text, strict=False))
        except ValueError:
            if not text or any(ch.isspace() or ch in "/:" for ch in text):
                raise InputError(f"{what} {text!r} is neither a CIDR nor a host name") from None
            hosts.append(text.lower())
    return cidrs, hosts


def _within(net: IPNet, outer: IPNet) -> bool:
    return net.version == outer.version and net.subnet_of(outer)  # type: ignore[arg-type]
