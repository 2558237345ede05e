"""The stored inventory: the latest discovery plus the owner/review updates recorded after it.

Both are ``monitoring/inventory`` attestations in the evidence store, so the inventory's
history is append-only and signed: a discovery carries ``systems``; an update carries
``update`` (one system id and the fields set). The current state is the latest discovery
with every later update applied in log order.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aisec.core.controls import ControlResult
from aisec.core.digest import digest_bytes, digest_path
from aisec.core.errors import FormatError, InputError
from aisec.core.evidence import EvidenceStore, LogEntry, SigningKey
from aisec.core.predicates import InputRef, SubjectRef
from aisec.core.predicates.monitoring import InventoryPredicate, InventoryUpdatePredicate

__all__ = ["RISK_TIERS", "current_inventory", "find_system", "update_system"]

RISK_TIERS = ("minimal", "limited", "high", "unacceptable")
_FIELDS = (
    "owner",
    "reviewed",
    "reviewed_by",
    "reviewed_at",
    "risk_tier",
    "lifecycle",
    "model_digest",
)


def _inventory_entries(store: EvidenceStore) -> list[LogEntry]:
    """Discoveries and updates (current and older predicate types) in log order."""
    types = {*InventoryPredicate.legacy_types(), InventoryPredicate.predicate_type()}
    types.add(InventoryUpdatePredicate.predicate_type())
    found = {e.index: e for t in sorted(types) for e in store.entries(predicate_type=t)}
    return [found[i] for i in sorted(found)]


def _legacy_update(entry: LogEntry) -> Mapping[str, Any] | None:
    """The ``update`` of an update recorded under the older shared inventory:v1 type."""
    raw = entry.statement.predicate
    if entry.predicate_type in InventoryPredicate.legacy_types() and "systems" not in raw:
        update = raw.get("update")
        return update if isinstance(update, Mapping) else None
    return None


def current_inventory(store: EvidenceStore) -> list[dict[str, Any]] | None:
    """The systems of the latest discovery with later updates applied; ``None`` if none."""
    systems: dict[str, dict[str, Any]] | None = None
    for entry in _inventory_entries(store):
        upd: Mapping[str, Any] | None
        if entry.predicate_type == InventoryUpdatePredicate.predicate_type():
            upd = InventoryUpdatePredicate.from_statement(entry.statement).update
        else:
            upd = _legacy_update(entry)
        if upd is None:
            try:
                discovery = InventoryPredicate.from_statement(entry.statement)
            except FormatError:
                continue  # unreadable: evidence verify names it
            systems = {
                s.id: {
                    **s.model_dump(mode="json"),
                    "reviewed": False,
                    "risk_tier": None,
                    "lifecycle": None,
                    "discovered_in": entry.index,
                }
                for s in discovery.systems
            }
        elif systems is not None:
            target = systems.get(str(upd.get("system")))
            if target is not None:
                target.update({k: upd[k] for k in _FIELDS if k in upd})
    return list(systems.values()) if systems is not None else None


def find_system(systems: list[dict[str, Any]], ref: str) -> dict[str, Any]:
    """A system by id, or by its exact name (case-insensitive) when that is unique."""
    hits = [s for s in systems if s["id"] == ref] or [
        s for s in systems if str(s["name"]).lower() == ref.lower()
    ]
    if len(hits) != 1:
        what = "no system" if not hits else f"{len(hits)} systems"
        raise InputError(f"{what} named {ref!r} in the stored inventory (see: inventory list)")
    return hits[0]


def update_system(
    store: EvidenceStore,
    key: SigningKey,
    ref: str,
    changes: Mapping[str, Any],
    *,
    model: str | os.PathLike[str] | None = None,
) -> LogEntry:
    """Record an owner, review or risk-tier change for one system of the stored inventory.

    ``model`` links the system to the model artifact it runs (a file or folder): its digest is
    recorded, and the update takes it as an input (role ``model``), so the model's chain of
    evidence reaches its place in the inventory.
    """
    model = None if model is None else Path(model)
    inputs: tuple[InputRef, ...] = ()
    if model is not None:
        digest = digest_path(model).digest
        changes = {**changes, "model_digest": digest}
        inputs = (InputRef(name=str(model), digest=digest, role="model"),)
    systems = current_inventory(store)
    if systems is None:
        raise InputError("no inventory in the evidence store: run inventory discover --attest")
    system = find_system(systems, ref)
    unknown = set(changes) - set(_FIELDS)
    if unknown:
        raise InputError(f"cannot set {sorted(unknown)} on an inventory system")
    tier = changes.get("risk_tier")
    if tier is not None and tier not in RISK_TIERS:
        raise InputError(f"risk tier must be one of {', '.join(RISK_TIERS)}")
    update = {"system": system["id"], **changes}
    if changes.get("reviewed"):
        update.setdefault("reviewed_at", datetime.now(UTC).isoformat(timespec="seconds"))
    subject = SubjectRef(
        name=f"inventory-system:{system['id']}", digest=digest_bytes(system["id"].encode())
    )
    predicate = InventoryUpdatePredicate(
        result=ControlResult.RECORDED, subjects=(subject,), update=update, inputs=inputs
    )
    return store.record(predicate.statement(), key)
