"""Where aisec keeps its state: the ``.aisec`` folder."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

__all__ = [
    "aisec_home",
    "default_key_path",
    "evidence_root",
    "portable_json",
    "portable_path",
    "portable_text",
    "use_evidence_root",
]


def aisec_home() -> Path:
    """``$AISEC_HOME`` (the ``.aisec`` folder itself) or ``./.aisec`` in the working directory."""
    env = os.environ.get("AISEC_HOME")
    return Path(env) if env else Path.cwd() / ".aisec"


def default_key_path() -> Path:
    """``$AISEC_KEY`` or ``.aisec/keys/aisec.key`` (here, not in the keys module: deciding
    whether a run records must not load the cryptography library)."""
    env = os.environ.get("AISEC_KEY")
    return Path(env) if env else aisec_home() / "keys" / "aisec.key"


# --------------------------------------------------------------------- portable evidence
# Evidence made on one machine must read the same on another: no signed statement names a
# local folder. Paths are written relative to the evidence root (the project or model folder;
# the working directory unless a command or the demo declares another), and a path outside it
# is named by its file name alone: its digest identifies it.
_ROOT: ContextVar[Path | None] = ContextVar("aisec_evidence_root", default=None)


def evidence_root() -> Path:
    """The folder paths in evidence are relative to (default: the working directory)."""
    return _ROOT.get() or Path.cwd()


@contextmanager
def use_evidence_root(root: str | os.PathLike[str]) -> Iterator[Path]:
    """Within the block, statements name paths relative to ``root``."""
    resolved = Path(root).resolve()
    token = _ROOT.set(resolved)
    try:
        yield resolved
    finally:
        _ROOT.reset(token)


def portable_path(path: str | os.PathLike[str], root: Path | None = None) -> str:
    """``path`` as evidence names it: relative (POSIX) to the evidence root, or its file name
    when it lies outside; relative paths are kept as they are."""
    text = os.fspath(path)
    p = Path(text)
    if not p.is_absolute():
        if ".." not in p.parts:
            return p.as_posix() if text else text
        p = Path.cwd() / p  # a relative path that climbs: place it, then relativise
    base = (root or evidence_root()).resolve()
    try:
        return p.resolve().relative_to(base).as_posix() or "."
    except ValueError:
        return p.name or "artifact"


def portable_text(text: str, root: Path | None = None) -> str:
    """A message with the evidence root's absolute prefix taken out of every path in it."""
    base = str((root or evidence_root()).resolve())
    if base in ("", "/") or base not in text:
        return text
    return text.replace(base + os.sep, "").replace(base, ".")


def portable_json(value: Any, root: Path | None = None, _depth: int = 0) -> Any:
    """``value`` (JSON-like) with :func:`portable_text` applied to every string in it."""
    if _depth > 64:
        return value
    base = root or evidence_root()
    if isinstance(value, str):
        return portable_text(value, base)
    if isinstance(value, dict):
        return {k: portable_json(v, base, _depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [portable_json(v, base, _depth + 1) for v in value]
    return value
