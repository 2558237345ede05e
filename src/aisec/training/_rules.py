"""Finding rules of the checkpoint ledger (``AISEC-TRN-0xx``).

Each rule is data: id, severity, title, remediation and framework mappings. The
infrastructure rules (``AISEC-TRN-1xx`` and ``-2xx``) live in :mod:`aisec.training.infra.rules`.
"""

from __future__ import annotations

from aisec.core.controls import Rule
from aisec.core.findings import Mappings, Severity

__all__ = ["LEDGER_RULES"]


def _rule(
    rule_id: str,
    severity: Severity,
    title: str,
    remediation: str,
    mappings: Mappings,
    rationale: str = "",
) -> Rule:
    return Rule(rule_id, "training", severity, title, remediation, mappings, rationale)


_TAMPER = Mappings(
    atlas=("AML.T0018", "AML.T0018.000"),
    saif=("SAIF-1", "SAIF-2"),
    nist_ai_rmf=("MEASURE 2.7", "MANAGE 2.3"),
)

MODIFIED = _rule(
    "AISEC-TRN-001",
    Severity.CRITICAL,
    "Checkpoint modified after it was recorded",
    "Treat the run as compromised: restore the checkpoint from a trusted copy whose digest "
    "matches the ledger, find who could write to the checkpoint store, and resume from the "
    "last verified checkpoint.",
    _TAMPER,
    rationale=(
        "A checkpoint changed after it was recorded may carry a backdoor planted mid-training."
    ),
)
MISSING = _rule(
    "AISEC-TRN-002",
    Severity.HIGH,
    "Recorded checkpoint missing",
    "Restore the checkpoint from a backup and check its digest against the ledger; if the "
    "training job rotates old checkpoints on purpose, pass --allow-deleted.",
    Mappings(
        atlas=("AML.T0018",),
        saif=("SAIF-1",),
        nist_ai_rmf=("MEASURE 2.7", "MANAGE 2.3"),
    ),
    rationale=(
        "A recorded checkpoint that disappeared breaks the trail from data to released weights."
    ),
)
UNRECORDED = _rule(
    "AISEC-TRN-003",
    Severity.HIGH,
    "Checkpoint on disk was never recorded",
    "Do not resume from or deploy this checkpoint: nothing vouches for its content. Find "
    "where it came from; record checkpoints only from the training job itself.",
    Mappings(
        atlas=("AML.T0018.000", "AML.T0020"),
        saif=("SAIF-1", "SAIF-2"),
        nist_ai_rmf=("MEASURE 2.7", "MANAGE 2.3"),
    ),
    rationale=(
        "A checkpoint nobody recorded may have been placed by someone other than the training job."
    ),
)
ROLLED_BACK = _rule(
    "AISEC-TRN-004",
    Severity.HIGH,
    "Checkpoint rolled back or reordered",
    "Restore the newer checkpoint from a trusted copy matching the ledger; a checkpoint "
    "replaced by an older one silently undoes training (e.g. a safety fine-tune).",
    _TAMPER,
    rationale=(
        "Rolling a run back to an older checkpoint can silently undo fixes or reinstate a backdoor."
    ),
)
GAP = _rule(
    "AISEC-TRN-005",
    Severity.MEDIUM,
    "Gap in the checkpoint record longer than the interval",
    "Record a checkpoint at least once per interval (aisec train watch, or the ledger "
    "callback); a long gap is a window in which weights could change unobserved.",
    Mappings(
        atlas=("AML.T0018",),
        saif=("SAIF-2",),
        nist_ai_rmf=("MEASURE 3.1", "MANAGE 4.1"),
    ),
    rationale="Gaps in the record are windows in which checkpoints could be swapped unseen.",
)
CHAIN = _rule(
    "AISEC-TRN-006",
    Severity.HIGH,
    "Checkpoint ledger chain broken",
    "Run 'aisec evidence verify' on the store; a record was removed, inserted or signed by "
    "an unknown key. Re-establish the run from its last verifiable checkpoint.",
    Mappings(
        atlas=("AML.T0018",),
        saif=("SAIF-1", "SAIF-2"),
        nist_ai_rmf=("MEASURE 2.7", "MANAGE 2.3"),
    ),
    rationale="A broken ledger chain means records were removed, inserted or forged.",
)

LEDGER_RULES: tuple[Rule, ...] = (MODIFIED, MISSING, UNRECORDED, ROLLED_BACK, GAP, CHAIN)
