"""Kubernetes objects beyond pods: how Services, Ingresses and host ports publish a port,
and StorageClasses / PersistentVolumes whose volumes are not encrypted."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from typing import Any

from aisec.training.infra._model import (
    ANYWHERE,
    Exposure,
    InfraModel,
    IPNet,
    Workload,
    label_selector_matches,
)
from aisec.training.infra._providers import storage_class

__all__ = ["parse_k8s_extra"]

# annotations that make a LoadBalancer Service internal (public facts of each cloud)
_INTERNAL = {
    "service.beta.kubernetes.io/aws-load-balancer-internal": ("true", "0.0.0.0/0"),
    "service.beta.kubernetes.io/aws-load-balancer-scheme": ("internal",),
    "networking.gke.io/load-balancer-type": ("internal",),
    "cloud.google.com/load-balancer-type": ("internal",),
    "service.beta.kubernetes.io/azure-load-balancer-internal": ("true",),
}


def _meta(d: Mapping[str, Any]) -> tuple[str, str, Mapping[str, Any]]:
    m = d.get("metadata")
    meta: Mapping[str, Any] = m if isinstance(m, Mapping) else {}
    return str(meta.get("name", "?")), str(meta.get("namespace") or "default"), meta


def _spec(d: Mapping[str, Any]) -> Mapping[str, Any]:
    s = d.get("spec")
    return s if isinstance(s, Mapping) else {}


def _target(port: Mapping[str, Any], selected: Sequence[Workload]) -> tuple[int | None, int | None]:
    """(service port, container port it forwards to) with named target ports resolved."""
    p = port.get("port") if isinstance(port.get("port"), int) else None
    t = port.get("targetPort", p)
    if isinstance(t, str):
        t = next(
            (
                cp.get("containerPort")
                for w in selected
                for c in w.containers()
                for cp in c.get("ports") or []
                if isinstance(cp, Mapping) and cp.get("name") == t
            ),
            None,
        )
    return p, t if isinstance(t, int) else None


def _nets(items: Any) -> tuple[IPNet, ...]:
    out: list[IPNet] = []
    for c in items or []:
        try:
            out.append(ipaddress.ip_network(str(c).strip(), strict=False))
        except ValueError:
            continue
    return tuple(out)


def _admin(*ports: int | None) -> list[int]:
    """Every port given; the rule keeps those on the context's admin list."""
    return sorted({p for p in ports if p is not None})


def parse_k8s_extra(docs: Sequence[Mapping[str, Any]], file: str, model: InfraModel) -> None:
    workloads = [w for w in model.workloads if w.file == file]
    services: dict[tuple[str, str], Mapping[str, Any]] = {}
    for d in docs:
        kind = str(d.get("kind"))
        name, ns, meta = _meta(d)
        spec = _spec(d)
        if kind == "Service":
            services[(ns, name)] = d
            _service(file, name, ns, meta, spec, workloads, model)
        elif kind == "StorageClass":
            model.storages.extend(
                storage_class(
                    file,
                    f"StorageClass/{name}",
                    d.get("provisioner"),
                    d.get("parameters"),
                    style="k8s",
                )
            )
        elif kind == "PersistentVolume":
            csi = spec.get("csi")
            if isinstance(csi, Mapping):
                model.storages.extend(
                    storage_class(
                        file,
                        f"PersistentVolume/{name}",
                        None,
                        csi.get("volumeAttributes"),
                        style="k8s",
                    )
                )
    for d in docs:
        if str(d.get("kind")) == "Ingress":
            _ingress(file, d, services, workloads, model)
    for w in workloads:
        for c in w.containers():
            for cp in c.get("ports") or []:
                if not isinstance(cp, Mapping):
                    continue
                host = cp.get("hostPort")
                if host is None and w.spec.get("hostNetwork") is True:
                    host = cp.get("containerPort")
                for port in _admin(host if isinstance(host, int) else None):
                    model.exposures.append(
                        Exposure(
                            file,
                            w.address,
                            port,
                            f"container {c.get('name', '?')!r} publishes it on the node "
                            "(hostPort / hostNetwork)",
                            (),
                            "ports:\n- containerPort: <port>  # no hostPort, no hostNetwork",
                        )
                    )


def _selected(ns: str, spec: Mapping[str, Any], workloads: Sequence[Workload]) -> list[Workload]:
    sel = spec.get("selector")
    if not isinstance(sel, Mapping) or not sel:
        return []
    return [
        w
        for w in workloads
        if w.namespace == ns and label_selector_matches({"matchLabels": sel}, w.labels)
    ]


def _service(
    file: str,
    name: str,
    ns: str,
    meta: Mapping[str, Any],
    spec: Mapping[str, Any],
    workloads: Sequence[Workload],
    model: InfraModel,
) -> None:
    kind = str(spec.get("type") or "ClusterIP")
    notes = meta.get("annotations")
    annotations: Mapping[str, Any] = notes if isinstance(notes, Mapping) else {}
    internal = any(str(annotations.get(k, "")).lower() in vals for k, vals in _INTERNAL.items())
    selected = _selected(ns, spec, workloads)
    address = f"Service/{ns}/{name}"
    for port in spec.get("ports") or []:
        if not isinstance(port, Mapping):
            continue
        p, t = _target(port, selected)
        shown = f"port {p}" + (f" -> targetPort {t}" if t is not None and t != p else "")
        for admin in _admin(p, t):
            if kind == "LoadBalancer" and not internal:
                model.exposures.append(
                    Exposure(
                        file,
                        address,
                        admin,
                        f"Service type LoadBalancer, {shown}",
                        _nets(spec.get("loadBalancerSourceRanges")) or (ANYWHERE[0],),
                        "spec:\n  type: ClusterIP   # reach it with kubectl port-forward or "
                        "an internal load balancer\n  ports:\n  - port: <serving port only>",
                    )
                )
            if kind == "NodePort":
                node_port = port.get("nodePort", "<allocated>")
                model.exposures.append(
                    Exposure(
                        file,
                        address,
                        admin,
                        f"Service type NodePort ({node_port} on every node), {shown}",
                        (),
                        "spec:\n  type: ClusterIP",
                    )
                )
            if spec.get("externalIPs"):
                model.exposures.append(
                    Exposure(
                        file,
                        address,
                        admin,
                        f"externalIPs {', '.join(map(str, spec['externalIPs']))}, {shown}",
                        (),
                        "spec:\n  externalIPs: []",
                    )
                )


def _backends(spec: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    out: list[Mapping[str, Any]] = []
    default = spec.get("defaultBackend") or spec.get("backend")
    if isinstance(default, Mapping):
        out.append(default)
    for rule in spec.get("rules") or []:
        http = rule.get("http") if isinstance(rule, Mapping) else None
        for path in (http.get("paths") or []) if isinstance(http, Mapping) else []:
            if isinstance(path, Mapping) and isinstance(path.get("backend"), Mapping):
                out.append(path["backend"])  # noqa: PERF401
    return out


def _ingress(
    file: str,
    d: Mapping[str, Any],
    services: Mapping[tuple[str, str], Mapping[str, Any]],
    workloads: Sequence[Workload],
    model: InfraModel,
) -> None:
    name, ns, _ = _meta(d)
    for backend in _backends(_spec(d)):
        svc = backend.get("service")
        if isinstance(svc, Mapping):  # networking.k8s.io/v1
            sname = str(svc.get("name"))
            raw = svc.get("port")
            port: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
            number, pname = port.get("number"), port.get("name")
        else:  # extensions/v1beta1
            sname = str(backend.get("serviceName"))
            sp = backend.get("servicePort")
            number, pname = (sp, None) if isinstance(sp, int) else (None, sp)
        target: int | None = None
        service = services.get((ns, sname))
        if service is not None:
            spec = _spec(service)
            for sp in spec.get("ports") or []:
                if isinstance(sp, Mapping) and (
                    sp.get("port") == number or (pname and sp.get("name") == pname)
                ):
                    _, target = _target(sp, _selected(ns, spec, workloads))
        for admin in _admin(number if isinstance(number, int) else None, target):
            model.exposures.append(
                Exposure(
                    file,
                    f"Ingress/{ns}/{name}",
                    admin,
                    f"Ingress routes to Service {sname} port {number or pname}",
                    (),
                    "# route the Ingress only to the serving port; reach admin endpoints "
                    "with kubectl port-forward",
                )
            )
