"""Each public package exports exactly its ``__all__``, and every name in it exists."""

from __future__ import annotations

import importlib
import inspect

import pytest

PUBLIC = [
    "aisec",
    "aisec.core.errors",
    "aisec.core.findings",
    "aisec.core.digest",
    "aisec.core.evidence",
    "aisec.core.frameworks",
    "aisec.core.controls",
    "aisec.core.predicates",
    "aisec.core.stats",
    "aisec.core.evidence.recorder",
    "aisec.registry",
    "aisec.monitoring",
    "aisec.evaluation",
    "aisec.data",
    "aisec.inference",
    "aisec.deployment",
    "aisec.cli",
]


@pytest.mark.parametrize("name", PUBLIC)
def test_all_is_exact(name: str) -> None:
    module = importlib.import_module(name)
    exported = set(module.__all__)
    assert len(exported) == len(module.__all__), "duplicates in __all__"
    for member in exported:
        assert hasattr(module, member), f"{name}.__all__ names missing {member}"
    # every public class or function defined in this package is exported
    for member, obj in vars(module).items():
        if member.startswith("_") or not (inspect.isclass(obj) or inspect.isfunction(obj)):
            continue
        if getattr(obj, "__module__", "").startswith(name):
            assert member in exported, f"{name}.{member} is public but not in __all__"
