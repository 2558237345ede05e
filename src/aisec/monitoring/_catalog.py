"""The catalogue of AI providers and services: package data, versioned, extendable by a file."""

from __future__ import annotations

import fnmatch
import re
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
    js: tuple[str, ...] = ()


class SaasProduct(_Model):
    id: str
    name: str
    kind: Kind
    vendors: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()


class CloudService(_Model):
    id: str
    provider: Literal["aws", "gcp", "azure"]
    kind: Kind
    match: tuple[str, ...]


class Gpu(_Model):
    aws_families: tuple[str, ...] = ()
    gcp_families: tuple[str, ...] = ()
    azure_families: tuple[str, ...] = ()
    sku_words: tuple[str, ...] = ()


_M = TypeVar("_M", Provider, SaasProduct, CloudService)


class _File(_Model):
    version: str = "user"
    providers: tuple[Provider, ...] = ()
    saas: tuple[SaasProduct, ...] = ()
    cloud: tuple[CloudService, ...] = ()
    gpu: Gpu = Field(default_factory=Gpu)


class AiCatalog:
    """Lookups over the catalogue: hosts, SDK modules, SaaS vendors, billing items, GPUs."""

    def __init__(self, data: _File, *, version: str) -> None:
        self.version = version
        self.providers = {p.id: p for p in data.providers}
        self.saas = {s.id: s for s in data.saas}
        self.cloud = {c.id: c for c in data.cloud}
        self.gpu = data.gpu
        self._exact: dict[str, tuple[str, str, Kind]] = {}
        wild: list[tuple[str, str, str, Kind]] = []
        items = [(p.id, p.name, p.kind, p.domains) for p in data.providers]
        items += [(s.id, s.name, s.kind, s.domains) for s in data.saas]
        for sid, name, kind, domains in items:
            for d in domains:
                if "*" in d:
                    wild.append((d.lower(), sid, name, kind))
                else:
                    self._exact[d.lower()] = (sid, name, kind)
        self._wild = wild
        self._wild_re = (
            re.compile("|".join(f"(?:{fnmatch.translate(w[0])[4:-3]})" for w in wild) + r"\Z")
            if wild
            else None
        )
        self._py = {m: p for p in data.providers for m in p.python}
        self._js = {m: p for p in data.providers for m in p.js}
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
        for pattern, *_ in self._wild:
            out.add(max(pattern.split("*"), key=len))
        return sorted(n for n in out if n)

    def match_host(self, host: str) -> tuple[str, str, Kind] | None:
        """``(service id, name, kind)`` for an AI API host, ``None`` for anything else."""
        h = host.strip().lower().rstrip(".")
        if ":" in h:
            h = h.split(":", 1)[0]
        hit = self._exact.get(h)
        if hit is not None:
            return hit
        if self._wild_re is None or not self._wild_re.match(h):
            return None
        for pattern, sid, name, kind in self._wild:
            if fnmatch.fnmatchcase(h, pattern):
                return sid, name, kind
        return None  # pragma: no cover - the joined pattern and the loop agree

    def python_provider(self, module: str) -> Provider | None:
        """The provider whose SDK ``module`` (or a parent package of it) is."""
        parts = module.split(".")
        for i in range(len(parts), 0, -1):
            hit = self._py.get(".".join(parts[:i]))
            if hit is not None:
                return hit
        return None

    def js_provider(self, package: str) -> Provider | None:
        return self._js.get(package)

    def cloud_service(self, provider: str, text: str) -> CloudService | None:
        t = text.strip().lower()
        for c in self.cloud.values():
            if c.provider == provider and any(m.lower() == t for m in c.match):
                return c
        return None

    def is_gpu_instance(self, provider: str, instance_type: str) -> bool:
        t = instance_type.strip().lower()
        if provider == "azure":
            t = t.removeprefix("standard_")
            return any(t.startswith(f) for f in self._gpu_families["azure"])
        family = re.split(r"[.\-]", t, maxsplit=1)[0]
        return family in self._gpu_families.get(provider, set())

    def is_gpu_sku(self, text: str) -> bool:
        return bool(self._sku_re.search(text))

    def match_saas(self, vendor: str, description: str) -> SaasProduct | None:
        """A SaaS product by vendor name, or by an AI keyword in the description."""
        v = vendor.strip().lower()
        d = f" {description.strip().lower()} "
        fallback: SaasProduct | None = None
        for s in self.saas.values():
            if s.vendors and v in s.vendors:
                if not s.keywords or any(k in d or k in f" {v} " for k in s.keywords):
                    return s
            elif not s.vendors and s.keywords and any(k in d for k in s.keywords):
                fallback = fallback or s
        return fallback


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


def load_ai_catalog(extra: Path | None = None) -> AiCatalog:
    """The shipped catalogue, with the entries of ``extra`` (same schema) added or replacing."""
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
        gpu=Gpu(
            aws_families=base.gpu.aws_families + user.gpu.aws_families,
            gcp_families=base.gpu.gcp_families + user.gpu.gcp_families,
            azure_families=base.gpu.azure_families + user.gpu.azure_families,
            sku_words=base.gpu.sku_words + user.gpu.sku_words,
        ),
    )
    return AiCatalog(data, version=data.version)
