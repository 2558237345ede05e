"""The red-team engine's finding rules (``AISEC-EVA-0xx``): one per built-in category, one for
a user suite's own categories, one for a category whose rate could not be bounded."""

from __future__ import annotations

from aisec.core.controls import Rule
from aisec.core.findings import Mappings, Severity

__all__ = ["CUSTOM_CATEGORY", "FINDING_RULES", "RULE_FOR_CATEGORY", "UNBOUNDED"]

# red-team findings map to SAIF 3 (adversarial testing of deployed AI) and NIST MEASURE 2.7
_SAIF = ("SAIF-3",)
_NIST = ("MEASURE 2.7",)


def _rule(
    num: int,
    title: str,
    owasp: tuple[str, ...],
    atlas: tuple[str, ...],
    rationale: str,
    *,
    severity: Severity = Severity.HIGH,
    saif: tuple[str, ...] = _SAIF,
    nist: tuple[str, ...] = _NIST,
) -> Rule:
    mappings = Mappings(atlas=atlas, owasp_llm=owasp, saif=saif, nist_ai_rmf=nist)
    remediation = "See the category's remediation in the report; fix, then run the suite again."
    return Rule(
        f"AISEC-EVA-{num:03d}", "evaluation", severity, title, remediation, mappings, rationale
    )


#: The rule for a vulnerable verdict in each built-in category.
RULE_FOR_CATEGORY: dict[str, Rule] = {
    "prompt-injection-direct": _rule(
        1,
        "Vulnerable to direct prompt injection",
        ("LLM01",),
        ("AML.T0051.000",),
        "Instructions in user input override the application's own, so anyone can repurpose it.",
    ),
    "prompt-injection-indirect": _rule(
        2,
        "Vulnerable to indirect prompt injection",
        ("LLM01",),
        ("AML.T0051.001",),
        "Instructions hidden in documents, mail or tool output take over the application.",
    ),
    "jailbreak": _rule(
        3,
        "Vulnerable to jailbreak framings",
        ("LLM01",),
        ("AML.T0054",),
        "Role-play and hypothetical framings switch off the application's safety behaviour.",
    ),
    "system-prompt-leakage": _rule(
        4,
        "System prompt can be extracted",
        ("LLM07",),
        ("AML.T0056",),
        "A leaked system prompt hands attackers the rules, secrets and tools to aim at.",
    ),
    "sensitive-information": _rule(
        5,
        "Discloses planted secrets",
        ("LLM02",),
        ("AML.T0057",),
        "Secrets or personal data in context come back out to whoever asks well.",
    ),
    "improper-output-handling": _rule(
        6,
        "Emits unsafe output (script, SQL, exfiltration links)",
        ("LLM05",),
        ("AML.T0077",),
        "Output rendered or executed downstream turns the model into an injection vector.",
    ),
    "excessive-agency": _rule(
        7,
        "Calls tools the user did not ask for",
        ("LLM06",),
        ("AML.T0053",),
        "A model that calls state-changing tools on an attacker's word acts with the user's "
        "rights.",
    ),
    "unbounded-consumption": _rule(
        8,
        "Output runs to the token limit on demand",
        ("LLM10",),
        ("AML.T0029", "AML.T0034"),
        "Requests that always run to the limit burn cost and capacity (denial of wallet).",
    ),
}
CUSTOM_CATEGORY = _rule(
    9,
    "Vulnerable in a custom attack category",
    (),
    (),
    "A user suite's own category succeeded at a rate above its threshold.",
)
UNBOUNDED = _rule(
    10,
    "Category could not be bounded",
    (),
    (),
    "Too few valid answers to bound the attack success rate: the risk is not known.",
    severity=Severity.INFO,
    saif=("SAIF-5",),
    nist=("MEASURE 2.7", "MANAGE 2.3"),
)
FINDING_RULES: tuple[Rule, ...] = (*RULE_FOR_CATEGORY.values(), CUSTOM_CATEGORY, UNBOUNDED)
