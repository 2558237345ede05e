"""The inference stage's controls, declared once (read by ``aisec.registry``)."""

from __future__ import annotations

from aisec.core.controls import Control
from aisec.core.findings import Mappings
from aisec.core.predicates.inference import AlertPredicate, GatewayConfigPredicate
from aisec.inference._rules import DETECTORS

__all__ = ["CONTROLS"]

CONTROLS: tuple[Control, ...] = (
    Control(
        id="inference/gateway-config",
        name="Gateway configuration",
        question="Which policy does the gateway in front of this model enforce?",
        description="Attests the policy the guarding gateway enforces: rate limits, extraction "
        "detection and output hardening, and the model it serves.",
        commands=("aisec guard serve",),
        predicate=GatewayConfigPredicate,
        mappings=Mappings(
            atlas=("AML.T0024", "AML.T0034"),
            owasp_llm=("LLM10",),
            saif=("SAIF-3",),
            nist_ai_rmf=("MANAGE 2.4",),
        ),
    ),
    Control(
        id="inference/alert",
        name="Gateway alert",
        question="Is someone copying the model or abusing its API?",
        description="Records the alerts the gateway raised, such as a suspected extraction "
        "campaign, with the evidence an analyst can check.",
        commands=("aisec guard serve", "aisec guard replay"),
        predicate=AlertPredicate,
        rules=tuple(d.rule for d in DETECTORS),
        mappings=Mappings(
            atlas=("AML.T0024", "AML.T0024.002", "AML.T0040"),
            owasp_llm=("LLM02", "LLM10"),
            saif=("SAIF-3", "SAIF-2"),
            nist_ai_rmf=("MANAGE 2.4", "MANAGE 4.1"),
        ),
    ),
)
