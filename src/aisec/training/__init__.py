"""Stage 2, training: the checkpoint integrity ledger and infrastructure checks.

>>> from aisec.training import CheckpointLedger
>>> ledger = CheckpointLedger("fraud-v3", interval="4h", root="ckpt")   # doctest: +SKIP
>>> ledger.record("ckpt/step-100.pt", step=100, metrics={"loss": 0.4})  # doctest: +SKIP
"""

from __future__ import annotations

from aisec.training._callbacks import hf_callback, lightning_checkpoint_io, save_checkpoint
from aisec.training._ledger import (
    CHECKPOINT_PREDICATE,
    CheckpointLedger,
    CheckpointRecord,
    load_records,
    parse_interval,
    state_dict_digest,
)
from aisec.training._rules import LEDGER_RULES, LedgerRule
from aisec.training._verify import (
    CheckpointStatus,
    VerifyResult,
    list_checkpoints,
    verify_checkpoints,
)
from aisec.training._watch import WatchEvent, guess_step, watch_checkpoints

__all__ = [
    "CHECKPOINT_PREDICATE",
    "LEDGER_RULES",
    "CheckpointLedger",
    "CheckpointRecord",
    "CheckpointStatus",
    "LedgerRule",
    "VerifyResult",
    "WatchEvent",
    "guess_step",
    "hf_callback",
    "lightning_checkpoint_io",
    "list_checkpoints",
    "load_records",
    "parse_interval",
    "save_checkpoint",
    "state_dict_digest",
    "verify_checkpoints",
    "watch_checkpoints",
]
