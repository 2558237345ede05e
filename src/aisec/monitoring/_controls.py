"""The monitoring stage's controls, declared once (read by ``aisec.registry``)."""

from __future__ import annotations

from aisec.core.controls import Control
from aisec.core.findings import Mappings
from aisec.core.predicates.monitoring import (
    BomPredicate,
    GovernancePredicate,
    InventoryPredicate,
    InventoryUpdatePredicate,
)
from aisec.monitoring._rules import RULES

__all__ = ["CONTROLS"]

_GOVERN = Mappings(saif=("SAIF-6",), nist_ai_rmf=("GOVERN 1.6",), iso_42001=("A.4.2",))

CONTROLS: tuple[Control, ...] = (
    Control(
        id="monitoring/inventory",
        name="AI inventory",
        question="Which AI systems do we run, and who owns them?",
        description="Discovers the models and AI services in use, from registries, network "
        "logs, billing, SaaS lists and code, shadow AI included, reconciled with the registry.",
        commands=("aisec inventory discover",),
        predicate=InventoryPredicate,
        rules=RULES,
        mappings=Mappings(
            atlas=("AML.T0096",),
            owasp_llm=("LLM02", "LLM03"),
            saif=("SAIF-6",),
            nist_ai_rmf=("GOVERN 1.6", "MAP 4.1"),
            iso_42001=("A.4.2",),
        ),
    ),
    Control(
        id="monitoring/inventory-update",
        name="Inventory change",
        question="Who changed the owner, review or risk tier of a system, and when?",
        description="Records an owner, review or risk-tier change to one system of the "
        "stored inventory.",
        commands=("aisec inventory update",),
        predicate=InventoryUpdatePredicate,
        mappings=_GOVERN,
    ),
    Control(
        id="monitoring/ai-bom",
        name="AI bill of materials",
        question="Which models, datasets and services make up our AI systems?",
        description="Builds a CycloneDX ML-BOM of models and datasets with their digests.",
        commands=("aisec inventory bom",),
        predicate=BomPredicate,
        mappings=Mappings(
            owasp_llm=("LLM03",), saif=("SAIF-6",), nist_ai_rmf=("MAP 4.1",), iso_42001=("A.4.2",)
        ),
    ),
    Control(
        id="monitoring/governance",
        name="Governance report",
        question="Is every AI system governed, and what does the evidence cover?",
        description="Summarises the evidence per AI system for owners and auditors, mapped to "
        "the frameworks.",
        commands=("aisec inventory report",),
        predicate=GovernancePredicate,
        mappings=_GOVERN,
    ),
)
