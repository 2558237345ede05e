"""Evidence: signed attestations in a tamper-evident log.

>>> from aisec.core.evidence import EvidenceStore, Statement, ArtifactRef, predicate_type
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aisec.core._lazy import lazy_dir, lazy_exports

if TYPE_CHECKING:
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

# Every name loads from its module on first use: the store pulls in SQLAlchemy and the keys
# cryptography, and a scan with --no-record (or a NullRecorder) should pay for neither.
_MODULES = {
    **dict.fromkeys(
        ("PAYLOAD_TYPE", "STATEMENT_TYPE", "ArtifactRef", "Envelope", "Statement",
         "predicate_type", "sign_statement"),
        "aisec.core.evidence.attestation",
    ),
    **dict.fromkeys(
        ("KeyType", "PublicKey", "SigningKey", "aisec_home", "default_key_path",
         "generate_keypair", "load_public_key", "load_signing_key"),
        "aisec.core.evidence.keys",
    ),
    **dict.fromkeys(
        ("EvidenceStore", "LogEntry", "default_store_url", "read_export", "verify_export"),
        "aisec.core.evidence.store",
    ),
    **dict.fromkeys(
        ("Problem", "ProblemKind", "TreeHead", "VerifyReport"), "aisec.core.evidence.verify"
    ),
}  # fmt: skip
__getattr__ = lazy_exports(__name__, _MODULES)

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
__dir__ = lazy_dir(__all__)
