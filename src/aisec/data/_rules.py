"""Finding rules of the data stage (``AISEC-DAT-0xx``): data, not code paths.

A contract test walks :data:`DATA_RULES` and resolves every framework id in the catalog.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from aisec.core.findings import FindingRule, Mappings, Severity

__all__ = ["DATA_RULES", "DataRule"]


@dataclass(frozen=True, slots=True)
class DataRule(FindingRule):
    stage: ClassVar[str] = "data"


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

SCHEMA = DataRule(
    "AISEC-DAT-001",
    Severity.MEDIUM,
    "Data does not match the expected schema",
    "Fix the producer or the schema; reject deliveries that do not match it.",
    _QUALITY,
)
MISSING = DataRule(
    "AISEC-DAT-002",
    Severity.LOW,
    "Columns with many missing values",
    "Ask the source why values are missing; impute or drop before training.",
    _QUALITY,
)
DUPLICATES = DataRule(
    "AISEC-DAT-003",
    Severity.LOW,
    "Duplicate or near-duplicate rows",
    "Deduplicate before splitting; duplicates inflate test scores and can amplify poison.",
    _QUALITY,
)
LEAKAGE = DataRule(
    "AISEC-DAT-004",
    Severity.HIGH,
    "Training rows also in the test split (leakage)",
    "Remove the shared rows from training and split by entity, not by row.",
    Mappings(owasp_llm=("LLM04",), saif=("SAIF-1",), nist_ai_rmf=("MEASURE 2.6", "MAP 2.3")),
)
LABEL_ISSUES = DataRule(
    "AISEC-DAT-005",
    Severity.MEDIUM,
    "Likely wrong labels in a source",
    "Re-label the flagged rows (or drop them) and ask the source how labels were made.",
    _POISON,
)
POISONING = DataRule(
    "AISEC-DAT-006",
    Severity.HIGH,
    "Poisoning signal: a feature value that decides the label in one source only",
    "Quarantine the rows with the trigger value; ask the source for collection logs; retrain "
    "without them and compare.",
    _POISON,
)
OUTLIERS = DataRule(
    "AISEC-DAT-007",
    Severity.LOW,
    "Outlying rows concentrated in a source",
    "Review the outlying rows with a domain expert before training.",
    _QUALITY,
)
DRIFT = DataRule(
    "AISEC-DAT-008",
    Severity.MEDIUM,
    "Distribution drift against the reference",
    "Check the source for a change in collection; re-baseline or re-train on current data.",
    Mappings(owasp_llm=("LLM04",), saif=("SAIF-2",), nist_ai_rmf=("MEASURE 2.4",)),
)
PII = DataRule(
    "AISEC-DAT-009",
    Severity.HIGH,
    "Personal data in text columns",
    "Redact or drop the personal data before training and restrict access to the raw source.",
    Mappings(owasp_llm=("LLM02",), saif=("SAIF-1",), nist_ai_rmf=("MEASURE 2.10",)),
)
PROVENANCE = DataRule(
    "AISEC-DAT-010",
    Severity.MEDIUM,
    "Source with provenance risk flags or no record",
    "Register a provenance record; require lineage from vendors; re-validate flagged sources.",
    _SUPPLY,
)
SOURCE_RISK = DataRule(
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
)

DATA_RULES: tuple[DataRule, ...] = (
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
)
