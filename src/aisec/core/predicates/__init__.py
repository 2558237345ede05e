"""Typed predicates: the contract between the stages that write evidence and its readers.

Each control's predicate is a pydantic model with the common envelope of
:class:`Predicate` (``result``, ``findings``, ``subjects``, ``inputs``, ``run``) and its own
fields. Stages build them; :meth:`EvidenceStore.append` validates every aisec predicate
against its model; the gate, the dashboard and the chain read fields, never dict keys.
:func:`read_predicate` turns a stored statement back into its model, older versions included.

The models live in core because several stages read them (the gate reads scans, red-team
runs and audits); each stage's module here (``aisec.core.predicates.<stage>``) is owned by
that stage. Closed sets they share are plain enums in :mod:`aisec.core.predicates.enums`,
importable without pydantic.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aisec.core._lazy import lazy_dir, lazy_exports

if TYPE_CHECKING:
    from aisec.core.predicates._base import (
        Digest,
        FindingField,
        InputRef,
        Predicate,
        RunInfo,
        SubjectRef,
    )
    from aisec.core.predicates._registry import (
        MODELS,
        is_aisec_type,
        model_for,
        read_predicate,
        result_of,
        validate_statement,
    )

# pydantic and the models load on first use: a scan that records nothing never pays for them
_EXPORTS = {
    "Digest": "aisec.core.predicates._base",
    "FindingField": "aisec.core.predicates._base",
    "InputRef": "aisec.core.predicates._base",
    "Predicate": "aisec.core.predicates._base",
    "RunInfo": "aisec.core.predicates._base",
    "SubjectRef": "aisec.core.predicates._base",
    "MODELS": "aisec.core.predicates._registry",
    "is_aisec_type": "aisec.core.predicates._registry",
    "model_for": "aisec.core.predicates._registry",
    "read_predicate": "aisec.core.predicates._registry",
    "result_of": "aisec.core.predicates._registry",
    "validate_statement": "aisec.core.predicates._registry",
}
__getattr__ = lazy_exports(__name__, _EXPORTS)

__all__ = [
    "MODELS",
    "Digest",
    "FindingField",
    "InputRef",
    "Predicate",
    "RunInfo",
    "SubjectRef",
    "is_aisec_type",
    "model_for",
    "read_predicate",
    "result_of",
    "validate_statement",
]
__dir__ = lazy_dir(__all__)
