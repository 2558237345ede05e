"""The deploy gate's policy: a YAML file validated by pydantic, errors with line numbers.

Every key is kebab-case; unknown keys are refused. See docs/gate.md and
examples/gate-policy.yaml. Each mistake gives one line ``FILE:LINE: key.path: what is wrong``.
"""

from __future__ import annotations

import os
import re
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeAlias, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from aisec.core.digest import digest_bytes, parse_digest
from aisec.core.errors import FormatError, InputError

__all__ = [
    "MODEL_FORMATS",
    "ChainPolicy",
    "DataPolicy",
    "EvidencePolicy",
    "FormatPolicy",
    "GatePolicy",
    "LoadedPolicy",
    "ModelFormat",
    "RedteamPolicy",
    "ScanPolicy",
    "SignaturePolicy",
    "TriagePolicy",
    "ValidationPolicy",
    "load_policy",
    "parse_policy",
]

ModelFormat: TypeAlias = Literal["safetensors", "pickle", "torch", "gguf", "onnx", "keras", "h5"]
MODEL_FORMATS: tuple[str, ...] = get_args(ModelFormat)
_KEYID = re.compile(r"^[0-9a-f]{64}$")
_MAX_POLICY_BYTES = 1024 * 1024


def _kebab(name: str) -> str:
    return name.replace("_", "-")


class _Section(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, alias_generator=_kebab, populate_by_name=False
    )


def _check_keys(keys: list[str]) -> list[str]:
    for k in keys:
        if not k.strip():
            raise ValueError("a key must be a public key file or a 64-hex keyid")
    return keys


class SignaturePolicy(_Section):
    """A valid OpenSSF model signature by one of ``keys``."""

    file: str = "model.sig"  # relative to the model folder, or absolute
    keys: list[str] = Field(min_length=1)  # public key files (relative to the policy) or keyids

    _keys = field_validator("keys")(_check_keys)


class ScanPolicy(_Section):
    """A clean ``deployment/model-scan:v1`` attestation for every file digest."""

    required: bool = True


class FormatPolicy(_Section):
    """Only these model formats (detected by magic bytes, not by name)."""

    allow: list[ModelFormat] = Field(min_length=1)
    allow_other: bool = True  # files that are no model format (JSON, text, tokenizer files)


class RedteamPolicy(_Section):
    """An ``evaluation/redteam:v1`` attestation for this model with CI upper bounds below limits."""

    system_prompt: str | None = None  # a file, relative to the policy; its digest must match
    max_upper_bound: float = Field(default=0.05, gt=0, le=1)
    categories: dict[str, float] = Field(default_factory=dict)  # per-category limits
    required_categories: list[str] = Field(default_factory=list)

    @field_validator("categories")
    @classmethod
    def _limits(cls, value: dict[str, float]) -> dict[str, float]:
        for name, limit in value.items():
            if not 0 < limit <= 1:
                raise ValueError(f"limit of {name!r} must be in (0, 1], got {limit}")
        return value


class ValidationPolicy(_Section):
    """An ``evaluation/model-validation:v1`` attestation for this model (or one of its files)
    whose metric intervals stay within limits: ``max`` bounds the upper end of a metric's
    interval, ``min`` the lower end (``extraction.raw.queries_to_fidelity: 1000``)."""

    max: dict[str, float] = Field(default_factory=dict)  # e.g. membership.auc: 0.6
    min: dict[str, float] = Field(default_factory=dict)
    required_checks: list[Literal["membership", "extraction", "evasion", "fairness"]] = Field(
        default_factory=list
    )

    @model_validator(mode="after")
    def _something(self) -> ValidationPolicy:
        if not (self.max or self.min or self.required_checks):
            raise ValueError("validation needs max, min or required-checks")
        return self


class DataPolicy(_Section):
    """A ``data/audit:v1`` attestation per training dataset digest, with risk below a limit."""

    datasets: list[str] = Field(min_length=1)
    max_risk: float = Field(default=0.5, ge=0, le=1)

    @field_validator("datasets")
    @classmethod
    def _digests(cls, value: list[str]) -> list[str]:
        try:
            return [parse_digest(v) for v in value]
        except InputError as exc:
            raise ValueError(exc.message) from None


class EvidencePolicy(_Section):
    """Which keys attestations must be signed by, and how old they may be."""

    trusted_keys: list[str] = Field(min_length=1)
    max_age_days: float | None = Field(default=None, gt=0)

    _keys = field_validator("trusted_keys")(_check_keys)


TriageStateName: TypeAlias = Literal["accepted-risk", "false-positive", "fixed", "suppressed"]
TriageCheck: TypeAlias = Literal["scan", "redteam", "data"]


def _default_honour() -> list[TriageStateName]:
    return ["accepted-risk"]


def _default_checks() -> list[TriageCheck]:
    return ["redteam", "data"]


class TriagePolicy(_Section):
    """Which signed triage decisions turn a failed check into an accepted one."""

    honour: list[TriageStateName] = Field(default_factory=_default_honour, min_length=1)
    checks: list[TriageCheck] = Field(default_factory=_default_checks, min_length=1)
    max_days: float | None = Field(default=None, gt=0)  # longest acceptance honoured


class ChainPolicy(_Section):
    """The chain of evidence must be complete (no gap) from the data up to this stage."""

    until: Literal["data", "training", "evaluation", "deployment"] = "evaluation"


class GatePolicy(_Section):
    """What evidence a model needs before it may be deployed."""

    version: Literal[1] = 1
    signature: SignaturePolicy | None = None
    scan: ScanPolicy | None = None
    formats: FormatPolicy | None = None
    redteam: RedteamPolicy | None = None
    validation: ValidationPolicy | None = None
    data: DataPolicy | None = None
    triage: TriagePolicy | None = None
    chain: ChainPolicy | None = None
    evidence: EvidencePolicy | None = None

    @model_validator(mode="after")
    def _needs_trusted_keys(self) -> GatePolicy:
        wants = [
            n
            for n in ("scan", "redteam", "validation", "data", "triage", "chain")
            if getattr(self, n) is not None
        ]
        if wants and self.evidence is None:
            raise ValueError(
                f"{', '.join(wants)} need an 'evidence' section with 'trusted-keys' "
                "(the keys attestations must be signed by)"
            )
        required = (self.signature, self.scan, self.formats, self.redteam, self.validation)
        if not any((*required, self.data, self.chain)):
            raise ValueError("the policy requires nothing: add signature, scan, formats, ...")
        return self


@dataclass(frozen=True)
class LoadedPolicy:
    """A policy with where it came from: relative key and prompt paths start at ``base_dir``."""

    policy: GatePolicy
    base_dir: Path
    source: str
    digest: str

    def resolve(self, path: str) -> Path:
        p = Path(path).expanduser()
        return p if p.is_absolute() else self.base_dir / p


# --- YAML with line numbers --------------------------------------------------------------------


class _Map(dict[Any, Any]):
    line: int = 0
    key_lines: dict[Any, int]


class _Seq(list[Any]):
    line: int = 0
    item_lines: list[int]


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that remembers the line of every mapping key and sequence item."""


def _mapping(loader: _LineLoader, node: yaml.MappingNode) -> _Map:
    loader.flatten_mapping(node)
    out = _Map()
    out.line = node.start_mark.line + 1
    out.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if not isinstance(key, str | int | float | bool) or key is None:
            raise _YamlMistakeError(line, "keys must be plain text")
        if key in out:
            raise _YamlMistakeError(line, f"{key}: given twice")
        out[key] = loader.construct_object(value_node, deep=True)
        out.key_lines[key] = line
    return out


def _sequence(loader: _LineLoader, node: yaml.SequenceNode) -> _Seq:
    out = _Seq(loader.construct_object(n, deep=True) for n in node.value)
    out.line = node.start_mark.line + 1
    out.item_lines = [n.start_mark.line + 1 for n in node.value]
    return out


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _sequence)


class _YamlMistakeError(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def _line_of(data: Any, loc: tuple[int | str, ...]) -> tuple[int, bool]:
    """The line of the deepest part of ``loc`` present in ``data``; and whether all was found."""
    line = getattr(data, "line", 1)
    node = data
    for part in loc:
        if isinstance(node, _Map) and part in node:
            line, node = node.key_lines[part], node[part]
        elif isinstance(node, _Seq) and isinstance(part, int) and 0 <= part < len(node):
            line, node = node.item_lines[part], node[part]
        else:
            return line, False
    return line, True


def _allowed_keys(loc: tuple[int | str, ...]) -> list[str]:
    """The keys accepted at ``loc`` (a path to a mapping), for 'unknown key' messages."""
    cls: Any = GatePolicy
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(cls, type) and issubclass(cls, BaseModel)):
            return []
        field = next(
            (f for n, f in cls.model_fields.items() if (f.alias or n) == part),
            None,
        )
        if field is None:
            return []
        cls = _unwrap(field.annotation)
    if isinstance(cls, type) and issubclass(cls, BaseModel):
        return [f.alias or n for n, f in cls.model_fields.items()]
    return []


def _unwrap(tp: Any) -> Any:
    while get_origin(tp) in (Union, types.UnionType, list):
        args = [a for a in get_args(tp) if a is not type(None)]
        tp = args[0] if args else tp
    return tp


def _messages(exc: ValidationError, data: Any, source: str) -> list[str]:
    out = []
    for err in exc.errors():
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function")))
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")
        where = where or "(top level)"
        line, _ = _line_of(data, loc)
        kind = err["type"]
        if kind == "extra_forbidden":
            allowed = _allowed_keys(loc[:-1])
            hint = f" (allowed: {', '.join(allowed)})" if allowed else ""
            msg = f"unknown key{hint}"
        elif kind == "missing":
            msg = "required key is missing"
        else:
            got = err.get("input")
            shown = "" if isinstance(got, dict | list) else f" (got {got!r})"
            msg = err["msg"].removeprefix("Value error, ") + shown
        out.append(f"{source}:{line}: {where}: {msg}")
    return out


def parse_policy(text: str, *, source: str = "policy") -> GatePolicy:
    """Validate policy YAML; raise ``FormatError`` naming the line of every mistake."""
    try:
        data = yaml.load(text, Loader=_LineLoader)  # noqa: S506 - a SafeLoader subclass
    except _YamlMistakeError as exc:
        raise FormatError(f"{source}:{exc.line}: {exc.message}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc)
        raise FormatError(f"{source}:{line}: not valid YAML: {problem}") from None
    if not isinstance(data, dict):
        raise FormatError(f"{source}:1: a policy is a mapping of sections (signature, scan, ...)")
    try:
        return GatePolicy.model_validate(data)
    except ValidationError as exc:
        lines = _messages(exc, data, source)
        if len(lines) == 1:
            raise FormatError(lines[0]) from None
        body = "\n  ".join(lines)
        raise FormatError(f"{source}: {len(lines)} mistakes:\n  {body}") from None


def load_policy(path: str | os.PathLike[str]) -> LoadedPolicy:
    """Read and validate a policy file; relative paths in it start at its folder."""
    p = Path(path)
    try:
        if p.stat().st_size > _MAX_POLICY_BYTES:
            raise InputError(f"{p}: too large for a policy file", path=p)
        raw = p.read_bytes()
    except FileNotFoundError as exc:
        raise InputError(f"{p}: no such policy file", path=p) from exc
    except OSError as exc:
        raise InputError(f"{p}: cannot read ({exc.strerror})", path=p) from exc
    try:
        text = raw.decode()
    except UnicodeDecodeError as exc:
        raise FormatError(f"{p}: a policy must be UTF-8 text") from exc
    policy = parse_policy(text, source=str(p))
    return LoadedPolicy(policy, p.parent, str(p), digest_bytes(raw))
