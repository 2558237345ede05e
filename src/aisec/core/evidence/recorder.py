"""The one way a control's result reaches the evidence store: a :class:`Recorder`.

Library code builds statements (or typed predicates) and hands them to the recorder it was
given; it never opens the store itself. The CLI makes a :class:`StoreRecorder` (a store URL
and a signing key) or a :class:`NullRecorder` for ``--no-record``; tests pass either.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from aisec.core.evidence.attestation import Statement
    from aisec.core.evidence.keys import SigningKey
    from aisec.core.evidence.store import EvidenceStore, LogEntry
    from aisec.core.predicates import Predicate

__all__ = ["NullRecorder", "Recorder", "StoreRecorder"]


@runtime_checkable
class Recorder(Protocol):
    """Records statements; ``enabled`` is False when nothing will be recorded."""

    @property
    def enabled(self) -> bool: ...

    @property
    def where(self) -> str:
        """Where entries go (the store's URL, password hidden); empty for none."""
        ...

    def record(
        self, item: Statement | Predicate, *, run_id: str | None = None
    ) -> LogEntry | None: ...


class NullRecorder:
    """Records nothing (``--no-record``, or no signing key and no ``--record``)."""

    @property
    def enabled(self) -> bool:
        return False

    @property
    def where(self) -> str:
        return ""

    def record(self, item: Statement | Predicate, *, run_id: str | None = None) -> LogEntry | None:
        return None


class StoreRecorder:
    """Signs with ``key`` and appends to the store at ``url`` (opened on first use).

    Safe to share between threads; ``close`` (or ``with``) releases the store.
    """

    def __init__(
        self, url: str | None, key: SigningKey, *, store: EvidenceStore | None = None
    ) -> None:
        self.url = url
        self.key = key
        self._store = store
        self._owns_store = store is None
        self._lock = threading.Lock()

    @classmethod
    def for_store(cls, store: EvidenceStore, key: SigningKey) -> StoreRecorder:
        """A recorder over a store the caller already holds (and closes)."""
        return cls(store.url, key, store=store)

    @property
    def enabled(self) -> bool:
        return True

    @property
    def where(self) -> str:
        return self.store.url

    @property
    def store(self) -> EvidenceStore:
        """The store this recorder appends to, opened on first use."""
        with self._lock:
            if self._store is None:
                from aisec.core.evidence.store import EvidenceStore

                self._store = EvidenceStore.open(self.url)
            return self._store

    def record(self, item: Statement | Predicate, *, run_id: str | None = None) -> LogEntry:
        from aisec.core.evidence.attestation import Statement

        statement = item if isinstance(item, Statement) else item.statement()
        return self.store.record(statement, self.key, run_id=run_id)

    def record_many(self, items: Sequence[Statement | Predicate]) -> list[LogEntry]:
        """Record many in one transaction of the store (a sweep's batch)."""
        from aisec.core.evidence.attestation import Statement

        statements = [i if isinstance(i, Statement) else i.statement() for i in items]
        return self.store.record_many(statements, self.key)

    def close(self) -> None:
        with self._lock:
            if self._store is not None and self._owns_store:
                self._store.close()
            self._store = None if self._owns_store else self._store

    def __enter__(self) -> StoreRecorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
