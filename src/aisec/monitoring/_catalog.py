"""The catalogue of AI providers and services: package data, versioned, extendable by a file."""

from __future__ import annotations

import fnmatch
import os
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from aisec.core.errors import FormatError, InputError

__all__ = [
    "SYSTEM_KINDS",
    "AiCatalog",
    "CloudService",
    "HostHit",
    "Provider",
    "SaasProduct",
    "load_ai_catalog",
]

Kind = Literal["hosted-api-use", "self-hosted-model", "saas-ai-feature", "no-code-model"]
#: Every kind a system of the inventory can have.
SYSTEM_KINDS: tuple[str, ...] = (
    "hosted-api-use",
    "self-hosted-model",
    "saas-ai-feature",
    "no-code-model",
    "registered-internal",
)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Provider(_Model):
    id: str
    name: str
    kind: Kind
    domains: tuple[str, ...] = ()
    python: tuple[str, ...] = ()
    pypi: tuple[str, ...] = ()
    js: tuple[str, ...] = ()
    boto3: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()


class Framework(_Model):
    id: str
    name: str
    python: tuple[str, ...] = ()
    pypi: tuple[str, ...] = ()
    js: tuple[str, ...] = ()


class Server(_Model):
    id: str
    name: str
    python: tuple[str, ...] = ()
    pypi: tuple[str, ...] = ()
    js: tuple[str, ...] = ()
    images: tuple[str, ...] = ()
    api_paths: tuple[str, ...] = ()


class MlLibraries(_Model):
    python: tuple[str, ...] = ()
    pypi: tuple[str, ...] = ()
    js: tuple[str, ...] = ()
    pickle_modules: tuple[str, ...] = ()
    loader_calls: tuple[str, ...] = ()


class ModelHub(_Model):
    id: str
    name: str
    domains: tuple[str, ...] = ()


class SaasProduct(_Model):
    id: str
    name: str
    kind: Kind
    ai_product: bool = False
    vendors: tuple[str, ...] = ()
    products: tuple[str, ...] = ()
    features: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()


class CloudService(_Model):
    id: str
    provider: Literal["aws", "gcp", "azure"]
    match: tuple[str, ...]
    events: tuple[str, ...] = ()


class Gpu(_Model):
    aws_families: tuple[str, ...] = ()
    gcp_families: tuple[str, ...] = ()
    azure_families: tuple[str, ...] = ()
    sku_words: tuple[str, ...] = ()


_M = TypeVar("_M", Provider, SaasProduct, CloudService, Framework, Server, ModelHub)


class _File(_Model):
    version: str = "user"
    providers: tuple[Provider, ...] = ()
    frameworks: tuple[Framework, ...] = ()
    servers: tuple[Server, ...] = ()
    ml_libraries: MlLibraries = Field(default_factory=MlLibraries)
    model_hubs: tuple[ModelHub, ...] = ()
    saas: tuple[SaasProduct, ...] = ()
    cloud: tuple[CloudService, ...] = ()
    gpu: Gpu = Field(default_factory=Gpu)


@dataclass(frozen=True, slots=True)
class HostHit:
    """What the catalogue knows about a host: the service, and the tenant/region it names."""

    id: str
    name: str
    kind: str
    category: str  # provider | saas | hub
    tenant: str | None = None  # the customer's resource, from a ``*`` label
    region: str | None = None


def _norm_pkg(name: str) -> str:
    """A package name as PEP 503 normalises it (``Foo_Bar.baz`` -> ``foo-bar-baz``)."""
    return re.sub(r"[-_.]+", "-", name.strip().lower())


_REGION = re.compile(r"\b([a-z]{2}(?:-gov)?-[a-z]+-\d)\b")


class AiCatalog:
    """Lookups over the catalogue: hosts, SDK modules, SaaS vendors, billing items, GPUs."""

    def __init__(self, data: _File, *, version: str) -> None:
        self.version = version
        self.providers = {p.id: p for p in data.providers}
        self.frameworks = {f.id: f for f in data.frameworks}
        self.servers = {s.id: s for s in data.servers}
        self.ml = data.ml_libraries
        self.hubs = {h.id: h for h in data.model_hubs}
        self.saas = {s.id: s for s in data.saas}
        self.cloud = {c.id: c for c in data.cloud}
        self.gpu = data.gpu
        self._exact: dict[str, HostHit] = {}
        wild: list[tuple[str, HostHit]] = []
        items = [(p.id, p.name, p.kind, p.domains, "provider") for p in data.providers]
        items += [(s.id, s.name, s.kind, s.domains, "saas") for s in data.saas]
        items += [(h.id, h.name, "self-hosted-model", h.domains, "hub") for h in data.model_hubs]
        for sid, name, kind, domains, cat in items:
            for d in domains:
                hit = HostHit(sid, name, kind, cat)
                if "*" in d:
                    wild.append((d.lower(), hit))
                else:
                    self._exact[d.lower()] = hit
        self._wild = wild
        self._wild_re = (
            re.compile("|".join(f"(?:{fnmatch.translate(w[0])[4:-3]})" for w in wild) + r"\Z")
            if wild
            else None
        )
        self._py: dict[str, tuple[str, str]] = {}
        self._pkg: dict[str, tuple[str, str]] = {}
        self._js: dict[str, tuple[str, str]] = {}
        groups: list[tuple[str, str, tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = [
            ("provider", p.id, p.python, p.pypi, p.js) for p in data.providers
        ]
        groups += [("server", s.id, s.python, s.pypi, s.js) for s in data.servers]
        groups += [("framework", f.id, f.python, f.pypi, f.js) for f in data.frameworks]
        groups.append(("ml", "ml", self.ml.python, self.ml.pypi, self.ml.js))
        for cat, sid, py, pkgs, js in groups:
            for m in py:
                self._py.setdefault(m, (cat, sid))
            for m in pkgs:
                self._pkg.setdefault(_norm_pkg(m), (cat, sid))
            for m in js:
                self._js.setdefault(m, (cat, sid))
        self._boto = {c: p.id for p in data.providers for c in p.boto3}
        self._images = {i.lower(): s.id for s in data.servers for i in s.images}
        self._paths = [
            (re.compile(fnmatch.translate(path).replace(".*", "[^/]*")), s.id)
            for s in data.servers
            for path in s.api_paths
        ]
        gcp = {f.lower() for f in data.gpu.gcp_families}
        aws = {f.lower() for f in data.gpu.aws_families}
        azure = {f.lower() for f in data.gpu.azure_families}
        self._gpu_families = {"aws": aws, "gcp": gcp, "azure": azure}
        self._sku_re = re.compile(
            r"\b(?:" + "|".join(re.escape(w) for w in data.gpu.sku_words) + r")\b", re.I
        )

    def host_needles(self) -> list[str]:
        """Literal strings one of which every AI host contains (for a fast prefilter)."""
        out = set(self._exact)
        for pattern, _ in self._wild:
            out.add(max(pattern.split("*"), key=len))
        return sorted(n for n in out if n)

    def path_needles(self) -> list[str]:
        """Literal strings one of which every model-server API path contains."""
        out = set()
        for s in self.servers.values():
            for p in s.api_paths:
                out.add(max(p.split("*"), key=len))
        return sorted(n for n in out if len(n) >= 4)

    def host_info(self, host: str) -> HostHit | None:
        """The catalogue entry of an AI API host, with the tenant and region it names."""
        h = host.strip().lower().rstrip(".")
        if h.startswith("[") or h.count(":") == 1:
            h = h.split(":", 1)[0]
        hit = self._exact.get(h)
        tenant = None
        if hit is None:
            if self._wild_re is None or not self._wild_re.match(h):
                return None
            for pattern, cand in self._wild:
                if fnmatch.fnmatchcase(h, pattern):
                    hit = cand
                    if pattern.startswith("*."):
                        tenant = h.split(".", 1)[0]
                    elif pattern.startswith("*-"):
                        tenant = None  # a region prefix, not a tenant
                    break
            if hit is None:  # pragma: no cover - the joined pattern and the loop agree
                return None
        region = _REGION.search(h)
        return HostHit(
            hit.id, hit.name, hit.kind, hit.category, tenant, region.group(1) if region else None
        )

    def match_host(self, host: str) -> tuple[str, str, str] | None:
        """``(service id, name, kind)`` for an AI API host, ``None`` for anything else."""
        hit = self.host_info(host)
        return None if hit is None else (hit.id, hit.name, hit.kind)

    def python_module(self, module: str) -> tuple[str, str] | None:
        """``(category, id)`` for an import: provider SDK, model server, framework or ML library."""
        parts = module.split(".")
        for i in range(len(parts), 0, -1):
            hit = self._py.get(".".join(parts[:i]))
            if hit is not None:
                return hit
        return None

    def python_provider(self, module: str) -> Provider | None:
        """The provider whose SDK ``module`` (or a parent package of it) is."""
        hit = self.python_module(module)
        return self.providers.get(hit[1]) if hit and hit[0] == "provider" else None

    def package(self, name: str, *, ecosystem: str = "pypi") -> tuple[str, str] | None:
        """``(category, id)`` for a dependency named in a manifest or lockfile."""
        if ecosystem == "npm":
            return self._js.get(name.strip())
        return self._pkg.get(_norm_pkg(name))

    def js_provider(self, package: str) -> Provider | None:
        hit = self._js.get(package)
        return self.providers.get(hit[1]) if hit and hit[0] == "provider" else None

    def js_module(self, package: str) -> tuple[str, str] | None:
        return self._js.get(package)

    def boto3_service(self, client: str) -> str | None:
        """The provider id of a ``boto3.client(NAME)`` service, if it is an AI service."""
        return self._boto.get(client.strip().lower())

    def image_server(self, image: str) -> str | None:
        """The model server a container image (``repo/name:tag``) runs."""
        ref = image.strip().lower().split("@", 1)[0]
        name = ref.rsplit(":", 1)[0] if ":" in ref.rsplit("/", 1)[-1] else ref
        return self._images.get(name) or self._images.get(name.removeprefix("docker.io/"))

    def api_path_server(self, path: str) -> str | None:
        """The model server whose API ``path`` (query dropped) is."""
        p = path.split("?", 1)[0]
        for rx, sid in self._paths:
            if rx.match(p):
                return sid
        return None

    def pickle_is_model(self, modules: set[str]) -> bool:
        roots = {m.split(".", 1)[0] for m in modules}
        return bool(roots & set(self.ml.pickle_modules))

    def cloud_service(self, provider: str, text: str) -> CloudService | None:
        t = text.strip().lower()
        if not t:
            return None
        for c in self.cloud.values():
            if c.provider == provider and any(m.lower() == t for m in c.match):
                return c
        return None

    def event_service(self, source: str) -> CloudService | None:
        s = source.strip().lower()
        for c in self.cloud.values():
            if s in c.events:
                return c
        return None

    def service_name(self, sid: str) -> str:
        p = self.providers.get(sid) or self.saas.get(sid)
        return p.name if p else sid

    def is_gpu_instance(self, provider: str, instance_type: str) -> bool:
        t = instance_type.strip().lower()
        if provider == "azure":
            t = t.removeprefix("standard_")
            return any(t.startswith(f) for f in self._gpu_families["azure"])
        family = re.split(r"[.\-]", t, maxsplit=1)[0]
        return family in self._gpu_families.get(provider, set())

    def is_gpu_sku(self, text: str) -> bool:
        return bool(self._sku_re.search(text))

    def match_saas(self, vendor: str, product: str) -> SaasProduct | None:
        """The catalogue product a SaaS row names (vendor, then product words)."""
        v = vendor.strip().lower()
        pr = f" {product.strip().lower()} "
        best: SaasProduct | None = None
        for s in self.saas.values():
            if v not in s.vendors and not any(_word(x, pr) for x in (s.name.lower(), *s.aliases)):
                continue
            named = any(_word(x, pr) for x in (*s.products, *s.features))
            if s.products and not named:
                continue
            if best is None or (s.products and not best.products):
                best = s
        return best

    def lookup_id(self, text: str) -> str | None:
        """A provider or SaaS id from an id, a name or an alias (as a registry names it)."""
        t = re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()
        if not t:
            return None
        entries: list[tuple[str, tuple[str, ...]]] = [
            (p.id, (p.id, p.name, *p.aliases)) for p in self.providers.values()
        ]
        entries += [(s.id, (s.id, s.name, *s.aliases)) for s in self.saas.values()]
        for eid, names in entries:
            if any(re.sub(r"[^a-z0-9]+", " ", n.lower()).strip() == t for n in names):
                return eid
        return None


def _word(needle: str, text: str) -> bool:
    return re.search(rf"(?<![a-z0-9]){re.escape(needle)}(?![a-z0-9])", text) is not None


def _parse(text: str, origin: str) -> _File:
    try:
        raw = yaml.safe_load(text)
        return _File.model_validate(raw or {})
    except (yaml.YAMLError, ValidationError) as exc:
        msg = str(exc).splitlines()[0]
        raise FormatError(f"not a valid AI catalogue: {msg}", path=origin) from exc


@cache
def _shipped() -> _File:
    text = resources.files("aisec.monitoring").joinpath("data/ai_catalog.yaml").read_text("utf-8")
    return _parse(text, "ai_catalog.yaml")


def load_ai_catalog(extra: str | os.PathLike[str] | None = None) -> AiCatalog:
    """The shipped catalogue, with the entries of ``extra`` (same schema) added or replacing."""
    extra = None if extra is None else Path(extra)
    base = _shipped()
    if extra is None:
        return AiCatalog(base, version=base.version)
    try:
        text = extra.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read catalogue: {exc}", path=extra) from exc
    user = _parse(text, str(extra))

    def merged(a: tuple[_M, ...], b: tuple[_M, ...]) -> tuple[_M, ...]:
        out = {x.id: x for x in a}
        out.update({x.id: x for x in b})
        return tuple(out.values())

    data = _File(
        version=f"{base.version}+{user.version}",
        providers=merged(base.providers, user.providers),
        saas=merged(base.saas, user.saas),
        cloud=merged(base.cloud, user.cloud),
        frameworks=merged(base.frameworks, user.frameworks),
        servers=merged(base.servers, user.servers),
        model_hubs=merged(base.model_hubs, user.model_hubs),
        ml_libraries=MlLibraries(
            python=base.ml_libraries.python + user.ml_libraries.python,
            pypi=base.ml_libraries.pypi + user.ml_libraries.pypi,
            js=base.ml_libraries.js + user.ml_libraries.js,
            pickle_modules=base.ml_libraries.pickle_modules + user.ml_libraries.pickle_modules,
            loader_calls=base.ml_libraries.loader_calls + user.ml_libraries.loader_calls,
        ),
        gpu=Gpu(
            aws_families=base.gpu.aws_families + user.gpu.aws_families,
            gcp_families=base.gpu.gcp_families + user.gpu.gcp_families,
            azure_families=base.gpu.azure_families + user.gpu.azure_families,
            sku_words=base.gpu.sku_words + user.gpu.sku_words,
        ),
    )
    return AiCatalog(data, version=data.version)
