"""The deployment stage's controls, declared once (read by ``aisec.registry``)."""

from __future__ import annotations

from aisec.core.controls import Control
from aisec.core.findings import Mappings
from aisec.core.predicates.deployment import (
    ConvertPredicate,
    GatePredicate,
    ScanPredicate,
    SignaturePredicate,
)
from aisec.deployment._gate_rules import GATE_RULES
from aisec.deployment.scan._rules import RULES as SCAN_RULES

__all__ = ["CONTROLS"]

_SUPPLY = Mappings(
    atlas=("AML.T0010", "AML.T0010.003", "AML.T0011.000"),
    owasp_llm=("LLM03",),
    saif=("SAIF-1",),
    nist_ai_rmf=("MAP 4.1", "MANAGE 3.1"),
)

CONTROLS: tuple[Control, ...] = (
    Control(
        id="deployment/model-scan",
        name="Model artifact scan",
        question="Does any model file run code when it is loaded?",
        description="Inspects model files statically for code that would run on load, without "
        "ever loading them.",
        commands=("aisec model scan",),
        predicate=ScanPredicate,
        rules=SCAN_RULES,
        mappings=_SUPPLY,
    ),
    Control(
        id="deployment/convert",
        name="SafeTensors conversion",
        question="Are the weights in a format that cannot execute?",
        description="Converts weights from executable serialisation formats to SafeTensors "
        "and links both digests.",
        commands=("aisec model convert",),
        predicate=ConvertPredicate,
        mappings=_SUPPLY,
    ),
    Control(
        id="deployment/model-signature",
        name="Model signature",
        question="Is this model folder exactly what its publisher signed?",
        description="Signs the digest manifest of a model folder so that any later change is "
        "detected, and verifies it.",
        commands=("aisec model sign", "aisec model verify"),
        predicate=SignaturePredicate,
        mappings=Mappings(
            atlas=("AML.T0010", "AML.T0018"),
            owasp_llm=("LLM03",),
            saif=("SAIF-1",),
            nist_ai_rmf=("MANAGE 3.1",),
        ),
    ),
    Control(
        id="deployment/gate",
        name="Deploy gate",
        question="Is what we deploy what we tested?",
        description="Lets a deployment through only when the evidence shows the exact artifact "
        "was scanned, tested and signed.",
        commands=("aisec gate check",),
        predicate=GatePredicate,
        rules=GATE_RULES,
        mappings=Mappings(
            atlas=("AML.T0010", "AML.T0018", "AML.T0058"),
            owasp_llm=("LLM03",),
            saif=("SAIF-1",),
            nist_ai_rmf=("MANAGE 1.1",),
        ),
    ),
)
