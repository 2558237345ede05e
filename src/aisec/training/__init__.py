"""Stage 2, training: the checkpoint integrity ledger and infrastructure checks.

>>> from aisec.training import CheckpointLedger
>>> ledger = CheckpointLedger("fraud-v3", interval="4h", root="ckpt")   # doctest: +SKIP
>>> ledger.record("ckpt/step-100.pt", step=100, metrics={"loss": 0.4})  # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aisec.core._lazy import lazy_dir, lazy_exports

if TYPE_CHECKING:
    from aisec.training._callbacks import hf_callback, lightning_checkpoint_io, save_checkpoint
    from aisec.training._ledger import (
        CHECKPOINT_PREDICATE,
        CheckpointLedger,
        CheckpointRecord,
        load_records,
        parse_interval,
        state_dict_digest,
    )
    from aisec.training._rules import LEDGER_RULES
    from aisec.training._verify import (
        CheckpointStatus,
        VerifyResult,
        list_checkpoints,
        verify_checkpoints,
    )
    from aisec.training._watch import WatchEvent, guess_step, watch_checkpoints

# the stage's modules load on first use: importing the package (as the control registry
# does) costs nothing
_EXPORTS = {
    "hf_callback": "aisec.training._callbacks",
    "lightning_checkpoint_io": "aisec.training._callbacks",
    "save_checkpoint": "aisec.training._callbacks",
    "CHECKPOINT_PREDICATE": "aisec.training._ledger",
    "CheckpointLedger": "aisec.training._ledger",
    "CheckpointRecord": "aisec.training._ledger",
    "load_records": "aisec.training._ledger",
    "parse_interval": "aisec.training._ledger",
    "state_dict_digest": "aisec.training._ledger",
    "LEDGER_RULES": "aisec.training._rules",
    "CheckpointStatus": "aisec.training._verify",
    "VerifyResult": "aisec.training._verify",
    "list_checkpoints": "aisec.training._verify",
    "verify_checkpoints": "aisec.training._verify",
    "WatchEvent": "aisec.training._watch",
    "guess_step": "aisec.training._watch",
    "watch_checkpoints": "aisec.training._watch",
}
__getattr__ = lazy_exports(__name__, _EXPORTS)

__all__ = [
    "CHECKPOINT_PREDICATE",
    "LEDGER_RULES",
    "CheckpointLedger",
    "CheckpointRecord",
    "CheckpointStatus",
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
__dir__ = lazy_dir(__all__)
