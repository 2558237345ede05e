"""Scaling past one machine: registry-scale scans, data audits and log discovery on
Ray. Nothing here imports Ray until ``engine="ray"`` is asked for.

    >>> from aisec.scale import plan_sweep, run_sweep
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aisec.core._lazy import lazy_dir, lazy_exports

if TYPE_CHECKING:
    from aisec.scale.data_audit import ray_row_pass
    from aisec.scale.discover import ray_file_map
    from aisec.scale.sweep import ModelUnit, SweepResult, plan_sweep, run_sweep, scan_chunk

_EXPORTS = {
    "ModelUnit": "aisec.scale.sweep",
    "SweepResult": "aisec.scale.sweep",
    "plan_sweep": "aisec.scale.sweep",
    "ray_file_map": "aisec.scale.discover",
    "ray_row_pass": "aisec.scale.data_audit",
    "run_sweep": "aisec.scale.sweep",
    "scan_chunk": "aisec.scale.sweep",
}
__getattr__ = lazy_exports(__name__, _EXPORTS)

__all__ = [
    "ModelUnit",
    "SweepResult",
    "plan_sweep",
    "ray_file_map",
    "ray_row_pass",
    "run_sweep",
    "scan_chunk",
]
__dir__ = lazy_dir(__all__)
