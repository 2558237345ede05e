"""The evaluation stage's controls, declared once (read by ``aisec.registry``)."""

from __future__ import annotations

from aisec.core.controls import Control
from aisec.core.findings import Mappings
from aisec.core.predicates.evaluation import RedteamPredicate
from aisec.evaluation._rules import FINDING_RULES

__all__ = ["CONTROLS"]

CONTROLS: tuple[Control, ...] = (
    Control(
        id="evaluation/redteam",
        name="Red-team run",
        question="How does the application hold up against adversarial use, and what risk remains?",
        description="Runs adversarial probes against a model or endpoint and reports attack "
        "success rates with confidence intervals, coverage and residual risk.",
        commands=("aisec redteam run",),
        predicate=RedteamPredicate,
        rules=FINDING_RULES,
        mappings=Mappings(
            atlas=("AML.T0051", "AML.T0054", "AML.T0056", "AML.T0057"),
            owasp_llm=("LLM01", "LLM02", "LLM05", "LLM06", "LLM07", "LLM10"),
            saif=("SAIF-5",),
            nist_ai_rmf=("MEASURE 2.7",),
        ),
    ),
)
