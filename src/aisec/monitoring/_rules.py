"""The monitoring stage's finding rules (AISEC-MON-xxx), each mapped to the frameworks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aisec.core.controls import Rule
from aisec.core.findings import Finding, Mappings, Severity, Subject

__all__ = [
    "NO_OWNER",
    "RULES",
    "SHADOW_API",
    "SHADOW_NO_CODE",
    "SHADOW_RULE",
    "SHADOW_SAAS",
    "SHADOW_SELF_HOSTED",
    "UNREADABLE",
    "make_finding",
]


def _rule(
    rule_id: str,
    severity: Severity,
    title: str,
    remediation: str,
    mappings: Mappings,
    iso: tuple[str, ...],
    rationale: str,
) -> Rule:
    m = Mappings(mappings.atlas, mappings.owasp_llm, mappings.saif, mappings.nist_ai_rmf, iso)
    return Rule(rule_id, "monitoring", severity, title, remediation, m, rationale)


_INVENTORY = ("GOVERN 1.6",)
SHADOW_API = _rule(
    "AISEC-MON-001",
    Severity.HIGH,
    "Shadow AI: hosted AI API in use but not in the registry",
    "Register the system with an owner, review what data is sent to the provider, and "
    "route the traffic through the approved gateway or block it.",
    Mappings(("AML.T0096", "AML.T0024"), ("LLM02",), ("SAIF-6",), (*_INVENTORY, "MANAGE 3.1")),
    ("A.4.2", "A.10.3"),
    "Prompts and company data sent to an unreviewed provider leave every control the organisation"
    " set for AI.",
)
SHADOW_SELF_HOSTED = _rule(
    "AISEC-MON-002",
    Severity.HIGH,
    "Shadow AI: self-hosted model or AI compute outside the registry",
    "Register the model with its owner and provenance, scan and sign its files "
    "(aisec model scan / sign) before it serves anything.",
    Mappings(("AML.T0010.003", "AML.T0058"), ("LLM03",), ("SAIF-6",), (*_INVENTORY, "MAP 4.1")),
    ("A.4.2", "A.4.4"),
    "A model nobody registered was never scanned, signed or tested, and its files can run code "
    "when loaded.",
)
SHADOW_SAAS = _rule(
    "AISEC-MON-003",
    Severity.MEDIUM,
    "Shadow AI: SaaS product with AI features not reviewed",
    "Review the vendor's data handling and the access it has (CMS, CRM, mail), record "
    "an owner, and register it or cancel the subscription.",
    Mappings(("AML.T0096",), ("LLM02", "LLM06"), ("SAIF-6",), (*_INVENTORY, "GOVERN 6.1")),
    ("A.10.3",),
    "An AI feature in a SaaS tool receives company data under terms nobody reviewed.",
)
SHADOW_NO_CODE = _rule(
    "AISEC-MON-004",
    Severity.HIGH,
    "Shadow AI: no-code model trained outside the registry",
    "Find the data it was trained on (exports of CRM or customer data), register the "
    "model with an owner and run a data audit before it drives decisions.",
    Mappings(("AML.T0010.003",), ("LLM02", "LLM03"), ("SAIF-6",), (*_INVENTORY, "MAP 4.1")),
    ("A.4.3", "A.7.2"),
    "A model trained by a no-code tool on exported data decides things nobody validated.",
)
NO_OWNER = _rule(
    "AISEC-MON-005",
    Severity.MEDIUM,
    "AI system without an owner",
    "Assign an accountable owner in the registry (the evidence lists candidates).",
    Mappings((), (), ("SAIF-6",), ("GOVERN 2.1",)),
    ("A.3.2",),
    "Without an owner nobody reviews, patches or retires the system.",
)
UNREADABLE = _rule(
    "AISEC-MON-006",
    Severity.LOW,
    "Discovery input could not be read",
    "Check the file: aisec recognises Zeek, Squid, proxy CSV/JSON lines, AWS CUR, GCP "
    "billing, SaaS lists, code and model files. Unread evidence hides systems.",
    Mappings((), (), ("SAIF-6",), _INVENTORY),
    ("A.6.2.6",),
    "Evidence that could not be read hides the systems it would have shown.",
)
RULES: tuple[Rule, ...] = (
    SHADOW_API,
    SHADOW_SELF_HOSTED,
    SHADOW_SAAS,
    SHADOW_NO_CODE,
    NO_OWNER,
    UNREADABLE,
)
#: The rule for an unregistered system of each kind.
SHADOW_RULE: Mapping[str, Rule] = {
    "hosted-api-use": SHADOW_API,
    "self-hosted-model": SHADOW_SELF_HOSTED,
    "saas-ai-feature": SHADOW_SAAS,
    "no-code-model": SHADOW_NO_CODE,
}


def make_finding(
    rule: Rule, subject: Subject, detail: str, evidence: Mapping[str, Any], *, title: str = ""
) -> Finding:
    return rule.finding(
        subject.path,
        detail,
        digest=subject.digest,
        title=title or None,
        evidence={**evidence, "iso_42001": list(rule.mappings.iso_42001)},
    )
