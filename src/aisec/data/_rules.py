"""Finding rules of the data stage (``AISEC-DAT-0xx``): data, not code paths.

A contract test walks :data:`DATA_RULES` and resolves every framework id in the catalog.
"""

from __future__ import annotations

from aisec.core.controls import Rule
from aisec.core.findings import Mappings, Severity

__all__ = ["DATA_RULES"]


def _rule(
    rule_id: str,
    severity: Severity,
    title: str,
    remediation: str,
    mappings: Mappings,
    rationale: str = "",
) -> Rule:
    return Rule(rule_id, "data", severity, title, remediation, mappings, rationale)


_POISON = Mappings(
    atlas=("AML.T0020", "AML.T0019"),
    owasp_llm=("LLM04",),
    saif=("SAIF-1", "SAIF-2"),
    nist_ai_rmf=("MEASURE 2.7",),
)
_QUALITY = Mappings(owasp_llm=("LLM04",), saif=("SAIF-1",), nist_ai_rmf=("MAP 2.3",))
_SUPPLY = Mappings(
    atlas=("AML.T0010.002", "AML.T0019"),
    owasp_llm=("LLM04",),
    saif=("SAIF-1",),
    nist_ai_rmf=("MAP 4.1", "GOVERN 6.1"),
)

SCHEMA = _rule(
    "AISEC-DAT-001",
    Severity.MEDIUM,
    "Data does not match the expected schema",
    "Fix the producer or the schema; reject deliveries that do not match it.",
    _QUALITY,
    rationale=(
        "Rows that break the schema are how corrupt or injected deliveries slip past downstream "
        "checks."
    ),
)
MISSING = _rule(
    "AISEC-DAT-002",
    Severity.LOW,
    "Columns with many missing values",
    "Ask the source why values are missing; impute or drop before training.",
    _QUALITY,
    rationale=(
        "Missing values concentrated in one column or source bias the model and can hide tampering."
    ),
)
DUPLICATES = _rule(
    "AISEC-DAT-003",
    Severity.LOW,
    "Duplicate or near-duplicate rows",
    "Deduplicate before splitting; duplicates inflate test scores and can amplify poison.",
    _QUALITY,
    rationale="Duplicates inflate test scores and multiply the weight of any poisoned row.",
)
LEAKAGE = _rule(
    "AISEC-DAT-004",
    Severity.HIGH,
    "Training rows also in the test split (leakage)",
    "Remove the shared rows from training and split by entity, not by row.",
    Mappings(owasp_llm=("LLM04",), saif=("SAIF-1",), nist_ai_rmf=("MEASURE 2.6", "MAP 2.3")),
    rationale="Test rows seen in training make the evaluation report a model better than it is.",
)
LABEL_ISSUES = _rule(
    "AISEC-DAT-005",
    Severity.MEDIUM,
    "Likely wrong labels in a source",
    "Re-label the flagged rows (or drop them) and ask the source how labels were made.",
    _POISON,
    rationale=(
        "Wrong labels teach wrong decisions; concentrated in one source they are a poisoning "
        "signal."
    ),
)
POISONING = _rule(
    "AISEC-DAT-006",
    Severity.HIGH,
    "Poisoning signal: a feature value that decides the label in one source only",
    "Quarantine the rows with the trigger value; ask the source for collection logs; retrain "
    "without them and compare.",
    _POISON,
    rationale=(
        "A feature pattern that flips the label only in one source is the signature of a backdoor."
    ),
)
OUTLIERS = _rule(
    "AISEC-DAT-007",
    Severity.LOW,
    "Outlying rows concentrated in a source",
    "Review the outlying rows with a domain expert before training.",
    _QUALITY,
    rationale="Gross errors and unit mix-ups distort what the model learns about a feature.",
)
DRIFT = _rule(
    "AISEC-DAT-008",
    Severity.MEDIUM,
    "Distribution drift against the reference",
    "Check the source for a change in collection; re-baseline or re-train on current data.",
    Mappings(owasp_llm=("LLM04",), saif=("SAIF-2",), nist_ai_rmf=("MEASURE 2.4",)),
    rationale="A model trained or scored on drifted data meets a world it was not validated for.",
)
PII = _rule(
    "AISEC-DAT-009",
    Severity.HIGH,
    "Personal data in text columns",
    "Redact or drop the personal data before training and restrict access to the raw source.",
    Mappings(owasp_llm=("LLM02",), saif=("SAIF-1",), nist_ai_rmf=("MEASURE 2.10",)),
    rationale="Personal data that reaches training can be memorised and extracted from the model.",
)
PROVENANCE = _rule(
    "AISEC-DAT-010",
    Severity.MEDIUM,
    "Source with provenance risk flags or no record",
    "Register a provenance record; require lineage from vendors; re-validate flagged sources.",
    _SUPPLY,
    rationale="Data without provenance cannot be vouched for or traced when a problem is found.",
)
SOURCE_RISK = _rule(
    "AISEC-DAT-011",
    Severity.HIGH,
    "High-risk data source",
    "Apply the recommended controls for this source before its rows reach training.",
    Mappings(
        atlas=("AML.T0020", "AML.T0010.002"),
        owasp_llm=("LLM04",),
        saif=("SAIF-1",),
        nist_ai_rmf=("MANAGE 2.3", "MEASURE 2.7"),
    ),
    rationale="One bad source can carry poison or noise into every model trained on it.",
)
GROSS_ERRORS = _rule(
    "AISEC-DAT-012",
    Severity.MEDIUM,
    "Gross errors or unit mix-ups in numeric columns",
    "Correct or drop the flagged values (the likely conversion is given); ask the source "
    "which unit it records.",
    _QUALITY,
    rationale="A value a factor of ten or a unit ratio off teaches the model a false range.",
)

DATA_RULES: tuple[Rule, ...] = (
    SCHEMA,
    MISSING,
    DUPLICATES,
    LEAKAGE,
    LABEL_ISSUES,
    POISONING,
    OUTLIERS,
    DRIFT,
    PII,
    PROVENANCE,
    SOURCE_RISK,
    GROSS_ERRORS,
)
