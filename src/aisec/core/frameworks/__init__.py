"""The framework catalog: MITRE ATLAS, OWASP Top 10 for LLM Applications 2025, Google SAIF,
NIST AI RMF 1.0, ISO/IEC 42001 Annex A and the CoSAI risk map, plus aisec's six lifecycle
stages, the controls aisec implements per stage and the role matrix.

    >>> from aisec.core.frameworks import load_catalog
    >>> cat = load_catalog()
    >>> cat.resolve("aml.t0024").name
    'Exfiltration via AI Inference API'
    >>> cat.stage("guard").id
    'inference'

Ids, names and relationships are facts of the frameworks; descriptions are either our own
one-line summaries or, for ATLAS, the official text from a release the user imported with
``import_atlas`` (``aisec frameworks import ATLAS.yaml``). See docs/frameworks.md.
"""

from __future__ import annotations

from aisec.core.frameworks._catalog import Catalog, load_catalog
from aisec.core.frameworks._model import (
    FRAMEWORK_KEYS,
    AtlasImport,
    AtlasOverlayInfo,
    Entry,
    FrameworkInfo,
    Role,
    Stage,
)
from aisec.core.frameworks._overlay import MAX_IMPORT_BYTES, import_atlas

__all__ = [
    "FRAMEWORK_KEYS",
    "MAX_IMPORT_BYTES",
    "AtlasImport",
    "AtlasOverlayInfo",
    "Catalog",
    "Entry",
    "FrameworkInfo",
    "Role",
    "Stage",
    "import_atlas",
    "load_catalog",
]
