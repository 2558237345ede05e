"""Evidence: signed attestations in a tamper-evident log.

>>> from aisec.core.evidence import EvidenceStore, Statement, ArtifactRef, predicate_type
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aisec.core.evidence.attestation import (
    PAYLOAD_TYPE,
    STATEMENT_TYPE,
    ArtifactRef,
    Envelope,
    Statement,
    predicate_type,
    sign_statement,
)
from aisec.core.evidence.keys import (
    KeyType,
    PublicKey,
    SigningKey,
    aisec_home,
    default_key_path,
    generate_keypair,
    load_public_key,
    load_signing_key,
)
from aisec.core.evidence.verify import Problem, ProblemKind, TreeHead, VerifyReport

if TYPE_CHECKING:
    from aisec.core.evidence.store import (
        EvidenceStore,
        LogEntry,
        default_store_url,
        read_export,
        verify_export,
    )

# The store pulls in SQLAlchemy; commands that only sign or parse should not pay for it.
_STORE_NAMES = frozenset(
    {"EvidenceStore", "LogEntry", "default_store_url", "read_export", "verify_export"}
)


def __getattr__(name: str) -> Any:
    if name in _STORE_NAMES:
        from aisec.core.evidence import store

        return getattr(store, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "PAYLOAD_TYPE",
    "STATEMENT_TYPE",
    "ArtifactRef",
    "Envelope",
    "EvidenceStore",
    "KeyType",
    "LogEntry",
    "Problem",
    "ProblemKind",
    "PublicKey",
    "SigningKey",
    "Statement",
    "TreeHead",
    "VerifyReport",
    "aisec_home",
    "default_key_path",
    "default_store_url",
    "generate_keypair",
    "load_public_key",
    "load_signing_key",
    "predicate_type",
    "read_export",
    "sign_statement",
    "verify_export",
]
