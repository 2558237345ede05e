"""The data stage's controls, declared once (read by ``aisec.registry``)."""

from __future__ import annotations

from aisec.core.controls import Control
from aisec.core.findings import Mappings
from aisec.core.predicates.data import AuditPredicate, ProvenancePredicate
from aisec.data._rules import DATA_RULES

__all__ = ["CONTROLS"]

CONTROLS: tuple[Control, ...] = (
    Control(
        id="data/provenance",
        name="Dataset provenance record",
        question="Where did this data come from, under which terms, and is it these bytes?",
        description="Signs where a dataset came from, under which terms, and its exact digest.",
        commands=("aisec data register",),
        predicate=ProvenancePredicate,
        mappings=Mappings(
            atlas=("AML.T0010.002",),
            owasp_llm=("LLM03", "LLM04"),
            saif=("SAIF-1",),
            nist_ai_rmf=("MAP 4.1", "GOVERN 6.1"),
        ),
    ),
    Control(
        id="data/audit",
        name="Data-trust audit",
        question="Can we trust this data?",
        description="Checks a dataset for poisoning signals, label noise, duplicates, leakage, "
        "drift and personal data before training, and ranks its sources by risk.",
        commands=("aisec data audit",),
        predicate=AuditPredicate,
        rules=DATA_RULES,
        mappings=Mappings(
            atlas=("AML.T0020", "AML.T0019", "AML.T0059"),
            owasp_llm=("LLM02", "LLM04"),
            saif=("SAIF-1",),
            nist_ai_rmf=("MAP 2.3", "MEASURE 2.7"),
        ),
    ),
)
