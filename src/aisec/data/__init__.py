"""Stage 1, data: provenance records and a data-trust audit that scores each source.

>>> from aisec.data import SourceRecord, register_source, audit_dataset
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aisec.core._lazy import lazy_dir, lazy_exports

if TYPE_CHECKING:
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
    from aisec.data._rules import DATA_RULES
    from aisec.data._table import SAMPLE_CAP, ExpectedSchema, load_schema
    from aisec.data.audit import AUDIT_PREDICATE, AUDIT_SCHEMA, audit_dataset, audit_statement

# the stage's modules load on first use: importing the package (as the control registry
# does) costs nothing
_EXPORTS = {
    "record_from_croissant": "aisec.data._croissant",
    "record_to_croissant": "aisec.data._croissant",
    "PROVENANCE_PREDICATE": "aisec.data._records",
    "ProvenanceFlag": "aisec.data._records",
    "RecordVersion": "aisec.data._records",
    "SourceRecord": "aisec.data._records",
    "latest_records": "aisec.data._records",
    "load_record_file": "aisec.data._records",
    "register_source": "aisec.data._records",
    "source_history": "aisec.data._records",
    "DATA_RULES": "aisec.data._rules",
    "SAMPLE_CAP": "aisec.data._table",
    "ExpectedSchema": "aisec.data._table",
    "load_schema": "aisec.data._table",
    "AUDIT_PREDICATE": "aisec.data.audit",
    "AUDIT_SCHEMA": "aisec.data.audit",
    "audit_dataset": "aisec.data.audit",
    "audit_statement": "aisec.data.audit",
}
__getattr__ = lazy_exports(__name__, _EXPORTS)

__all__ = [
    "AUDIT_PREDICATE",
    "AUDIT_SCHEMA",
    "DATA_RULES",
    "PROVENANCE_PREDICATE",
    "SAMPLE_CAP",
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
]
__dir__ = lazy_dir(__all__)
