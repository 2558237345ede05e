"""The public names of the signing and gate modules are exactly their ``__all__``."""

from __future__ import annotations

import importlib
import inspect

import pytest

MODULES = [
    "aisec.deployment.signing",
    "aisec.deployment.signing_bundle",
    "aisec.deployment.gate",
    "aisec.deployment.gate_policy",
    "aisec.deployment.gate_formats",
    "aisec.cli.model_sign",
    "aisec.cli.gate",
]


@pytest.mark.parametrize("name", MODULES)
def test_all_is_exact(name: str) -> None:
    module = importlib.import_module(name)
    exported = set(module.__all__)
    assert len(exported) == len(module.__all__)
    for member in exported:
        assert hasattr(module, member), f"{name}.__all__ names missing {member}"
    for member, obj in vars(module).items():
        if member.startswith("_") or not (inspect.isclass(obj) or inspect.isfunction(obj)):
            continue
        if getattr(obj, "__module__", "") == name:
            assert member in exported, f"{name}.{member} is public but not in __all__"


def test_src_never_imports_model_signing() -> None:
    """model-signing is a dev dependency for the interop tests only."""
    from pathlib import Path

    src = Path(importlib.import_module("aisec").__file__ or "").parent
    for path in src.rglob("*.py"):
        text = path.read_text()
        assert "import model_signing" not in text, path
        assert "from model_signing" not in text, path
