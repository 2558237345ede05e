"""GCP and Azure Terraform resources (plan JSON or HCL), more AWS resources, and the
gcloud / az CLI JSON exports, into the normalised model.

Provider defaults that matter are public facts of the providers: a GCP VPC's implied
allow-egress rule (priority 65535) and an Azure NSG's ``AllowInternetOutBound`` default
rule (priority 65001) let everything out unless a deny rule comes first; a GKE or AKS
control plane is public unless made private or limited to authorised networks; an EKS
endpoint is public to 0.0.0.0/0 by default.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aisec.training.infra._hcl import Unresolved
from aisec.training.infra._model import (
    ADMIN_PORTS,
    ALL_PORTS,
    ANYWHERE,
    Exposure,
    InfraModel,
    IPNet,
    NetRule,
    Network,
    Node,
    Storage,
    Unverified,
)

__all__ = [
    "Resource",
    "extra_aws",
    "is_az_cli",
    "is_gcloud",
    "parse_az_cli",
    "parse_azure",
    "parse_gcloud",
    "parse_gcp",
    "unverified",
]

_PUBLIC_MEMBERS = ("allUsers", "allAuthenticatedUsers")
# Azure service tags for "any address" and for the virtual network itself
_AZ_ANY = {"*", "internet", "any", "0.0.0.0/0"}
_AZ_INSIDE = {"virtualnetwork", "azureloadbalancer"}


@dataclass(frozen=True, slots=True)
class Resource:
    address: str
    type: str
    values: Mapping[str, Any]
    file: str = ""


def _first(v: Any) -> Mapping[str, Any]:
    """A nested block (a one-element list in plan JSON and HCL alike)."""
    if isinstance(v, list) and v and isinstance(v[0], Mapping):
        return v[0]
    return v if isinstance(v, Mapping) else {}


def _list(v: Any) -> list[Any]:
    if v is None:
        return []
    return list(v) if isinstance(v, list) else [v]


def _net(text: Any) -> IPNet | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None


def _port_specs(specs: Iterable[Any]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for spec in specs:
        text = str(spec).strip()
        if text in ("*", ""):
            out.append(ALL_PORTS)
            continue
        lo, _, hi = text.partition("-")
        if lo.isdigit() and (not hi or hi.isdigit()):
            out.append((int(lo), int(hi or lo)))
    return out or [ALL_PORTS]


def _proto(value: Any) -> str:
    text = str(value if value is not None else "all").lower()
    return {"*": "-1", "all": "-1", "6": "tcp", "17": "udp", "1": "icmp"}.get(text, text)


def _ref_of(refs: Mapping[str, set[str]], r: Resource, kind: str) -> str | None:
    for x in sorted(refs.get(r.address.split("[")[0], set())):
        head = x.split(f"{kind}.", 1)
        if len(head) == 2:
            name = head[1].split(".")[0]
            return f"{head[0]}{kind}.{name}"
    return None


def _admin_in(ports: Sequence[tuple[int, int]]) -> list[int]:
    """Single ports as they are; a range by the default admin ports it contains."""
    singles = {lo for lo, hi in ports if lo == hi}
    ranged = {p for p in ADMIN_PORTS for lo, hi in ports if lo < hi and lo <= p <= hi}
    return sorted(singles | ranged)


# ---------------------------------------------------------------------------------- AWS
def extra_aws(
    resources: Sequence[Resource], refs: Mapping[str, set[str]], model: InfraModel
) -> None:
    lbs = {r.address: r for r in resources if r.type in ("aws_lb", "aws_alb")}
    for r in resources:
        v = r.values
        if r.type == "aws_eks_cluster":
            vpc = _first(v.get("vpc_config"))
            if vpc.get("endpoint_public_access", True) is not False:
                cidrs = tuple(
                    n for c in _list(vpc.get("public_access_cidrs")) if (n := _net(c)) is not None
                )
                model.exposures.append(
                    Exposure(
                        r.file,
                        r.address,
                        6443,
                        "public EKS API endpoint (endpoint_public_access)",
                        cidrs or (ANYWHERE[0],),
                        "vpc_config {\n  endpoint_private_access = true\n"
                        "  endpoint_public_access  = false\n}",
                    )
                )
        elif r.type in ("aws_lb_listener", "aws_alb_listener"):
            port = v.get("port")
            lb = _ref_of(refs, r, "aws_lb") or _ref_of(refs, r, "aws_alb")
            internal = lb is not None and lb in lbs and lbs[lb].values.get("internal") is True
            if isinstance(port, int) and not internal:
                model.exposures.append(
                    Exposure(
                        r.file,
                        r.address,
                        port,
                        f"listener on an internet-facing load balancer ({lb or 'aws_lb'})",
                        (ANYWHERE[0],),
                        "# remove the listener, or set internal = true on the aws_lb",
                    )
                )
        elif r.type in ("kubernetes_storage_class", "kubernetes_storage_class_v1"):
            meta = _first(v.get("metadata"))
            model.storages.extend(
                storage_class(
                    r.file,
                    f"{r.address} ({meta.get('name', '?')})",
                    v.get("storage_provisioner"),
                    v.get("parameters"),
                    style="terraform",
                )
            )


def storage_class(
    file: str, address: str, provisioner: Any, params: Any, *, style: str
) -> list[Storage]:
    """A StorageClass (Kubernetes or Terraform) whose volumes are not encrypted."""
    p = params if isinstance(params, Mapping) else {}
    flags = {k: v for k, v in p.items() if str(k).lower() in ("encrypted", "encryption")}
    off = [k for k, val in flags.items() if str(val).lower() in ("false", "0", "no", "off")]
    fix = (
        'parameters = {\n  encrypted = "true"\n  kmsKeyId  = <your KMS key ARN>\n}'
        if style == "terraform"
        else 'parameters:\n  encrypted: "true"\n  kmsKeyId: <your KMS key ARN>'
    )
    if off:
        reason = ", ".join(f'{k}: "{p[k]}"' for k in off)
        return [Storage(file, address, "storageclass", False, reason, fix)]
    ebs = str(provisioner) in ("kubernetes.io/aws-ebs", "ebs.csi.aws.com")
    if ebs and not flags:
        return [
            Storage(
                file,
                address,
                "storageclass",
                False,
                f'{provisioner} without encrypted: "true" (EBS volumes are then '
                "encrypted only if the account turned on encryption by default)",
                fix,
            )
        ]
    return []


# ---------------------------------------------------------------------------------- GCP
def _gcp_network_key(value: Any, names: Mapping[str, str], refs_of: str | None) -> str:
    if refs_of:
        return refs_of
    text = str(value or "default").rstrip("/").rsplit("/", 1)[-1]
    return names.get(text, text)


def parse_gcp(
    resources: Sequence[Resource], refs: Mapping[str, set[str]], model: InfraModel
) -> None:
    networks = {r.address: r for r in resources if r.type == "google_compute_network"}
    names = {
        str(r.values.get("name")): r.address
        for r in networks.values()
        if isinstance(r.values.get("name"), str)
    }
    nats = [r for r in resources if r.type == "google_compute_router_nat"]
    fw_rules: list[NetRule] = []
    public_buckets: dict[str, str] = {}
    for r in resources:
        v = r.values
        if r.type == "google_compute_firewall":
            group = _gcp_network_key(
                v.get("network"), names, _ref_of(refs, r, "google_compute_network")
            )
            fw_rules.extend(_gcp_firewall(r.file, r.address, v, group, "gcp"))
        elif r.type == "google_compute_subnetwork":
            if (n := _net(v.get("ip_cidr_range"))) is not None:
                model.networks.append(Network(r.file, r.address, n, "subnet"))
        elif r.type in ("google_compute_instance", "google_compute_instance_template"):
            for i, ni in enumerate(_list(v.get("network_interface"))):
                if isinstance(ni, Mapping) and _list(ni.get("access_config")):
                    model.nodes.append(
                        Node(
                            r.file,
                            r.address,
                            f"network_interface[{i}] has an access_config (an external IP)",
                            public=True,
                            fix="network_interface {\n  subnetwork = <private subnet>\n"
                            "  # no access_config block: no external IP\n}",
                        )
                    )
        elif r.type == "google_container_cluster":
            _gke_cluster(r, model)
        elif r.type == "google_container_node_pool":
            net = _first(v.get("network_config"))
            if net.get("enable_private_nodes") is False:
                model.nodes.append(
                    Node(
                        r.file,
                        r.address,
                        "network_config.enable_private_nodes = false (nodes get external IPs)",
                        public=True,
                        fix="network_config {\n  enable_private_nodes = true\n}",
                    )
                )
        elif r.type == "google_storage_bucket":
            if v.get("uniform_bucket_level_access") is not True:
                model.storages.append(
                    Storage(
                        r.file,
                        r.address,
                        "bucket",
                        True,
                        "uniform_bucket_level_access is not true: object ACLs can make "
                        "objects public and bypass IAM",
                        "uniform_bucket_level_access = true\n"
                        'public_access_prevention    = "enforced"',
                        public=True,
                    )
                )
        elif r.type in (
            "google_storage_bucket_iam_member",
            "google_storage_bucket_iam_binding",
            "google_storage_bucket_access_control",
            "google_storage_default_object_access_control",
        ):
            members = [*_list(v.get("members")), v.get("member"), v.get("entity")]
            public = [str(m) for m in members if str(m) in _PUBLIC_MEMBERS]
            if public:
                bucket = _ref_of(refs, r, "google_storage_bucket") or str(v.get("bucket"))
                public_buckets[r.address] = f"{bucket} grants {v.get('role')} to {public[0]}"
        elif r.type == "google_compute_forwarding_rule":
            scheme = str(v.get("load_balancing_scheme") or "EXTERNAL").upper()
            if not scheme.startswith("EXTERNAL"):
                continue
            ports = _port_specs(
                [v["port_range"]] if v.get("port_range") else _list(v.get("ports")) or ["*"]
            )
            for port in _admin_in(ports):
                model.exposures.append(
                    Exposure(
                        r.file,
                        r.address,
                        port,
                        f"external forwarding rule (load_balancing_scheme {scheme})",
                        (ANYWHERE[0],),
                        'load_balancing_scheme = "INTERNAL"',
                    )
                )
            if _ref_of(refs, r, "google_compute_target_instance"):
                model.nodes.append(
                    Node(
                        r.file,
                        r.address,
                        "an external forwarding rule sends internet traffic to a VM "
                        "(google_compute_target_instance) after it was created",
                        public=True,
                        fix="# remove the forwarding rule; reach the VM through IAP or a "
                        "private load balancer",
                    )
                )
    for address, why in public_buckets.items():
        file = next(r.file for r in resources if r.address == address)
        model.storages.append(
            Storage(
                file,
                address,
                "bucket",
                True,
                why,
                "# grant the role to named service accounts, never allUsers or "
                "allAuthenticatedUsers",
                public=True,
            )
        )
    # GCP's implied rule: every VPC network allows all egress at priority 65535
    for address, network in networks.items():
        nat = [n.address for n in nats]
        via = f" (out through Cloud NAT {', '.join(nat)})" if nat else ""
        fw_rules.append(
            NetRule(
                network.file,
                f"{address} (implied allow-egress rule{via})",
                "egress",
                "-1",
                ALL_PORTS,
                (ANYWHERE[0],),
                "gcp",
                group=address,
                priority=65535,
            )
        )
    model.net_rules.extend(fw_rules)


def _gcp_firewall(
    file: str, address: str, v: Mapping[str, Any], group: str, style: str
) -> list[NetRule]:
    if v.get("disabled") is True:
        return []
    direction = "egress" if str(v.get("direction") or "INGRESS").upper() == "EGRESS" else "ingress"
    key = "destination_ranges" if direction == "egress" else "source_ranges"
    ranges = _list(v.get(key))
    if direction == "egress" and not ranges:
        ranges = ["0.0.0.0/0"]  # GCP's default destination for an egress rule
    cidrs = tuple(n for c in ranges if (n := _net(c)) is not None)
    if not cidrs:
        return []
    priority = v.get("priority")
    prio = priority if isinstance(priority, int) else 1000
    targeted = any(v.get(k) for k in ("target_tags", "target_service_accounts"))
    out: list[NetRule] = []
    for action in ("allow", "deny"):
        # a deny aimed at some instances (tags, service accounts) shadows nothing here:
        # the allow still reaches the others
        g = f"{group}#targeted" if action == "deny" and targeted else group
        for block in _list(v.get(action)):
            if not isinstance(block, Mapping):
                continue
            proto = _proto(block.get("protocol"))
            out.extend(
                NetRule(file, address, direction, proto, ports, cidrs, style, g, action, prio)
                for ports in _port_specs(_list(block.get("ports")) or ["*"])
            )
    return out


def _gke_cluster(r: Resource, model: InfraModel) -> None:
    v = r.values
    private = _first(v.get("private_cluster_config"))
    if private.get("enable_private_nodes") is not True:
        model.nodes.append(
            Node(
                r.file,
                r.address,
                "private_cluster_config.enable_private_nodes is not true (nodes get external IPs)",
                public=True,
                fix="private_cluster_config {\n  enable_private_nodes    = true\n"
                "  enable_private_endpoint = true\n  master_ipv4_cidr_block  = <a /28>\n}",
            )
        )
    if private.get("enable_private_endpoint") is not True:
        auth = _first(v.get("master_authorized_networks_config"))
        cidrs = tuple(
            n
            for b in _list(auth.get("cidr_blocks"))
            if isinstance(b, Mapping) and (n := _net(b.get("cidr_block"))) is not None
        )
        if not auth or not cidrs or any(c in ANYWHERE for c in cidrs):
            model.exposures.append(
                Exposure(
                    r.file,
                    r.address,
                    6443,
                    "public GKE control plane (no private endpoint, no authorised networks)",
                    cidrs if auth and cidrs else (ANYWHERE[0],),
                    "private_cluster_config {\n  enable_private_endpoint = true\n}\n"
                    "master_authorized_networks_config {\n  cidr_blocks {\n"
                    "    cidr_block = <admin range>\n  }\n}",
                )
            )
        else:
            model.exposures.append(
                Exposure(
                    r.file,
                    r.address,
                    6443,
                    "GKE control plane limited to master_authorized_networks_config",
                    cidrs,
                    "master_authorized_networks_config {\n  cidr_blocks {\n"
                    "    cidr_block = <cluster or admin range>\n  }\n}",
                )
            )


def parse_gcloud(doc: Sequence[Any], file: str) -> InfraModel:
    """``gcloud compute firewall-rules list --format=json`` and ``gcloud compute instances
    list --format=json`` (lists of ``compute#firewall`` / ``compute#instance``)."""
    model = InfraModel()
    for item in doc:
        if not isinstance(item, Mapping):
            continue
        kind = item.get("kind")
        name = str(item.get("name", "?"))
        if kind == "compute#firewall":
            net = str(item.get("network") or "default").rstrip("/").rsplit("/", 1)[-1]
            v = {
                "direction": item.get("direction"),
                "disabled": item.get("disabled"),
                "priority": item.get("priority"),
                "source_ranges": item.get("sourceRanges"),
                "destination_ranges": item.get("destinationRanges"),
                "target_tags": item.get("targetTags"),
                "target_service_accounts": item.get("targetServiceAccounts"),
                "allow": [
                    {"protocol": a.get("IPProtocol"), "ports": a.get("ports")}
                    for a in _list(item.get("allowed"))
                    if isinstance(a, Mapping)
                ],
                "deny": [
                    {"protocol": a.get("IPProtocol"), "ports": a.get("ports")}
                    for a in _list(item.get("denied"))
                    if isinstance(a, Mapping)
                ],
            }
            model.net_rules.extend(
                _gcp_firewall(file, f"firewall/{name}", v, f"network/{net}", "gcloud")
            )
        elif kind == "compute#instance":
            for i, ni in enumerate(_list(item.get("networkInterfaces"))):
                if not isinstance(ni, Mapping):
                    continue
                ips = [
                    str(a.get("natIP"))
                    for a in _list(ni.get("accessConfigs"))
                    if isinstance(a, Mapping) and a.get("natIP")
                ]
                if ips:
                    model.nodes.append(
                        Node(
                            file,
                            f"instance/{name}",
                            f"networkInterfaces[{i}] accessConfigs natIP {', '.join(ips)}",
                            public=True,
                            fix=f"gcloud compute instances delete-access-config {name} "
                            f"--network-interface=nic{i} --access-config-name=<name>",
                        )
                    )
    # gcloud lists the rules, not the implied allow-egress rule of each network
    for net in sorted({r.group.split("#")[0] for r in model.net_rules}):
        model.net_rules.append(
            NetRule(
                file,
                f"{net} (implied allow-egress rule)",
                "egress",
                "-1",
                ALL_PORTS,
                (ANYWHERE[0],),
                "gcloud",
                group=net,
                priority=65535,
            )
        )
    return model


def is_gcloud(doc: Any) -> bool:
    return (
        isinstance(doc, list)
        and bool(doc)
        and all(
            isinstance(d, Mapping) and d.get("kind") in ("compute#firewall", "compute#instance")
            for d in doc
        )
    )


# -------------------------------------------------------------------------------- Azure
def _az_prefixes(single: Any, many: Any) -> tuple[list[IPNet], list[str]]:
    cidrs: list[IPNet] = []
    tags: list[str] = []
    for item in [single, *_list(many)]:
        if item is None or item == "" or isinstance(item, Unresolved):
            continue
        text = str(item).strip()
        if text.lower() in _AZ_ANY:
            cidrs.append(ANYWHERE[0])
        elif text.lower() in _AZ_INSIDE:
            continue
        elif (n := _net(text)) is not None:
            cidrs.append(n)
        else:
            tags.append(text)
    return cidrs, tags


def _az_rule(
    file: str, address: str, v: Mapping[str, Any], group: str, style: str, model: InfraModel
) -> list[NetRule]:
    """One NSG security rule (Terraform snake_case, or az CLI camelCase)."""

    def get(snake: str, camel: str) -> Any:
        return v.get(snake, v.get(camel))

    direction = "egress" if str(get("direction", "direction")).lower() == "outbound" else "ingress"
    action = "deny" if str(get("access", "access")).lower() == "deny" else "allow"
    proto = _proto(get("protocol", "protocol"))
    peer = "destination" if direction == "egress" else "source"
    camel_peer = "destinationAddressPrefix" if direction == "egress" else "sourceAddressPrefix"
    cidrs, tags = _az_prefixes(
        get(f"{peer}_address_prefix", camel_peer),
        get(f"{peer}_address_prefixes", camel_peer + "es"),
    )
    for tag in tags:
        model.unverified.append(
            Unverified(file, address, f"{peer} address prefix", f"service tag {tag}")
        )
    ports = _port_specs(
        [p for p in [get("destination_port_range", "destinationPortRange")] if p]
        + _list(get("destination_port_ranges", "destinationPortRanges"))
    )
    prio = get("priority", "priority")
    priority = prio if isinstance(prio, int) else None
    if not cidrs:
        return []
    shown = f"{address} ({v.get('name')})" if v.get("name") and style == "azure" else address
    return [
        NetRule(file, shown, direction, proto, p, tuple(cidrs), style, group, action, priority)
        for p in ports
    ]


def _az_default_egress(file: str, address: str, group: str, style: str) -> NetRule:
    return NetRule(
        file,
        f"{address} (default rule AllowInternetOutBound)",
        "egress",
        "-1",
        ALL_PORTS,
        (ANYWHERE[0],),
        style,
        group,
        "allow",
        65001,
    )


def parse_azure(
    resources: Sequence[Resource], refs: Mapping[str, set[str]], model: InfraModel
) -> None:
    nsgs = {r.address: r for r in resources if r.type == "azurerm_network_security_group"}
    names = {str(r.values.get("name")): a for a, r in nsgs.items()}
    lbs = {r.address: r for r in resources if r.type == "azurerm_lb"}
    for r in resources:
        v = r.values
        if r.type == "azurerm_network_security_group":
            for block in _list(v.get("security_rule")):
                if isinstance(block, Mapping):
                    model.net_rules.extend(
                        _az_rule(r.file, r.address, block, r.address, "azure", model)
                    )
            model.net_rules.append(_az_default_egress(r.file, r.address, r.address, "azure"))
        elif r.type == "azurerm_network_security_rule":
            group = _ref_of(refs, r, "azurerm_network_security_group") or names.get(
                str(v.get("network_security_group_name")), str(v.get("network_security_group_name"))
            )
            model.net_rules.extend(_az_rule(r.file, r.address, v, group, "azure", model))
        elif r.type in ("azurerm_virtual_network", "azurerm_subnet"):
            for c in _list(v.get("address_space")) + _list(v.get("address_prefixes")):
                if (n := _net(c)) is not None:
                    kind = "subnet" if r.type == "azurerm_subnet" else "vpc"
                    model.networks.append(Network(r.file, r.address, n, kind))
        elif r.type == "azurerm_network_interface":
            for ipc in _list(v.get("ip_configuration")):
                if isinstance(ipc, Mapping) and ipc.get("public_ip_address_id"):
                    pip = _ref_of(refs, r, "azurerm_public_ip") or str(ipc["public_ip_address_id"])
                    model.nodes.append(
                        Node(
                            r.file,
                            r.address,
                            f"ip_configuration {ipc.get('name', '')!s} attaches public IP {pip}",
                            public=True,
                            fix="ip_configuration {\n  # no public_ip_address_id: reach the VM "
                            "through Azure Bastion or a private load balancer\n}",
                        )
                    )
        elif r.type in ("azurerm_kubernetes_cluster", "azurerm_kubernetes_cluster_node_pool"):
            pool = _first(v.get("default_node_pool")) if r.type.endswith("cluster") else v
            if (
                pool.get("node_public_ip_enabled") is True
                or pool.get("enable_node_public_ip") is True
            ):
                model.nodes.append(
                    Node(
                        r.file,
                        r.address,
                        "node_public_ip_enabled = true (every node has a public IP)",
                        public=True,
                        fix="node_public_ip_enabled = false",
                    )
                )
            if (
                r.type == "azurerm_kubernetes_cluster"
                and v.get("private_cluster_enabled") is not True
            ):
                profile = _first(v.get("api_server_access_profile"))
                ranges = _list(profile.get("authorized_ip_ranges")) or _list(
                    v.get("api_server_authorized_ip_ranges")
                )
                cidrs = tuple(n for c in ranges if (n := _net(c)) is not None)
                model.exposures.append(
                    Exposure(
                        r.file,
                        r.address,
                        6443,
                        "public AKS API server"
                        + (
                            " limited to authorised IP ranges"
                            if cidrs
                            else " (no authorised IP ranges)"
                        ),
                        cidrs or (ANYWHERE[0],),
                        "private_cluster_enabled = true\n# or:\napi_server_access_profile {\n"
                        "  authorized_ip_ranges = [<admin range>]\n}",
                    )
                )
        elif r.type == "azurerm_storage_account":
            nested = v.get("allow_nested_items_to_be_public", v.get("allow_blob_public_access"))
            if nested is not False:
                why = (
                    "allow_nested_items_to_be_public = true"
                    if nested is True
                    else (
                        "allow_nested_items_to_be_public unset (the provider's default lets "
                        "containers be made public)"
                    )
                )
                model.storages.append(
                    Storage(
                        r.file,
                        r.address,
                        "bucket",
                        True,
                        why,
                        "allow_nested_items_to_be_public = false\n"
                        "public_network_access_enabled   = false",
                        public=True,
                    )
                )
        elif r.type == "azurerm_storage_container":
            access = str(v.get("container_access_type") or "private").lower()
            if access in ("blob", "container"):
                model.storages.append(
                    Storage(
                        r.file,
                        r.address,
                        "bucket",
                        True,
                        f'container_access_type = "{access}": anyone can read its blobs',
                        'container_access_type = "private"',
                        public=True,
                    )
                )
        elif r.type in ("azurerm_lb_rule", "azurerm_lb_nat_rule"):
            lb = _ref_of(refs, r, "azurerm_lb")
            front = _first(lbs[lb].values.get("frontend_ip_configuration")) if lb in lbs else {}
            if lb in lbs and not front.get("public_ip_address_id"):
                continue  # an internal load balancer
            ports = [
                p for p in (v.get("frontend_port"), v.get("backend_port")) if isinstance(p, int)
            ]
            for port in sorted(set(ports)):
                model.exposures.append(
                    Exposure(
                        r.file,
                        r.address,
                        port,
                        f"{r.type} on a public load balancer ({lb or 'azurerm_lb'})",
                        (ANYWHERE[0],),
                        "# remove the rule; reach nodes through Azure Bastion",
                    )
                )


def is_az_cli(doc: Any) -> bool:
    return (
        isinstance(doc, list)
        and bool(doc)
        and all(
            isinstance(d, Mapping)
            and d.get("type")
            in ("Microsoft.Network/networkSecurityGroups", "Microsoft.Network/publicIPAddresses")
            for d in doc
        )
    )


def parse_az_cli(doc: Sequence[Any], file: str) -> InfraModel:
    """``az network nsg list`` and ``az network public-ip list`` output."""
    model = InfraModel()
    for item in doc:
        if not isinstance(item, Mapping):
            continue
        name = str(item.get("name", "?"))
        if item.get("type") == "Microsoft.Network/networkSecurityGroups":
            address = f"nsg/{name}"
            for key in ("securityRules", "defaultSecurityRules"):
                for rule in _list(item.get(key)):
                    if isinstance(rule, Mapping):
                        shown = f"{address}/{rule.get('name', '?')}"
                        model.net_rules.extend(_az_rule(file, shown, rule, address, "az", model))
        elif item.get("type") == "Microsoft.Network/publicIPAddresses":
            ipc = item.get("ipConfiguration")
            target = str(ipc.get("id", "")) if isinstance(ipc, Mapping) else ""
            if "/networkInterfaces/" in target:
                nic = target.split("/networkInterfaces/", 1)[1].split("/", 1)[0]
                model.nodes.append(
                    Node(
                        file,
                        f"publicIP/{name}",
                        f"public IP {item.get('ipAddress') or '(dynamic)'} attached to network "
                        f"interface {nic}",
                        public=True,
                        fix=f"az network nic ip-config update --nic-name {nic} --name "
                        "<ip-config> --resource-group <rg> --remove publicIpAddress",
                    )
                )
    return model


# ----------------------------------------------------------------------------- unverified
# the attributes each resource type's checks read; an unresolved value in one is unverified
_CHECKED: Mapping[str, tuple[str, ...]] = {
    "aws_security_group": ("ingress", "egress"),
    "aws_security_group_rule": (
        "type",
        "from_port",
        "to_port",
        "protocol",
        "cidr_blocks",
        "ipv6_cidr_blocks",
    ),
    "aws_vpc_security_group_ingress_rule": (
        "from_port",
        "to_port",
        "ip_protocol",
        "cidr_ipv4",
        "cidr_ipv6",
    ),
    "aws_vpc_security_group_egress_rule": (
        "from_port",
        "to_port",
        "ip_protocol",
        "cidr_ipv4",
        "cidr_ipv6",
    ),
    "aws_instance": ("associate_public_ip_address", "root_block_device", "ebs_block_device"),
    "aws_subnet": ("map_public_ip_on_launch",),
    "aws_ebs_volume": ("encrypted",),
    "aws_efs_file_system": ("encrypted",),
    "aws_launch_template": ("network_interfaces", "block_device_mappings"),
    "aws_eks_cluster": ("vpc_config",),
    "google_compute_firewall": (
        "direction",
        "disabled",
        "priority",
        "source_ranges",
        "destination_ranges",
        "allow",
        "deny",
    ),
    "google_compute_instance": ("network_interface",),
    "google_compute_instance_template": ("network_interface",),
    "google_container_cluster": ("private_cluster_config", "master_authorized_networks_config"),
    "google_container_node_pool": ("network_config",),
    "google_storage_bucket": ("uniform_bucket_level_access",),
    "google_storage_bucket_iam_member": ("member",),
    "google_storage_bucket_iam_binding": ("members",),
    "google_compute_forwarding_rule": ("load_balancing_scheme", "port_range", "ports"),
    "azurerm_network_security_group": ("security_rule",),
    "azurerm_network_security_rule": (
        "direction",
        "access",
        "protocol",
        "destination_port_range",
        "destination_port_ranges",
        "source_address_prefix",
        "source_address_prefixes",
        "destination_address_prefix",
        "destination_address_prefixes",
        "priority",
    ),
    "azurerm_kubernetes_cluster": (
        "default_node_pool",
        "private_cluster_enabled",
        "api_server_access_profile",
    ),
    "azurerm_kubernetes_cluster_node_pool": ("node_public_ip_enabled", "enable_node_public_ip"),
    "azurerm_storage_account": ("allow_nested_items_to_be_public",),
    "azurerm_storage_container": ("container_access_type",),
    "kubernetes_storage_class": ("parameters",),
    "kubernetes_storage_class_v1": ("parameters",),
}
# nested attributes that only identify or describe, never decide a check
_IGNORED = {
    "name",
    "description",
    "tags",
    "subnet_id",
    "subnetwork",
    "network",
    "device_name",
    "kms_key_id",
    "id",
    "security_group_id",
    "nat_ip",
    "volume_size",
    "vm_size",
    "node_count",
}


def _walk(value: Any, path: str) -> Iterator[tuple[str, Unresolved]]:
    if isinstance(value, Unresolved):
        yield path, value
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _walk(v, f"{path}[{i}]")
    elif isinstance(value, Mapping):
        for k, v in value.items():
            if k == "dynamic" and isinstance(v, list):
                for d in v:
                    for name in d if isinstance(d, Mapping) else ():
                        yield f"{path}.dynamic {name}", Unresolved(f"dynamic block {name}")
            elif k not in _IGNORED:
                yield from _walk(v, f"{path}.{k}")


def unverified(resources: Sequence[Resource]) -> list[Unverified]:
    out: list[Unverified] = []
    for r in resources:
        attrs = _CHECKED.get(r.type)
        if not attrs:
            continue
        for attr in attrs:
            if attr in r.values:
                out.extend(
                    Unverified(r.file, r.address, path, str(u))
                    for path, u in _walk(r.values[attr], attr)
                )
        dyn = r.values.get("dynamic")
        for d in dyn if isinstance(dyn, list) else []:
            names = [n for n in (d if isinstance(d, Mapping) else ()) if n in attrs]
            out.extend(
                Unverified(r.file, r.address, f"dynamic {n}", "dynamic block") for n in names
            )
    return out
