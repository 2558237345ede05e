"""The monitoring stage's finding rules (AISEC-MON-xxx), each mapped to the frameworks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aisec.core.findings import Finding, Mappings, Severity, Subject

__all__ = ["RULES", "SHADOW_RULE", "Rule", "make_finding"]


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    severity: Severity
    title: str
    remediation: str
    mappings: Mappings
    iso: tuple[str, ...]


_INVENTORY = ("GOVERN 1.6",)
RULES: tuple[Rule, ...] = (
    Rule(
        "AISEC-MON-001",
        Severity.HIGH,
        "Shadow AI: hosted AI API in use but not in the registry",
        "Register the system with an owner, review what data is sent to the provider, and "
        "route the traffic through the approved gateway or block it.",
        Mappings(("AML.T0096", "AML.T0024"), ("LLM02",), ("SAIF-6",), (*_INVENTORY, "MANAGE 3.1")),
        ("A.4.2", "A.10.3"),
    ),
    Rule(
        "AISEC-MON-002",
        Severity.HIGH,
        "Shadow AI: self-hosted model or AI compute outside the registry",
        "Register the model with its owner and provenance, scan and sign its files "
        "(aisec model scan / sign) before it serves anything.",
        Mappings(("AML.T0010.003", "AML.T0058"), ("LLM03",), ("SAIF-6",), (*_INVENTORY, "MAP 4.1")),
        ("A.4.2", "A.4.4"),
    ),
    Rule(
        "AISEC-MON-003",
        Severity.MEDIUM,
        "Shadow AI: SaaS product with AI features not reviewed",
        "Review the vendor's data handling and the access it has (CMS, CRM, mail), record "
        "an owner, and register it or cancel the subscription.",
        Mappings(("AML.T0096",), ("LLM02", "LLM06"), ("SAIF-6",), (*_INVENTORY, "GOVERN 6.1")),
        ("A.10.3",),
    ),
    Rule(
        "AISEC-MON-004",
        Severity.HIGH,
        "Shadow AI: no-code model trained outside the registry",
        "Find the data it was trained on (exports of CRM or customer data), register the "
        "model with an owner and run a data audit before it drives decisions.",
        Mappings(("AML.T0010.003",), ("LLM02", "LLM03"), ("SAIF-6",), (*_INVENTORY, "MAP 4.1")),
        ("A.4.3", "A.7.2"),
    ),
    Rule(
        "AISEC-MON-005",
        Severity.MEDIUM,
        "AI system without an owner",
        "Assign an accountable owner in the registry (the evidence lists candidates).",
        Mappings((), (), ("SAIF-6",), ("GOVERN 2.1",)),
        ("A.3.2",),
    ),
    Rule(
        "AISEC-MON-006",
        Severity.LOW,
        "Discovery input could not be read",
        "Check the file: aisec recognises Zeek, Squid, proxy CSV/JSON lines, AWS CUR, GCP "
        "billing, SaaS lists, code and model files. Unread evidence hides systems.",
        Mappings((), (), ("SAIF-6",), _INVENTORY),
        ("A.6.2.6",),
    ),
)
_BY_ID = {r.id: r for r in RULES}
#: The rule for an unregistered system of each kind.
SHADOW_RULE: Mapping[str, str] = {
    "hosted-api-use": "AISEC-MON-001",
    "self-hosted-model": "AISEC-MON-002",
    "saas-ai-feature": "AISEC-MON-003",
    "no-code-model": "AISEC-MON-004",
}


def make_finding(
    rule_id: str, subject: Subject, detail: str, evidence: Mapping[str, Any], *, title: str = ""
) -> Finding:
    rule = _BY_ID[rule_id]
    return Finding(
        id=rule.id,
        stage="monitoring",
        severity=rule.severity,
        title=title or rule.title,
        detail=detail,
        subject=subject,
        remediation=rule.remediation,
        mappings=rule.mappings,
        evidence={**evidence, "iso_42001": list(rule.iso)},
    )
