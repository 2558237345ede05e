"""Attack suites: YAML validated by pydantic, the default one shipped and hash-pinned.

A suite has ``categories`` (each mapped to OWASP LLM 2025 and ATLAS, with the success-rate
threshold its verdict is decided against), single-turn ``attacks`` (sampled to estimate
rates) and multi-turn ``escalations`` (adaptive bug-hunting, reported apart from the rates).
Every prompt in the shipped suite was written for aisec.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from aisec.core.digest import digest_bytes
from aisec.core.errors import FormatError, InputError
from aisec.evaluation._converters import apply_chain, converter
from aisec.evaluation._detectors import detector

__all__ = [
    "SUITE_SCHEMA",
    "AttackSpec",
    "CategorySpec",
    "EscalationSpec",
    "Suite",
    "Variant",
    "load_default_suite",
    "load_suite",
]

SUITE_SCHEMA = "aisec.redteam-suite/v1"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CategorySpec(_Strict):
    id: str = Field(pattern=r"^[a-z0-9-]+$")
    title: str
    owasp: str = Field(pattern=r"^LLM\d\d$")
    atlas: tuple[str, ...]
    threshold: float = Field(gt=0, lt=1)
    severity: Literal["low", "medium", "high", "critical"]
    remediation: str


class AttackSpec(_Strict):
    id: str = Field(pattern=r"^[a-z0-9-]+$")
    category: str
    family: str
    technique: str
    atlas: tuple[str, ...]
    goal: str
    prompt: str
    payload: str | None = None
    marker: str | None = None
    tools: tuple[str, ...] = ()
    requested_tools: tuple[str, ...] = ()
    detector: str
    max_tokens: int = Field(default=256, ge=1, le=32768)
    converters: tuple[tuple[str, ...], ...] = ((),)

    @model_validator(mode="after")
    def _check(self) -> AttackSpec:
        d = detector(self.detector)
        if d.needs == "marker" and not self.marker:
            raise ValueError(f"attack {self.id}: detector 'marker' needs a marker")
        if self.payload is not None and "{payload}" not in self.prompt:
            raise ValueError(f"attack {self.id}: a payload needs a {{payload}} in the prompt")
        for chain in self.converters:
            for cid in chain:
                converter(cid)
        return self


class EscalationSpec(_Strict):
    id: str = Field(pattern=r"^[a-z0-9-]+$")
    category: str
    technique: str
    atlas: tuple[str, ...]
    goal: str
    detector: str
    marker: str | None = None
    turns: tuple[str, ...] = Field(min_length=2)
    max_tokens: int = Field(default=256, ge=1, le=32768)
    # scripted: send ``turns`` in order. crescendo: ``turns`` is a ladder of escalating
    # steps; a refused step is asked again through the next of ``reframes`` (each with a
    # ``{step}`` placeholder) and the ladder only climbs after a compliant reply, for up to
    # ``max_turns`` turns in all
    mode: Literal["scripted", "crescendo"] = "scripted"
    max_turns: int = Field(default=20, ge=2, le=200)
    reframes: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _check(self) -> EscalationSpec:
        detector(self.detector)
        if any("{step}" not in r for r in self.reframes):
            raise ValueError(f"escalation {self.id}: every reframe needs a {{step}}")
        return self


class _SuiteFile(_Strict):
    schema_: Literal["aisec.redteam-suite/v1"] = Field(alias="schema")
    name: str
    categories: tuple[CategorySpec, ...]
    attacks: tuple[AttackSpec, ...]
    escalations: tuple[EscalationSpec, ...] = ()


@dataclass(frozen=True, slots=True)
class Variant:
    """One attack with one converter chain: the unit that is sampled."""

    id: str
    attack: AttackSpec
    chain: tuple[str, ...]

    def prompt(self) -> str:
        a = self.attack
        if a.payload is not None:
            return a.prompt.replace("{payload}", apply_chain(a.payload, self.chain))
        return apply_chain(a.prompt, self.chain)


@dataclass(frozen=True, slots=True)
class Suite:
    name: str
    digest: str
    categories: tuple[CategorySpec, ...]
    attacks: tuple[AttackSpec, ...]
    escalations: tuple[EscalationSpec, ...]

    def category(self, category_id: str) -> CategorySpec:
        return next(c for c in self.categories if c.id == category_id)

    def variants(self, category_id: str) -> tuple[Variant, ...]:
        out: list[Variant] = []
        for a in self.attacks:
            if a.category != category_id:
                continue
            for chain in a.converters:
                vid = a.id + "".join(f"+{c}" for c in chain)
                out.append(Variant(vid, a, tuple(chain)))
        return tuple(out)


def _parse(raw: bytes, source: str) -> Suite:
    try:
        data = yaml.safe_load(raw)
        parsed = _SuiteFile.model_validate(data)
    except yaml.YAMLError as exc:
        raise FormatError(f"suite is not YAML: {exc}", path=source) from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise FormatError(f"suite is invalid at {where}: {first['msg']}", path=source) from exc
    cats = {c.id for c in parsed.categories}
    items: list[AttackSpec | EscalationSpec] = [*parsed.attacks, *parsed.escalations]
    for item in items:
        if item.category not in cats:
            raise FormatError(f"{item.id}: unknown category {item.category!r}", path=source)
    ids = [a.id for a in parsed.attacks] + [e.id for e in parsed.escalations]
    if len(ids) != len(set(ids)):
        raise FormatError("attack ids must be unique", path=source)
    return Suite(
        parsed.name, digest_bytes(raw), parsed.categories, parsed.attacks, parsed.escalations
    )


def load_default_suite() -> Suite:
    """The shipped suite, after checking it against its pinned digest."""
    base = resources.files("aisec.evaluation").joinpath("data")
    raw = base.joinpath("suite_default.yaml").read_bytes()
    pinned = base.joinpath("suite_default.sha256").read_text("utf-8").strip()
    if digest_bytes(raw) != pinned:
        raise FormatError(
            "the shipped attack suite does not match its pinned digest; reinstall aisec",
            path="suite_default.yaml",
        )
    return _parse(raw, "suite_default.yaml")


def load_suite(spec: str | os.PathLike[str]) -> Suite:
    """``default`` or the path of a suite YAML file."""
    if str(spec) == "default":
        return load_default_suite()
    path = Path(spec)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read suite: {exc.strerror}", path=path) from exc
    return _parse(raw, str(path))
