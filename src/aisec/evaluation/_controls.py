"""The evaluation stage's controls, declared once (read by ``aisec.registry``)."""

from __future__ import annotations

from aisec.core.controls import Control
from aisec.core.findings import Mappings
from aisec.core.predicates.evaluation import RedteamPredicate, ValidationPredicate
from aisec.evaluation._rules import FINDING_RULES
from aisec.evaluation.validate._rules import VALIDATE_RULES

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
    Control(
        id="evaluation/model-validation",
        name="Model validation",
        question="How much does the classifier leak about its training members, how cheaply "
        "can it be copied or evaded, and does it treat groups differently?",
        description="Attacks a classifier (ONNX, skops, HTTP endpoint; never unpickled): "
        "membership inference, extraction cost per output-hardening option, decision-based "
        "evasion under a tabular schema and Fairlearn group metrics, with intervals.",
        commands=("aisec model validate",),
        predicate=ValidationPredicate,
        rules=VALIDATE_RULES,
        mappings=Mappings(
            atlas=("AML.T0015", "AML.T0024.000", "AML.T0024.002"),
            saif=("SAIF-5",),
            nist_ai_rmf=("MEASURE 2.7", "MEASURE 2.10", "MEASURE 2.11"),
        ),
    ),
)
