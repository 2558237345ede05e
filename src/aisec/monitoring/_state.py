"""The stored inventory: the latest discovery plus the owner/review updates recorded after it.

Both are ``monitoring/inventory`` attestations in the evidence store, so the inventory's
history is append-only and signed: a discovery carries ``systems``; an update carries
``update`` (one system id and the fields set). The current state is the latest discovery
with every later update applied in log order.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from aisec.core.digest import digest_bytes
from aisec.core.errors import InputError
from aisec.core.evidence import ArtifactRef, EvidenceStore, LogEntry, SigningKey, Statement
from aisec.core.evidence import predicate_type as ptype

__all__ = ["RISK_TIERS", "current_inventory", "find_system", "update_system"]

RISK_TIERS = ("minimal", "limited", "high", "unacceptable")
_PT = ptype("monitoring", "inventory")
_FIELDS = ("owner", "reviewed", "reviewed_by", "reviewed_at", "risk_tier", "lifecycle")


def current_inventory(store: EvidenceStore) -> list[dict[str, Any]] | None:
    """The systems of the latest discovery with later updates applied; ``None`` if none."""
    systems: dict[str, dict[str, Any]] | None = None
    for entry in store.entries(predicate_type=_PT):
        pred = entry.statement.predicate
        if "systems" in pred:
            systems = {
                str(s["id"]): {
                    **dict(s),
                    "reviewed": False,
                    "risk_tier": None,
                    "lifecycle": None,
                    "discovered_in": entry.index,
                }
                for s in pred["systems"]
            }
        elif systems is not None and isinstance(pred.get("update"), Mapping):
            upd = pred["update"]
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
    store: EvidenceStore, key: SigningKey, ref: str, changes: Mapping[str, Any]
) -> LogEntry:
    """Record an owner, review or risk-tier change for one system of the stored inventory."""
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
    subject = ArtifactRef(f"inventory-system:{system['id']}", digest_bytes(system["id"].encode()))
    return store.record(Statement((subject,), _PT, {"update": update}), key)
