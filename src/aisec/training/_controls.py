"""The training stage's controls, declared once (read by ``aisec.registry``)."""

from __future__ import annotations

from aisec.core.controls import Control
from aisec.core.findings import Mappings
from aisec.core.predicates.training import (
    CheckpointPredicate,
    CheckpointVerifyPredicate,
    InfraCheckPredicate,
)
from aisec.training._rules import LEDGER_RULES
from aisec.training.infra.rules import INFRA_RULES

__all__ = ["CONTROLS"]

_TAMPER = Mappings(
    atlas=("AML.T0018", "AML.T0018.000"),
    owasp_llm=("LLM04",),
    saif=("SAIF-4",),
    nist_ai_rmf=("MEASURE 2.7",),
)

CONTROLS: tuple[Control, ...] = (
    Control(
        id="training/checkpoint",
        name="Checkpoint ledger",
        question="Which checkpoints did this run write, with which exact bytes?",
        description="Hashes each checkpoint as training writes it into an append-only ledger.",
        commands=("aisec train watch", "CheckpointLedger.record"),
        predicate=CheckpointPredicate,
        mappings=_TAMPER,
    ),
    Control(
        id="training/checkpoint-verify",
        name="Checkpoint verification",
        question="Are the checkpoints on disk the ones training recorded?",
        description="Compares the checkpoints on disk with the run's ledger: modified, "
        "missing, unrecorded, rolled back, gaps.",
        commands=("aisec train verify",),
        predicate=CheckpointVerifyPredicate,
        rules=LEDGER_RULES,
        mappings=_TAMPER,
    ),
    Control(
        id="training/infra-check",
        name="Training infrastructure check",
        question="Can anything reach these nodes, and could a compromised node exfiltrate "
        "the weights?",
        description="Checks a training or serving environment for open ingress, unrestricted "
        "egress, public addresses, unencrypted storage and over-privileged containers.",
        commands=("aisec train infra-check",),
        predicate=InfraCheckPredicate,
        rules=tuple(c.rule for c in INFRA_RULES),
        mappings=Mappings(
            atlas=("AML.T0025", "AML.T0035", "AML.T0012"),
            saif=("SAIF-4",),
            nist_ai_rmf=("MEASURE 2.7", "MANAGE 1.3"),
        ),
    ),
)
