"""Terraform HCL sources read directly (python-hcl2), so a repository is checked before
any plan exists, for any provider.

The parser only builds a syntax tree; nothing is evaluated. Input variables (defaults,
``terraform.tfvars``, ``*.auto.tfvars``, a module call's arguments), locals and literal
interpolations are resolved here; every other expression (a function call, a resource's
computed attribute, a ``dynamic`` block) stays :class:`Unresolved`, and the rules report
what they needed and could not read as unverified, never as a pass.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aisec.core.errors import FormatError, InputError, MissingExtraError

__all__ = ["HclResource", "Unresolved", "load_hcl_module", "references"]

MAX_TF_BYTES = 8 * 1024 * 1024
MAX_MODULE_DEPTH = 8
_TRAVERSAL = re.compile(r"^(var|local)\.([A-Za-z_][\w-]*)((?:\[[^\]]+\]|\.[A-Za-z_][\w-]*)*)$")
_STEP = re.compile(r"\[([^\]]+)\]|\.([A-Za-z_][\w-]*)")
_INTERP = re.compile(r"\$\{([^${}]*)\}")
_REF = re.compile(r"\b((?:module\.[\w-]+\.)*(?:data\.)?[a-z][a-z0-9]*_[\w-]+\.[\w-]+)")


@dataclass(frozen=True, slots=True)
class Unresolved:
    """An expression that cannot be read statically; ``text`` is its source."""

    text: str

    def __str__(self) -> str:
        return f"${{{self.text}}}" if not self.text.startswith("${") else self.text


@dataclass(frozen=True, slots=True)
class HclResource:
    file: str
    address: str
    type: str
    values: Mapping[str, Any]
    refs: frozenset[str]


def _string(text: str) -> str:
    try:
        out = json.loads(text)
    except ValueError:
        return text[1:-1]
    return out if isinstance(out, str) else text[1:-1]


class _Scope:
    def __init__(self, variables: Mapping[str, Any], locals_raw: Mapping[str, Any]) -> None:
        self.variables = dict(variables)
        self.locals_raw = dict(locals_raw)
        self.locals: dict[str, Any] = {}
        self._busy: set[str] = set()

    def lookup(self, kind: str, name: str) -> Any:
        if kind == "var":
            return self.variables.get(name, Unresolved(f"var.{name}"))
        if name in self.locals:
            return self.locals[name]
        if name not in self.locals_raw or name in self._busy:
            return Unresolved(f"local.{name}")
        self._busy.add(name)
        value = self.resolve(self.locals_raw[name])
        self._busy.discard(name)
        self.locals[name] = value
        return value

    def _expression(self, inner: str) -> Any:
        m = _TRAVERSAL.match(inner.strip())
        if not m:
            return Unresolved(inner.strip())
        value = self.lookup(m.group(1), m.group(2))
        for step in _STEP.finditer(m.group(3) or ""):
            if isinstance(value, Unresolved):
                return Unresolved(inner.strip())
            key = step.group(2) if step.group(2) is not None else step.group(1).strip()
            if isinstance(value, list) and key.isdigit() and int(key) < len(value):
                value = value[int(key)]
            elif isinstance(value, Mapping):
                k = _string(key) if key.startswith('"') else key
                if k not in value:
                    return Unresolved(inner.strip())
                value = value[k]
            else:
                return Unresolved(inner.strip())
        return value

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if isinstance(value, Mapping):
            return {
                _string(k) if k.startswith('"') else k: self.resolve(v)
                for k, v in value.items()
                if k != "__is_block__"
            }
        if not isinstance(value, str):
            return value
        if value.startswith("${") and value.endswith("}") and _INTERP.fullmatch(value):
            return self._expression(value[2:-1])
        if value.startswith("${"):
            return Unresolved(value[2:-1])
        if value.startswith('"') and value.endswith('"') and len(value) >= 2:
            text = _string(value)
            if "${" not in text and "%{" not in text:
                return text
            failed: list[str] = []

            def sub(m: re.Match[str]) -> str:
                got = self._expression(m.group(1))
                if isinstance(got, (str, int, float)) and not isinstance(got, bool):
                    return str(got)
                failed.append(m.group(1))
                return m.group(0)

            out = _INTERP.sub(sub, text)
            return Unresolved(text) if failed or "%{" in out or "${" in out else out
        return value


def references(value: Any) -> set[str]:
    """Resource addresses an unresolved value refers to (``aws_s3_bucket.weights``)."""
    out: set[str] = set()
    if isinstance(value, Unresolved):
        out.update(m.group(1) for m in _REF.finditer(value.text))
    elif isinstance(value, list):
        for v in value:
            out |= references(v)
    elif isinstance(value, Mapping):
        for v in value.values():
            out |= references(v)
    return {r for r in out if not r.startswith(("var.", "local."))}


def _parse_file(path: Path) -> dict[str, Any]:
    try:
        import hcl2  # the optional parser, loaded only for .tf input
    except ImportError as exc:
        raise MissingExtraError("reading Terraform .tf files", "infra") from exc

    try:
        if path.stat().st_size > MAX_TF_BYTES:
            raise InputError(f"over the {MAX_TF_BYTES} byte limit for a .tf file", path=path)
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise FormatError("not UTF-8 text (expected Terraform HCL)", path=path) from exc
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", path=path) from exc
    try:
        doc = hcl2.loads(text)
    except RecursionError as exc:
        raise FormatError("HCL nested too deeply", path=path) from exc
    except Exception as exc:  # the parser raises its own (lark) errors on bad syntax
        first = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
        raise FormatError(f"not valid Terraform HCL: {first}", path=path) from exc
    return doc if isinstance(doc, dict) else {}


def _tfvars(folder: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    files = [folder / "terraform.tfvars", *sorted(folder.glob("*.auto.tfvars"))]
    plain = _Scope({}, {})
    for f in files:
        if f.is_file():
            for k, v in _parse_file(f).items():
                out[k] = plain.resolve(v)
    return out


def _blocks(doc: Mapping[str, Any], key: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for item in doc.get(key) or []:
        if isinstance(item, Mapping):
            for name, body in item.items():
                if isinstance(body, Mapping):
                    yield _string(name) if name.startswith('"') else name, body


def load_hcl_module(
    folder: Path,
    inputs: Mapping[str, Any] | None = None,
    prefix: str = "",
    depth: int = 0,
    files: list[Path] | None = None,
    visited: set[Path] | None = None,
) -> list[HclResource]:
    """Every managed resource of the module in ``folder`` (and its local child modules)."""
    paths = files if files is not None else sorted(folder.glob("*.tf"))
    docs = [(p, _parse_file(p)) for p in paths]
    variables: dict[str, Any] = {}
    for _, doc in docs:
        for name, body in _blocks(doc, "variable"):
            variables[name] = _Scope({}, {}).resolve(body["default"]) if "default" in body else None
    variables = {k: v if v is not None else Unresolved(f"var.{k}") for k, v in variables.items()}
    if inputs is None:
        variables.update(_tfvars(folder))
    else:
        variables.update(inputs)
    locals_raw: dict[str, Any] = {}
    for _, doc in docs:
        for item in doc.get("locals") or []:
            if isinstance(item, Mapping):
                locals_raw.update({k: v for k, v in item.items() if k != "__is_block__"})
    scope = _Scope(variables, locals_raw)
    out: list[HclResource] = []
    for path, doc in docs:
        for item in doc.get("resource") or []:
            if not isinstance(item, Mapping):
                continue
            for rtype, named in item.items():
                if not isinstance(named, Mapping):
                    continue
                t = _string(rtype) if rtype.startswith('"') else rtype
                for rname, body in named.items():
                    if not isinstance(body, Mapping):
                        continue
                    n = _string(rname) if rname.startswith('"') else rname
                    values = scope.resolve(body)
                    out.append(
                        HclResource(
                            str(path),
                            f"{prefix}{t}.{n}",
                            t,
                            values,
                            frozenset(prefix + r for r in references(values)),
                        )
                    )
        for name, body in _blocks(doc, "module"):
            source = scope.resolve(body.get("source"))
            if not isinstance(source, str) or not source.startswith(("./", "../")):
                continue  # registry and git modules are not on disk
            child = (folder / source).resolve()
            if depth >= MAX_MODULE_DEPTH or not child.is_dir():
                continue
            if visited is not None:
                visited.add(child)
            args = {
                k: scope.resolve(v)
                for k, v in body.items()
                if k not in ("source", "version", "__is_block__", "count", "for_each", "providers")
            }
            out.extend(
                load_hcl_module(child, args, f"{prefix}module.{name}.", depth + 1, visited=visited)
            )
    return out
