"""Stage 6 (monitoring): discover AI systems in use, expose shadow AI, AI-BOM, governance.

>>> from aisec.monitoring import discover
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aisec.core._lazy import lazy_dir, lazy_exports

if TYPE_CHECKING:
    from aisec.monitoring._attest import attest_bom, attest_governance, attest_inventory
    from aisec.monitoring._bom import build_bom, validate_bom
    from aisec.monitoring._catalog import SYSTEM_KINDS, AiCatalog, load_ai_catalog
    from aisec.monitoring._detect import FORMATS, detect_format, iter_files
    from aisec.monitoring._discover import INVENTORY_SCHEMA, Inventory, discover
    from aisec.monitoring._govern import (
        GOVERNANCE_SCHEMA,
        governance_report,
        render_html,
        render_text,
    )
    from aisec.monitoring._model import Observation, RegistryEntry, Skipped
    from aisec.monitoring._reconcile import System, reconcile
    from aisec.monitoring._registry import load_registry
    from aisec.monitoring._rules import RULES
    from aisec.monitoring._state import RISK_TIERS, current_inventory, find_system, update_system
    from aisec.monitoring._synth import EnterpriseTruth, synth_enterprise

# the stage's modules load on first use: importing the package (as the control registry
# does) costs nothing
_EXPORTS = {
    "attest_bom": "aisec.monitoring._attest",
    "attest_governance": "aisec.monitoring._attest",
    "attest_inventory": "aisec.monitoring._attest",
    "build_bom": "aisec.monitoring._bom",
    "validate_bom": "aisec.monitoring._bom",
    "SYSTEM_KINDS": "aisec.monitoring._catalog",
    "AiCatalog": "aisec.monitoring._catalog",
    "load_ai_catalog": "aisec.monitoring._catalog",
    "FORMATS": "aisec.monitoring._detect",
    "detect_format": "aisec.monitoring._detect",
    "iter_files": "aisec.monitoring._detect",
    "INVENTORY_SCHEMA": "aisec.monitoring._discover",
    "Inventory": "aisec.monitoring._discover",
    "discover": "aisec.monitoring._discover",
    "GOVERNANCE_SCHEMA": "aisec.monitoring._govern",
    "governance_report": "aisec.monitoring._govern",
    "render_html": "aisec.monitoring._govern",
    "render_text": "aisec.monitoring._govern",
    "Observation": "aisec.monitoring._model",
    "RegistryEntry": "aisec.monitoring._model",
    "Skipped": "aisec.monitoring._model",
    "System": "aisec.monitoring._reconcile",
    "reconcile": "aisec.monitoring._reconcile",
    "load_registry": "aisec.monitoring._registry",
    "RULES": "aisec.monitoring._rules",
    "RISK_TIERS": "aisec.monitoring._state",
    "current_inventory": "aisec.monitoring._state",
    "find_system": "aisec.monitoring._state",
    "update_system": "aisec.monitoring._state",
    "EnterpriseTruth": "aisec.monitoring._synth",
    "synth_enterprise": "aisec.monitoring._synth",
}
__getattr__ = lazy_exports(__name__, _EXPORTS)

__all__ = [
    "FORMATS",
    "GOVERNANCE_SCHEMA",
    "INVENTORY_SCHEMA",
    "RISK_TIERS",
    "RULES",
    "SYSTEM_KINDS",
    "AiCatalog",
    "EnterpriseTruth",
    "Inventory",
    "Observation",
    "RegistryEntry",
    "Skipped",
    "System",
    "attest_bom",
    "attest_governance",
    "attest_inventory",
    "build_bom",
    "current_inventory",
    "detect_format",
    "discover",
    "find_system",
    "governance_report",
    "iter_files",
    "load_ai_catalog",
    "load_registry",
    "reconcile",
    "render_html",
    "render_text",
    "synth_enterprise",
    "update_system",
    "validate_bom",
]
__dir__ = lazy_dir(__all__)
