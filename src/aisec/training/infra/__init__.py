"""``aisec train infra-check``: training-cluster and inference-container infrastructure rules.

>>> from aisec.training.infra import InfraContext, check_infra
>>> report = check_infra([Path("plan.json")], InfraContext.build(["10.0.0.0/16"]))  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from aisec.core.findings import Finding
from aisec.training.infra._load import InputSummary, load_inputs
from aisec.training.infra._model import InfraContext, InfraModel
from aisec.training.infra.rules import INFRA_RULES, Hit, InfraCheck

__all__ = [
    "INFRA_RULES",
    "Hit",
    "InfraCheck",
    "InfraContext",
    "InfraModel",
    "InfraReport",
    "InputSummary",
    "check_infra",
    "load_inputs",
]


@dataclass(frozen=True, slots=True)
class InfraReport:
    inputs: tuple[InputSummary, ...]
    findings: tuple[Finding, ...]
    context: InfraContext


def check_infra(
    paths: Sequence[Path],
    context: InfraContext | None = None,
    *,
    rules: Sequence[InfraCheck] = INFRA_RULES,
) -> InfraReport:
    """Run ``rules`` over every file; the files' own VPCs/subnets join the cluster range."""
    model, inputs = load_inputs(paths)
    model.apply_precedence()
    ctx = (context or InfraContext()).with_networks(model.networks)
    findings = [f for rule in rules for f in rule.run(model, ctx)]
    return InfraReport(tuple(inputs), tuple(findings), ctx)
