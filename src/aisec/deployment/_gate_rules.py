"""The deploy gate's finding rules (``AISEC-DEP-05x``): one per check that can refuse a model."""

from __future__ import annotations

from aisec.core.controls import Rule
from aisec.core.findings import Mappings, Severity

__all__ = ["GATE_RULES", "RULE_FOR_CHECK"]

# the gate is the release decision: NIST MANAGE 1.1 (whether deployment proceeds), SAIF 1
# (supply chain) and ATLAS's backdoor and supply-chain techniques it stops
_MAPPINGS = Mappings(
    atlas=("AML.T0010", "AML.T0018", "AML.T0058"),
    owasp_llm=("LLM03",),
    saif=("SAIF-1",),
    nist_ai_rmf=("MANAGE 1.1",),
)


def _rule(num: int, title: str, remediation: str, rationale: str) -> Rule:
    return Rule(
        f"AISEC-DEP-{num:03d}",
        "deployment",
        Severity.HIGH,
        title,
        remediation,
        _MAPPINGS,
        rationale,
    )


#: The rule a failed reason of each gate check reports.
RULE_FOR_CHECK: dict[str, Rule] = {
    "input": _rule(
        50,
        "Deploy gate: the model folder cannot be checked",
        "Point the gate at the folder that is deployed, with its files present.",
        "A gate that cannot read the model cannot vouch for it.",
    ),
    "signature": _rule(
        51,
        "Deploy gate: the model is not signed as deployed",
        "Sign the exact folder that is deployed (aisec model sign) with a key the policy trusts.",
        "Without a valid signature over every file, the deployed bytes may not be the "
        "released ones.",
    ),
    "formats": _rule(
        52,
        "Deploy gate: a file format the policy does not allow",
        "Convert the weights to an allowed format (aisec model convert) and remove the rest.",
        "Formats that execute on load (pickle) turn a model file into code.",
    ),
    "scan": _rule(
        53,
        "Deploy gate: a file without a clean scan",
        "Scan the exact files that are deployed (aisec model scan) and fix what it finds.",
        "A file that was not scanned, or not clean, may run code when loaded.",
    ),
    "redteam": _rule(
        54,
        "Deploy gate: red-team evidence missing or over the limit",
        "Red-team this model digest (aisec redteam run --model-dir) and fix what it finds.",
        "A model deployed without adversarial testing of this digest carries unknown risk.",
    ),
    "data": _rule(
        55,
        "Deploy gate: training data not audited or over its risk limit",
        "Audit the training set (aisec data audit) and remove what it flags.",
        "A model is only as trustworthy as the data it learned from.",
    ),
    "validation": _rule(
        56,
        "Deploy gate: model validation missing or over its limits",
        "Validate this model digest (aisec model validate) and address what it finds.",
        "A classifier that leaks its training members or is easy to evade should not ship.",
    ),
    "chain": _rule(
        57,
        "Deploy gate: the chain of evidence has a gap",
        "Record the missing stage's evidence for this model (aisec evidence chain shows it).",
        "A gap in the chain means part of the model's history cannot be verified.",
    ),
}
GATE_RULES: tuple[Rule, ...] = tuple(RULE_FOR_CHECK.values())
