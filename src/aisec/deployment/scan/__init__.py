"""Model file scanner: finds content that executes when a model file is loaded.

Static only: pickles are walked opcode by opcode (``pickletools``), archives are parsed
from their bytes, templates are parsed and never rendered. Nothing in a scanned file is
executed, imported or deserialised.
"""

from __future__ import annotations

from aisec.deployment.scan._engine import (
    FileResult,
    ScanReport,
    scan_file,
    scan_model,
    scan_predicate,
    scan_statement,
)
from aisec.deployment.scan._policy import SAFE_CALLABLES, classify_callable
from aisec.deployment.scan._rules import RULES

__all__ = [
    "RULES",
    "SAFE_CALLABLES",
    "FileResult",
    "ScanReport",
    "classify_callable",
    "scan_file",
    "scan_model",
    "scan_predicate",
    "scan_statement",
]
