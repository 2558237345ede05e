"""Read input files, detect their format from content, and normalise them.

Files are data: JSON through ``json``, YAML through ``yaml.safe_load_all`` (no tags that
build Python objects). A file that parses as none of the known shapes is an error, not
an empty result.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from aisec.core.errors import FormatError, InputError
from aisec.training.infra._compose import is_compose, parse_compose
from aisec.training.infra._k8s_net import parse_k8s_extra
from aisec.training.infra._model import (
    InfraModel,
    NetPolicy,
    ServiceAccount,
    Workload,
)
from aisec.training.infra._providers import is_az_cli, is_gcloud, parse_az_cli, parse_gcloud
from aisec.training.infra._terraform import (
    is_aws_cli,
    is_terraform,
    parse_aws_cli,
    parse_hcl,
    parse_terraform,
)

__all__ = ["InputSummary", "expand_inputs", "load_inputs"]

MAX_BYTES = 64 * 1024 * 1024
_SUFFIXES = (".json", ".yaml", ".yml", ".tfstate", ".tf")
_POD_PATHS = {
    "Pod": ("spec",),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}


@dataclass(frozen=True, slots=True)
class InputSummary:
    path: str
    format: str
    resources: int

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "format": self.format, "resources": self.resources}


def expand_inputs(paths: Iterable[Path]) -> list[Path]:
    """The files ``paths`` name (folders: their files of the known suffixes)."""
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out.extend(
                sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in _SUFFIXES)
            )
        elif p.exists():
            out.append(p)
        else:
            raise InputError("no such file", path=p)
    return out


def _read(path: Path) -> str:
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise InputError(f"file of {size} bytes is over the {MAX_BYTES} byte limit", path=path)
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise FormatError("not UTF-8 text (expected JSON or YAML)", path=path) from exc
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", path=path) from exc


def _parse(path: Path, text: str) -> list[Any]:
    try:
        return [json.loads(text)]
    except ValueError:
        pass
    except RecursionError as exc:
        raise FormatError("JSON nested too deeply", path=path) from exc
    try:
        return [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise FormatError(f"neither valid JSON nor valid YAML{where}", path=path) from exc
    except RecursionError as exc:
        raise FormatError("YAML nested too deeply", path=path) from exc


def _k8s_docs(docs: list[Any]) -> list[Mapping[str, Any]] | None:
    items: list[Mapping[str, Any]] = []
    for d in docs:
        if isinstance(d, list):
            sub = _k8s_docs(d)
            if sub is None:
                return None
            items.extend(sub)
        elif isinstance(d, Mapping) and "apiVersion" in d and "kind" in d:
            if str(d["kind"]).endswith("List") and isinstance(d.get("items"), list):
                sub = _k8s_docs(d["items"])
                if sub is None:
                    return None
                items.extend(sub)
            else:
                items.append(d)
        else:
            return None
    return items


def _dig(doc: Mapping[str, Any], path: tuple[str, ...]) -> Mapping[str, Any] | None:
    cur: Any = doc
    for key in path:
        if not isinstance(cur, Mapping):
            return None
        cur = cur.get(key)
    return cur if isinstance(cur, Mapping) else None


def parse_k8s(docs: list[Mapping[str, Any]], file: str) -> InfraModel:
    model = InfraModel()
    for d in docs:
        kind = str(d.get("kind"))
        meta_raw = d.get("metadata")
        meta: Mapping[str, Any] = meta_raw if isinstance(meta_raw, Mapping) else {}
        name = str(meta.get("name", "?"))
        ns = str(meta.get("namespace") or "default")
        if kind in _POD_PATHS:
            spec = _dig(d, _POD_PATHS[kind])
            if spec is None:
                continue
            if kind == "Pod":
                labels = meta.get("labels") or {}
            else:
                template = _dig(d, (*_POD_PATHS[kind][:-1], "metadata")) or {}
                labels = template.get("labels") or {}
            model.workloads.append(
                Workload(
                    file,
                    kind,
                    ns,
                    name,
                    {str(k): str(v) for k, v in labels.items()}
                    if isinstance(labels, Mapping)
                    else {},
                    spec,
                )
            )
        elif kind == "NetworkPolicy":
            spec = d.get("spec") if isinstance(d.get("spec"), Mapping) else {}
            model.policies.append(NetPolicy(file, ns, name, spec or {}))
        elif kind == "ServiceAccount":
            auto = d.get("automountServiceAccountToken")
            model.service_accounts.append(
                ServiceAccount(file, ns, name, auto if isinstance(auto, bool) else None)
            )
    parse_k8s_extra(docs, file, model)
    return model


def load_inputs(paths: Iterable[Path]) -> tuple[InfraModel, list[InputSummary]]:
    """Parse every file (folders: their .json/.yaml/.yml/.tfstate files)."""
    model = InfraModel()
    summaries = []
    files = expand_inputs(paths)
    if not files:
        raise InputError("no input files (expected Terraform JSON, AWS CLI JSON or YAML)")
    tf_dirs: dict[Path, list[Path]] = {}
    for path in files:
        if path.suffix.lower() == ".tf":
            tf_dirs.setdefault(path.parent, []).append(path)
    visited: set[Path] = set()
    for folder in sorted(tf_dirs, key=lambda d: len(d.resolve().parts)):
        # a folder of .tf files is one module; a local child module is read through its
        # caller (with the caller's arguments), not again on its own
        if folder.resolve() in visited:
            continue
        part = parse_hcl(folder, sorted(tf_dirs[folder]), visited)
        model.extend(part)
        summaries.append(InputSummary(str(folder), "terraform-hcl", part.size()))
    for path in files:
        if path.suffix.lower() == ".tf":
            continue
        docs = _parse(path, _read(path))
        shown = str(path)
        if len(docs) == 1 and is_terraform(docs[0]):
            part, fmt = parse_terraform(docs[0], shown), "terraform"
        elif len(docs) == 1 and is_aws_cli(docs[0]):
            part, fmt = parse_aws_cli(docs[0], shown), "aws-cli"
        elif len(docs) == 1 and is_gcloud(docs[0]):
            part, fmt = parse_gcloud(docs[0], shown), "gcloud"
        elif len(docs) == 1 and is_az_cli(docs[0]):
            part, fmt = parse_az_cli(docs[0], shown), "az-cli"
        elif len(docs) == 1 and is_compose(docs[0]):
            part, fmt = parse_compose(docs[0], shown), "docker-compose"
        elif docs and (k8s := _k8s_docs(docs)) is not None:
            part, fmt = parse_k8s(k8s, shown), "kubernetes"
        else:
            raise FormatError(
                "unknown format: expected Terraform (.tf, plan or state JSON), AWS CLI JSON "
                "(describe-security-groups/-vpcs/-subnets/-instances), gcloud JSON "
                "(compute firewall-rules/instances list), az CLI JSON (network nsg/public-ip "
                "list), Kubernetes manifests or a docker-compose file",
                path=path,
            )
        model.extend(part)
        summaries.append(InputSummary(shown, fmt, part.size()))
    return model, summaries
