"""The model validator's finding rules (``AISEC-EVA-1xx``): one per check, one for a check
that could not measure what it was asked to.

OWASP ML Security Top 10 (2023) ids go in each finding's evidence (``owasp_ml``): the
framework catalogue has no OWASP ML list to check them against.
"""

from __future__ import annotations

from aisec.core.controls import Rule
from aisec.core.findings import Mappings, Severity

__all__ = [
    "EVASION",
    "EXTRACTION",
    "FAIRNESS",
    "MEMBERSHIP",
    "OWASP_ML",
    "UNTESTED",
    "VALIDATE_RULES",
]

MEMBERSHIP = Rule(
    "AISEC-EVA-101",
    "evaluation",
    Severity.HIGH,
    "Model leaks training-set membership",
    "Regularise or train with differential privacy (e.g. Opacus/DP-SGD), reduce overfitting, "
    "and serve fewer score digits; re-validate this digest.",
    Mappings(atlas=("AML.T0024.000",), saif=("SAIF-5",), nist_ai_rmf=("MEASURE 2.10",)),
    "An attacker who can tell members from non-members learns who is in the training data.",
)
EXTRACTION = Rule(
    "AISEC-EVA-102",
    "evaluation",
    Severity.MEDIUM,
    "Model can be copied cheaply through its prediction API",
    "Serve a harder option (rounded scores, top-1 only) through aisec guard and rate-limit "
    "accounts; the extraction-cost table shows what each option costs legitimate use.",
    Mappings(atlas=("AML.T0024.002",), saif=("SAIF-3",), nist_ai_rmf=("MEASURE 2.7",)),
    "A copy reached with few queries removes the model owner's control of it.",
)
EVASION = Rule(
    "AISEC-EVA-103",
    "evaluation",
    Severity.HIGH,
    "Model decisions flip under small, valid input changes",
    "Adversarially train or constrain the model's sensitive features, monitor boundary "
    "probing at the gateway, and re-validate.",
    Mappings(atlas=("AML.T0015",), saif=("SAIF-5",), nist_ai_rmf=("MEASURE 2.7",)),
    "If a small valid change flips a decision, an adversary chooses the decision.",
)
FAIRNESS = Rule(
    "AISEC-EVA-104",
    "evaluation",
    Severity.MEDIUM,
    "Model treats groups differently beyond the limit",
    "Investigate the data and features for the group, mitigate (e.g. Fairlearn's "
    "ThresholdOptimizer or reweighing) and re-validate.",
    Mappings(saif=("SAIF-5",), nist_ai_rmf=("MEASURE 2.11",)),
    "A disparity between groups is a harm to the people in the disadvantaged group.",
)
UNTESTED = Rule(
    "AISEC-EVA-105",
    "evaluation",
    Severity.LOW,
    "Validation check not adequately tested",
    "Provide more rows (members and non-members, labelled data) or a larger budget, and "
    "re-run; the interval straddles the limit or the check could not run.",
    Mappings(saif=("SAIF-5",), nist_ai_rmf=("MEASURE 2.5",)),
    "An interval that contains the limit is no evidence either way.",
)

OWASP_ML: dict[str, str] = {
    "membership": "ML04:2023 Membership Inference Attack",
    "extraction": "ML05:2023 Model Theft",
    "evasion": "ML01:2023 Input Manipulation Attack",
    "fairness": "ML10:2023 Model Poisoning (bias; no direct entry)",
}

VALIDATE_RULES: tuple[Rule, ...] = (MEMBERSHIP, EXTRACTION, EVASION, FAIRNESS, UNTESTED)
