"""Stage 6 (monitoring): discover AI systems in use, expose shadow AI, AI-BOM, governance.

>>> from aisec.monitoring import discover
"""

from __future__ import annotations

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
from aisec.monitoring._rules import RULES, Rule
from aisec.monitoring._state import RISK_TIERS, current_inventory, find_system, update_system
from aisec.monitoring._synth import EnterpriseTruth, synth_enterprise

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
    "Rule",
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
