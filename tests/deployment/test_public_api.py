"""The public API of aisec.deployment (scan and convert) is exactly its __all__."""

from __future__ import annotations

import importlib
import inspect

import pytest

PACKAGES = ["aisec.deployment.scan", "aisec.deployment.convert", "aisec.cli.model"]


@pytest.mark.parametrize("name", PACKAGES)
def test_all_is_exact(name: str) -> None:
    module = importlib.import_module(name)
    exported = set(module.__all__)
    assert len(exported) == len(module.__all__)
    for member in exported:
        assert hasattr(module, member), member
    for member, obj in vars(module).items():
        if member.startswith("_") or not (inspect.isclass(obj) or inspect.isfunction(obj)):
            continue
        if getattr(obj, "__module__", "").startswith(name):
            assert member in exported, f"{name}.{member} is public but not in __all__"


def test_stage_package_reexports_scan_and_convert() -> None:
    import aisec.deployment as dep
    import aisec.deployment.convert as conv
    import aisec.deployment.scan as scan

    for name in [*conv.__all__, *(n for n in scan.__all__ if n != "classify_callable")]:
        assert name in dep.__all__ and hasattr(dep, name), name


def test_model_group_has_scan_and_convert() -> None:
    from aisec.cli.model import model_group

    assert model_group.name == "model"
    assert {"scan", "convert"} <= set(model_group.commands)
