"""Lazy package exports: a package's public names load from their modules on first use.

A stage package re-exports names from heavy modules (the gateway pulls in aiohttp and
Starlette, the red-team engine its targets). With :func:`lazy_exports` importing the package
costs nothing, so ``aisec.registry`` can read every stage's control declarations and a
command pays only for the modules it uses.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_dir", "lazy_exports"]


def lazy_exports(package: str, names: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that imports ``names[name]`` (a module path) on first use."""

    def __getattr__(name: str) -> Any:  # noqa: N807 - installed as the module's __getattr__
        module = names.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(module), name)

    return __getattr__


def lazy_dir(names: list[str]) -> Callable[[], list[str]]:
    """A module ``__dir__`` that lists the public names, loaded or not."""

    def __dir__() -> list[str]:  # noqa: N807 - installed as the module's __dir__
        return sorted(names)

    return __dir__
