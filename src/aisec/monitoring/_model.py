"""Values shared by the discovery sources: one observation of AI use, one registry entry."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = ["Decision", "Observation", "RegistryEntry", "Skipped", "to_iso"]


@dataclass(frozen=True, slots=True)
class Observation:
    """One piece of evidence that an AI system is in use.

    ``key`` identifies the system the evidence belongs to (the same key from logs, billing
    and code means the same system); ``identifiers`` are the hosts, resource names and
    model ids a registry entry's endpoint can match.
    """

    key: str
    name: str
    kind: str
    provider: str
    source: str  # network | billing | saas | code
    file: str
    location: str
    count: int = 1
    host: str | None = None
    user: str | None = None
    cost_centre: str | None = None
    owner: str | None = None
    first_seen: str | None = None
    last_seen: str | None = None
    cost: float = 0.0
    identifiers: tuple[str, ...] = ()
    detail: str = ""
    #: the client that made the call (IP or host name), for owner attribution
    client: str | None = None
    #: a team named by the evidence itself (resource tag, SaaS department, registry)
    team: str | None = None
    #: explicit join keys: two observations sharing one are the same system
    keys: tuple[str, ...] = ()
    #: weaker keys (provider, provider+region) joined only when they point at one system
    soft: tuple[str, ...] = ()
    #: ``ai``: evidence of AI use; ``support``: only adds to a system (ML library, GPU,
    #: model download); ``resource``: a cloud resource, evidence only for a registry entry
    role: str = "ai"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "source": self.source,
            "file": self.file,
            "location": self.location,
            "count": self.count,
        }
        for name in (
            "host",
            "client",
            "user",
            "team",
            "cost_centre",
            "owner",
            "first_seen",
            "last_seen",
        ):
            value = getattr(self, name)
            if value:
                out[name] = value
        if self.cost:
            out["cost"] = round(self.cost, 4)
        if self.detail:
            out["detail"] = self.detail
        if self.identifiers:
            out["identifiers"] = list(self.identifiers)
        if self.keys:
            out["keys"] = list(self.keys)
        return out


@dataclass(frozen=True, slots=True)
class RegistryEntry:
    """A model or AI system the organisation registered (MLflow, JSON export or CSV)."""

    id: str
    name: str
    owner: str | None = None
    endpoint: str | None = None
    kind: str | None = None
    description: str = ""
    source: str = ""
    team: str | None = None
    provider: str | None = None
    model: str | None = None
    aliases: tuple[str, ...] = ()
    versions: tuple[dict[str, Any], ...] = field(default_factory=tuple)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "owner": self.owner,
            "endpoint": self.endpoint,
            "kind": self.kind,
            "description": self.description,
            "source": self.source,
            "team": self.team,
            "provider": self.provider,
            "model": self.model,
        }


@dataclass(frozen=True, slots=True)
class Skipped:
    """An input aisec could not use, with the reason (reported as a finding, never a pass)."""

    file: str
    reason: str


@dataclass(frozen=True, slots=True)
class Decision:
    """Why something that looked like AI is not an AI system (shown by ``--explain``)."""

    subject: str
    reason: str
    file: str = ""
    location: str = ""

    def to_json(self) -> dict[str, str]:
        return {
            "subject": self.subject,
            "reason": self.reason,
            "file": self.file,
            "location": self.location,
        }


def to_iso(value: float | str | None) -> str | None:
    """Epoch seconds or an already textual timestamp, as ISO 8601 UTC text."""
    if value is None:
        return None
    if isinstance(value, float | int):
        try:
            return datetime.fromtimestamp(float(value), tz=UTC).isoformat().replace("+00:00", "Z")
        except (OverflowError, OSError, ValueError):
            return None
    text = str(value).strip()
    return text[:40] or None
