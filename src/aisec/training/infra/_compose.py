"""docker-compose files (the Compose Specification) as pod-like workloads, so the serving
container rules apply unchanged: ``privileged``, ``cap_add``, ``user``, ``network_mode``,
``pid``/``ipc: host``, bind mounts, ``environment`` and published ``ports``.

Only the file is read; nothing is run, no variable is interpolated from the environment.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any

from aisec.training.infra._model import Exposure, InfraModel, Workload

__all__ = ["is_compose", "parse_compose"]

# host paths whose bind mount hands the container the host (or the Docker daemon)
_SENSITIVE = ("/", "/etc", "/proc", "/sys", "/dev", "/root", "/home", "/var/run", "/run",
              "/var/lib/docker", "/var/lib/kubelet", "/boot")  # fmt: skip
_TOP_KEYS = {"services", "version", "networks", "volumes", "secrets", "configs", "name",
             "include", "x-"}  # fmt: skip


def is_compose(doc: Any) -> bool:
    if not isinstance(doc, Mapping) or not isinstance(doc.get("services"), Mapping):
        return False
    return all(str(k) in _TOP_KEYS or str(k).startswith("x-") for k in doc)


def _sensitive(path: str) -> bool:
    p = PurePosixPath(path)
    return str(p) in _SENSITIVE or p.name == "docker.sock" or str(p).startswith("/var/run/")


def _volume(spec: Any, index: int) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(pod volume, container mount) for one compose volume entry."""
    if isinstance(spec, str):
        parts = spec.split(":")
        if len(parts) == 1:
            return {"name": f"anon-{index}", "emptyDir": {}}, {
                "name": f"anon-{index}",
                "mountPath": parts[0],
            }
        source, target = parts[0], parts[1]
        mode = parts[2] if len(parts) > 2 else ""
        read_only = "ro" in mode.split(",")
        bind = source.startswith(("/", ".", "~"))
    elif isinstance(spec, Mapping):
        source, target = str(spec.get("source", "")), str(spec.get("target", ""))
        read_only = spec.get("read_only") is True
        bind = spec.get("type") == "bind"
        if spec.get("type") == "tmpfs":
            return {"name": f"tmpfs-{index}", "emptyDir": {}}, {
                "name": f"tmpfs-{index}",
                "mountPath": target,
            }
    else:
        return None
    name = source or f"vol-{index}"
    if bind and source.startswith("/") and _sensitive(source):
        vol: dict[str, Any] = {"name": name, "hostPath": {"path": source}}
    elif bind:
        vol = {"name": name, "bind": {"path": source}}
    else:
        vol = {"name": name, "persistentVolumeClaim": {"claimName": source}}
    mount = {"name": name, "mountPath": target, "readOnly": read_only}
    return vol, mount


def _env(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, Mapping):
        return [{"name": str(k), "value": "" if v is None else str(v)} for k, v in value.items()]
    out = []
    for item in value or []:
        name, sep, val = str(item).partition("=")
        out.append({"name": name, "value": val} if sep else {"name": name})
    return out


def _user(value: Any) -> int | None:
    if value is None:
        return None
    text = str(value).split(":")[0].strip()
    if text in ("root", "0"):
        return 0
    return int(text) if text.isdigit() else 1 if text else None


def _ports(value: Any) -> list[tuple[str, int | None, int | None]]:
    """(host ip, published port, container port) of each published port."""
    out: list[tuple[str, int | None, int | None]] = []
    for p in value or []:
        if isinstance(p, Mapping):
            pub = p.get("published")
            out.append(
                (
                    str(p.get("host_ip") or ""),
                    int(str(pub)) if str(pub).isdigit() else None,
                    int(str(p["target"])) if str(p.get("target")).isdigit() else None,
                )
            )
            continue
        text = str(p).split("/")[0]
        parts = text.rsplit(":", 2)
        target = parts[-1]
        pub_s = parts[-2] if len(parts) >= 2 else ""
        host = parts[0] if len(parts) == 3 else ""
        out.append(
            (
                host.strip("[]"),
                int(pub_s) if pub_s.isdigit() else None,
                int(target) if target.isdigit() else None,
            )
        )
    return out


def parse_compose(doc: Mapping[str, Any], file: str) -> InfraModel:
    model = InfraModel()
    project = str(doc.get("name") or PurePosixPath(file).parent.name or "compose")
    nets = doc.get("networks") if isinstance(doc.get("networks"), Mapping) else {}
    internal = {
        str(k) for k, v in (nets or {}).items() if isinstance(v, Mapping) and v.get("internal")
    }
    for name, svc in doc["services"].items():
        if not isinstance(svc, Mapping):
            continue
        volumes, mounts = [], []
        for i, spec in enumerate(svc.get("volumes") or []):
            got = _volume(spec, i)
            if got:
                volumes.append(got[0])
                mounts.append(got[1])
        sc: dict[str, Any] = {}
        if svc.get("privileged") is True:
            sc["privileged"] = True
        if svc.get("cap_add"):
            sc["capabilities"] = {"add": list(svc["cap_add"])}
        if (user := _user(svc.get("user"))) is not None:
            sc["runAsUser"] = user
        opts = [str(o).replace("=", ":") for o in svc.get("security_opt") or []]
        if "no-new-privileges:false" in opts:
            sc["allowPrivilegeEscalation"] = True
        container = {
            "name": str(name),
            "image": svc.get("image"),
            "securityContext": sc,
            "volumeMounts": mounts,
            "env": _env(svc.get("environment")),
        }
        pod: dict[str, Any] = {
            "containers": [container],
            "volumes": volumes,
            "hostNetwork": svc.get("network_mode") == "host",
            "hostPID": svc.get("pid") == "host",
            "hostIPC": svc.get("ipc") == "host",
            # no Kubernetes API, so no service-account token to mount
            "automountServiceAccountToken": False,
        }
        svc_nets = svc.get("networks")
        names = [str(n) for n in (svc_nets or [])] or ["default"]
        only_internal = svc.get("network_mode") == "none" or all(n in internal for n in names)
        workload = Workload(
            file, "ComposeService", project, str(name), {}, pod, networks_internal=only_internal
        )
        model.workloads.append(workload)
        for host, published, target in _ports(svc.get("ports")):
            if host.startswith("127.") or host == "::1":
                continue
            for port in {p for p in (published, target) if p is not None}:
                model.exposures.append(
                    Exposure(
                        file,
                        workload.address,
                        port,
                        f"ports publishes {published or '<random>'}->{target} on the host",
                        (),
                        'ports:\n- "127.0.0.1:<port>:<port>"  # or no published port',
                    )
                )
    return model
