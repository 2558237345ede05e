"""Scaling past one machine: registry-scale scans (and later data audits and discovery) on
Ray. Nothing here imports Ray until ``engine="ray"`` is asked for.

    >>> from aisec.scale import plan_sweep, run_sweep
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aisec.core._lazy import lazy_dir, lazy_exports

if TYPE_CHECKING:
    from aisec.scale.sweep import ModelUnit, SweepResult, plan_sweep, run_sweep, scan_chunk

_EXPORTS = {
    "ModelUnit": "aisec.scale.sweep",
    "SweepResult": "aisec.scale.sweep",
    "plan_sweep": "aisec.scale.sweep",
    "run_sweep": "aisec.scale.sweep",
    "scan_chunk": "aisec.scale.sweep",
}
__getattr__ = lazy_exports(__name__, _EXPORTS)

__all__ = ["ModelUnit", "SweepResult", "plan_sweep", "run_sweep", "scan_chunk"]
__dir__ = lazy_dir(__all__)
