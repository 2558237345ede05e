"""Every predicate model, by predicate type, and the validation the store runs on append."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from aisec.core.controls import ControlResult
from aisec.core.errors import FormatError
from aisec.core.evidence.attestation import Statement
from aisec.core.predicates._base import Predicate
from aisec.core.predicates.core import ArtifactPredicate, TriagePredicate
from aisec.core.predicates.data import AuditPredicate, ProvenancePredicate
from aisec.core.predicates.deployment import (
    ConvertPredicate,
    GatePredicate,
    ScanPredicate,
    SignaturePredicate,
)
from aisec.core.predicates.evaluation import RedteamPredicate, ValidationPredicate
from aisec.core.predicates.inference import AlertPredicate, GatewayConfigPredicate
from aisec.core.predicates.monitoring import (
    BomPredicate,
    GovernancePredicate,
    InventoryPredicate,
    InventoryUpdatePredicate,
)
from aisec.core.predicates.training import (
    CheckpointPredicate,
    CheckpointVerifyPredicate,
    InfraCheckPredicate,
)

__all__ = [
    "MODELS",
    "is_aisec_type",
    "model_for",
    "read_predicate",
    "result_of",
    "validate_statement",
]

#: Every predicate model, explicitly (no discovery at run time).
MODELS: tuple[type[Predicate], ...] = (
    ArtifactPredicate,
    TriagePredicate,
    ProvenancePredicate,
    AuditPredicate,
    CheckpointPredicate,
    CheckpointVerifyPredicate,
    InfraCheckPredicate,
    RedteamPredicate,
    ValidationPredicate,
    ScanPredicate,
    ConvertPredicate,
    SignaturePredicate,
    GatePredicate,
    GatewayConfigPredicate,
    AlertPredicate,
    InventoryPredicate,
    InventoryUpdatePredicate,
    BomPredicate,
    GovernancePredicate,
)

_BY_TYPE: dict[str, type[Predicate]] = {}
for _m in MODELS:
    for _t in (_m.predicate_type(), *_m.legacy_types()):
        if _t in _BY_TYPE:  # pragma: no cover - caught by the contract test too
            raise RuntimeError(f"two predicate models claim {_t}")
        _BY_TYPE[_t] = _m

P = TypeVar("P", bound=Predicate)

if TYPE_CHECKING:
    from aisec.core.evidence.store import LogEntry


def is_aisec_type(predicate_type: str) -> bool:
    return predicate_type.startswith("urn:aisec:predicate:")


def model_for(predicate_type: str) -> type[Predicate] | None:
    """The model that reads ``predicate_type`` (current or older version), if any."""
    return _BY_TYPE.get(predicate_type)


def read_predicate(statement: Statement, model: type[P]) -> P:
    """``statement``'s predicate as ``model`` (raises FormatError if it is another type)."""
    return model.from_statement(statement)


def validate_statement(statement: Statement) -> Predicate | None:
    """The typed predicate of an aisec statement; ``None`` for a foreign predicate type.

    Raises :class:`FormatError` for an aisec type no model knows or a predicate that does
    not fit its model: nothing malformed enters the log under an aisec type.
    """
    ptype = statement.predicate_type
    if not is_aisec_type(ptype):
        return None
    model = _BY_TYPE.get(ptype)
    if model is None:
        raise FormatError(f"unknown aisec predicate type {ptype}")
    return model.from_statement(statement)


def result_of(item: LogEntry | Statement) -> ControlResult | None:
    """The result an entry's control recorded; ``None`` for another tool's predicate.

    Raises :class:`FormatError` for an aisec entry that does not fit its model.
    """
    statement = item if isinstance(item, Statement) else item.statement
    predicate = validate_statement(statement)
    return predicate.result if predicate is not None else None
