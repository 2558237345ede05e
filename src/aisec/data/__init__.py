"""Stage 1, data: provenance records and a data-trust audit that scores each source.

>>> from aisec.data import SourceRecord, register_source, audit_dataset
"""

from __future__ import annotations

from aisec.data._croissant import record_from_croissant, record_to_croissant
from aisec.data._records import (
    PROVENANCE_PREDICATE,
    ProvenanceFlag,
    RecordVersion,
    SourceRecord,
    latest_records,
    load_record_file,
    register_source,
    source_history,
)
from aisec.data._risk import wilson
from aisec.data._rules import DATA_RULES, DataRule
from aisec.data._table import SAMPLE_CAP, ExpectedSchema, load_schema
from aisec.data.audit import AUDIT_PREDICATE, AUDIT_SCHEMA, audit_dataset, audit_statement

__all__ = [
    "AUDIT_PREDICATE",
    "AUDIT_SCHEMA",
    "DATA_RULES",
    "PROVENANCE_PREDICATE",
    "SAMPLE_CAP",
    "DataRule",
    "ExpectedSchema",
    "ProvenanceFlag",
    "RecordVersion",
    "SourceRecord",
    "audit_dataset",
    "audit_statement",
    "latest_records",
    "load_record_file",
    "load_schema",
    "record_from_croissant",
    "record_to_croissant",
    "register_source",
    "source_history",
    "wilson",
]
