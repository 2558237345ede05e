"""Evidence: signed attestations in a tamper-evident log.

>>> from aisec.core.evidence import EvidenceStore, Statement, ArtifactRef, predicate_type
"""

from __future__ import annotations

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
from aisec.core.evidence.store import (
    EvidenceStore,
    LogEntry,
    default_store_url,
    read_export,
    verify_export,
)
from aisec.core.evidence.verify import Problem, ProblemKind, TreeHead, VerifyReport

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
