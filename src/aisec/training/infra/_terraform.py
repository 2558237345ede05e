"""Terraform plan/state JSON and AWS CLI JSON into the normalised model."""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from aisec.training.infra._model import (
    ALL_PORTS,
    InfraModel,
    IPNet,
    NetRule,
    Network,
    Node,
    Storage,
)
from aisec.training.infra._providers import Resource as _Resource
from aisec.training.infra._providers import extra_aws, parse_azure, parse_gcp, unverified

__all__ = [
    "is_aws_cli",
    "is_terraform",
    "parse_aws_cli",
    "parse_hcl",
    "parse_resources",
    "parse_terraform",
]


def is_terraform(doc: Any) -> bool:
    if not isinstance(doc, Mapping):
        return False
    if "format_version" in doc and any(
        k in doc for k in ("planned_values", "values", "resource_changes", "prior_state")
    ):
        return True
    return (
        isinstance(doc.get("version"), int)
        and isinstance(doc.get("resources"), list)
        and ("terraform_version" in doc)
    )


def is_aws_cli(doc: Any) -> bool:
    return isinstance(doc, Mapping) and any(
        k in doc for k in ("SecurityGroups", "Vpcs", "Subnets", "Reservations")
    )


def _module_resources(module: Any) -> Iterator[_Resource]:
    if not isinstance(module, Mapping):
        return
    for r in module.get("resources") or []:
        if isinstance(r, Mapping) and r.get("mode", "managed") == "managed":
            values = r.get("values")
            yield _Resource(
                str(r.get("address", f"{r.get('type')}.{r.get('name')}")),
                str(r.get("type", "")),
                values if isinstance(values, Mapping) else {},
            )
    for child in module.get("child_modules") or []:
        yield from _module_resources(child)


def _state_v4_resources(doc: Mapping[str, Any]) -> Iterator[_Resource]:
    for r in doc.get("resources") or []:
        if not isinstance(r, Mapping) or r.get("mode", "managed") != "managed":
            continue
        base = f"{r.get('type')}.{r.get('name')}"
        if r.get("module"):
            base = f"{r['module']}.{base}"
        for inst in r.get("instances") or []:
            if not isinstance(inst, Mapping):
                continue
            key = inst.get("index_key")
            suffix = "" if key is None else f'["{key}"]' if isinstance(key, str) else f"[{key}]"
            attrs = inst.get("attributes")
            yield _Resource(
                base + suffix, str(r.get("type")), attrs if isinstance(attrs, Mapping) else {}
            )


def _config_references(doc: Mapping[str, Any]) -> dict[str, set[str]]:
    """address -> resource addresses its configuration refers to (plan JSON only)."""
    out: dict[str, set[str]] = {}

    def walk(module: Any, prefix: str) -> None:
        if not isinstance(module, Mapping):
            return
        for r in module.get("resources") or []:
            if not isinstance(r, Mapping):
                continue
            refs: set[str] = set()
            for expr in (r.get("expressions") or {}).values():
                if isinstance(expr, Mapping):
                    refs.update(prefix + str(x) for x in expr.get("references") or [])
            out[prefix + str(r.get("address"))] = refs
        for name, call in (module.get("module_calls") or {}).items():
            if isinstance(call, Mapping):
                walk(call.get("module"), f"{prefix}module.{name}.")

    config = doc.get("configuration")
    if isinstance(config, Mapping):
        walk(config.get("root_module"), "")
    return out


def parse_terraform(doc: Mapping[str, Any], file: str) -> InfraModel:
    if "planned_values" in doc:
        resources = list(_module_resources((doc.get("planned_values") or {}).get("root_module")))
    elif "values" in doc:
        resources = list(_module_resources((doc.get("values") or {}).get("root_module")))
    else:
        resources = list(_state_v4_resources(doc))
    return parse_resources(resources, _config_references(doc), file)


def parse_resources(
    resources: Sequence[_Resource], refs: Mapping[str, set[str]], file: str
) -> InfraModel:
    """The normalised model of Terraform resources from a plan, a state or HCL sources.

    ``refs`` maps a resource's address (without index) to the addresses its
    configuration refers to; each resource's own ``file`` wins over ``file``.
    """
    resources = [r if r.file else dataclasses.replace(r, file=file) for r in resources]
    model = InfraModel()
    encrypted_buckets = _encrypted_buckets(resources, refs)
    ebs_default = any(
        r.type == "aws_ebs_encryption_by_default" and r.values.get("enabled") is not False
        for r in resources
    )
    for r in resources:
        v, file = r.values, r.file
        if r.type == "aws_security_group":
            for direction in ("ingress", "egress"):
                for block in v.get(direction) or []:
                    if isinstance(block, Mapping):
                        model.net_rules.append(_inline_rule(file, r.address, direction, block))
        elif r.type == "aws_security_group_rule":
            direction = str(v.get("type", "ingress"))
            model.net_rules.append(_inline_rule(file, r.address, direction, v, style="sg_rule"))
        elif r.type in (
            "aws_vpc_security_group_ingress_rule",
            "aws_vpc_security_group_egress_rule",
        ):
            model.net_rules.append(_vpc_rule(file, r))
        elif r.type in ("aws_vpc", "aws_subnet"):
            cidr = _net(v.get("cidr_block"))
            if cidr is not None:
                model.networks.append(Network(file, r.address, cidr, r.type[4:]))
            if r.type == "aws_subnet" and v.get("map_public_ip_on_launch") is True:
                model.nodes.append(
                    Node(file, r.address, "map_public_ip_on_launch = true", public=True)
                )
        elif r.type == "aws_instance":
            model.nodes.append(_instance_node(file, r))
            model.storages.extend(_instance_volumes(file, r, ebs_default))
        elif r.type == "aws_launch_template":
            model.nodes.extend(_template_nodes(file, r))
            model.storages.extend(_template_volumes(file, r, ebs_default))
        elif r.type == "aws_eip" and (v.get("instance") or v.get("network_interface")):
            model.nodes.append(Node(file, r.address, "an Elastic IP attached", public=True))
        elif r.type == "aws_eip_association":
            target = _target(refs, r, ("aws_instance.", "aws_network_interface."))
            model.nodes.append(
                Node(
                    file,
                    r.address,
                    f"an Elastic IP associated with {target} after it was created",
                    public=True,
                    fix="# remove the aws_eip_association (and the aws_eip); reach the node "
                    "through SSM or a private load balancer",
                )
            )
        elif r.type == "aws_ebs_volume":
            ok = v.get("encrypted") is True or ebs_default
            model.storages.append(Storage(file, r.address, "volume", ok, "encrypted = false"))
        elif r.type == "aws_efs_file_system":
            ok = v.get("encrypted") is True
            model.storages.append(Storage(file, r.address, "filesystem", ok, "encrypted = false"))
        elif r.type == "aws_s3_bucket":
            ok = r.address in encrypted_buckets or bool(
                v.get("server_side_encryption_configuration")
            )
            model.storages.append(
                Storage(file, r.address, "bucket", ok, "no server-side encryption configuration")
            )
    extra_aws(resources, refs, model)
    parse_gcp(resources, refs, model)
    parse_azure(resources, refs, model)
    model.unverified.extend(unverified(resources))
    return model


def _target(refs: Mapping[str, set[str]], r: _Resource, prefixes: tuple[str, ...]) -> str:
    found = sorted(
        {
            x.removesuffix(".id")
            for x in refs.get(r.address.split("[")[0], set())
            if x.startswith(prefixes) or any(f".{p}" in x for p in prefixes)
        }
    )
    return found[0] if found else "a node"


def _net(text: Any) -> IPNet | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None


def _ports(lo: Any, hi: Any, protocol: str) -> tuple[int, int]:
    if protocol in ("-1", "all") or not isinstance(lo, int) or not isinstance(hi, int):
        return ALL_PORTS
    if lo == -1 or hi == -1:
        return ALL_PORTS
    return (lo, hi)


def _protocol(value: Any) -> str:
    text = str(value if value is not None else "-1").lower()
    return {"6": "tcp", "17": "udp", "1": "icmp"}.get(text, text)


def _inline_rule(
    file: str, address: str, direction: str, block: Mapping[str, Any], *, style: str = "inline"
) -> NetRule:
    proto = _protocol(block.get("protocol"))
    cidrs = [
        n
        for key in ("cidr_blocks", "ipv6_cidr_blocks")
        for c in block.get(key) or []
        if (n := _net(c)) is not None
    ]
    return NetRule(
        file,
        address,
        direction,
        proto,
        _ports(block.get("from_port"), block.get("to_port"), proto),
        tuple(cidrs),
        style,
        group=str(block.get("security_group_id") or ""),
    )


def _vpc_rule(file: str, r: _Resource) -> NetRule:
    v = r.values
    proto = _protocol(v.get("ip_protocol"))
    cidrs = [n for key in ("cidr_ipv4", "cidr_ipv6") if (n := _net(v.get(key))) is not None]
    direction = "ingress" if r.type.endswith("ingress_rule") else "egress"
    return NetRule(
        file,
        r.address,
        direction,
        proto,
        _ports(v.get("from_port"), v.get("to_port"), proto),
        tuple(cidrs),
        "vpc_rule",
    )


def _encrypted_buckets(resources: list[_Resource], refs: Mapping[str, set[str]]) -> set[str]:
    names = {
        str(r.values.get("bucket")): r.address
        for r in resources
        if r.type == "aws_s3_bucket" and r.values.get("bucket")
    }
    out: set[str] = set()
    for r in resources:
        if r.type != "aws_s3_bucket_server_side_encryption_configuration":
            continue
        if not r.values.get("rule", True):
            continue
        bucket = r.values.get("bucket")
        if isinstance(bucket, str) and bucket in names:
            out.add(names[bucket])
        config_address = r.address.split("[")[0]
        for ref in refs.get(config_address, set()):
            if ref.startswith("aws_s3_bucket.") or ".aws_s3_bucket." in ref:
                out.add(ref.removesuffix(".id").removesuffix(".bucket"))
    return out


def _instance_node(file: str, r: _Resource) -> Node:
    public = r.values.get("associate_public_ip_address") is True
    return Node(file, r.address, "associate_public_ip_address = true", public=public)


def _instance_volumes(file: str, r: _Resource, ebs_default: bool) -> list[Storage]:
    out = []
    for key in ("root_block_device", "ebs_block_device"):
        blocks = r.values.get(key)
        if key == "root_block_device" and not blocks:
            ok = ebs_default
            out.append(
                Storage(
                    file,
                    r.address,
                    "volume",
                    ok,
                    "root_block_device does not set encrypted = true",
                )
            )
            continue
        for b in blocks or []:
            if isinstance(b, Mapping):
                ok = b.get("encrypted") is True or ebs_default
                out.append(Storage(file, r.address, "volume", ok, f"{key} encrypted is not true"))
    return out


def _template_nodes(file: str, r: _Resource) -> list[Node]:
    return [
        Node(file, r.address, "network_interfaces.associate_public_ip_address = true", public=True)
        for ni in r.values.get("network_interfaces") or []
        if isinstance(ni, Mapping) and str(ni.get("associate_public_ip_address")).lower() == "true"
    ]


def _template_volumes(file: str, r: _Resource, ebs_default: bool) -> list[Storage]:
    out = []
    for m in r.values.get("block_device_mappings") or []:
        for ebs in (m.get("ebs") or []) if isinstance(m, Mapping) else []:
            if isinstance(ebs, Mapping):
                ok = str(ebs.get("encrypted")).lower() == "true" or ebs_default
                out.append(
                    Storage(file, r.address, "volume", ok, "block_device_mappings.ebs.encrypted")
                )
    return out


def parse_hcl(
    folder: Path, files: list[Path] | None = None, visited: set[Path] | None = None
) -> InfraModel:
    """Terraform HCL sources (a module folder, its local child modules, or some .tf files)."""
    from aisec.training.infra._hcl import load_hcl_module

    found = load_hcl_module(folder, files=files, visited=visited)
    resources = [_Resource(h.address, h.type, h.values, h.file) for h in found]
    refs = {h.address: set(h.refs) for h in found}
    return parse_resources(resources, refs, str(folder))


# ---------------------------------------------------------------------------- AWS CLI JSON
def parse_aws_cli(doc: Mapping[str, Any], file: str) -> InfraModel:
    """``aws ec2 describe-security-groups / describe-vpcs / describe-subnets /
    describe-instances`` output (one or several of them merged in one object)."""
    model = InfraModel()
    for sg in doc.get("SecurityGroups") or []:
        if not isinstance(sg, Mapping):
            continue
        address = f"SecurityGroup/{sg.get('GroupId', '?')}"
        if sg.get("GroupName"):
            address += f" ({sg['GroupName']})"
        for key, direction in (("IpPermissions", "ingress"), ("IpPermissionsEgress", "egress")):
            for perm in sg.get(key) or []:
                if isinstance(perm, Mapping):
                    model.net_rules.append(_cli_rule(file, address, direction, perm))
    for vpc in doc.get("Vpcs") or []:
        if isinstance(vpc, Mapping):
            blocks = [vpc.get("CidrBlock")] + [
                a.get("CidrBlock")
                for a in vpc.get("CidrBlockAssociationSet") or []
                if isinstance(a, Mapping)
            ]
            for c in dict.fromkeys(blocks):
                if (n := _net(c)) is not None:
                    model.networks.append(Network(file, f"Vpc/{vpc.get('VpcId')}", n, "vpc"))
    for sub in doc.get("Subnets") or []:
        if isinstance(sub, Mapping):
            address = f"Subnet/{sub.get('SubnetId')}"
            if (n := _net(sub.get("CidrBlock"))) is not None:
                model.networks.append(Network(file, address, n, "subnet"))
            if sub.get("MapPublicIpOnLaunch") is True:
                model.nodes.append(Node(file, address, "MapPublicIpOnLaunch = true", public=True))
    for res in doc.get("Reservations") or []:
        for inst in (res.get("Instances") or []) if isinstance(res, Mapping) else []:
            if isinstance(inst, Mapping):
                ip = inst.get("PublicIpAddress")
                model.nodes.append(
                    Node(
                        file,
                        f"Instance/{inst.get('InstanceId')}",
                        f"PublicIpAddress {ip}",
                        public=bool(ip),
                    )
                )
    return model


def _cli_rule(file: str, address: str, direction: str, perm: Mapping[str, Any]) -> NetRule:
    proto = _protocol(perm.get("IpProtocol"))
    cidrs = [
        n
        for key, field in (("IpRanges", "CidrIp"), ("Ipv6Ranges", "CidrIpv6"))
        for item in perm.get(key) or []
        if isinstance(item, Mapping) and (n := _net(item.get(field))) is not None
    ]
    return NetRule(
        file,
        address,
        direction,
        proto,
        _ports(perm.get("FromPort"), perm.get("ToPort"), proto),
        tuple(cidrs),
        "aws_cli",
    )
