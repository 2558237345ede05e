"""The core control: an artifact record, so any file or folder can join the chain."""

from __future__ import annotations

from aisec.core.controls import Control
from aisec.core.findings import Mappings
from aisec.core.predicates.core import ArtifactPredicate, TriagePredicate

__all__ = ["CONTROLS"]

CONTROLS: tuple[Control, ...] = (
    Control(
        id="core/artifact",
        name="Artifact record",
        question="Which exact bytes is this, and what was it made from?",
        description="Records the digest of any artifact so that later controls and the gate "
        "can refer to it.",
        commands=("aisec evidence add",),
        predicate=ArtifactPredicate,
        mappings=Mappings(saif=("SAIF-1",), nist_ai_rmf=("MAP 4.1",)),
    ),
    Control(
        id="core/triage",
        name="Finding triage",
        question="Who decided what about this finding, why, and until when?",
        description="Records a risk acceptance, false positive, fix or suppression of one "
        "finding, signed, with who and why; the deploy gate honours what its policy allows.",
        commands=("aisec evidence triage", "aisec dashboard"),
        predicate=TriagePredicate,
        mappings=Mappings(saif=("SAIF-6",), nist_ai_rmf=("MANAGE 1.3", "MANAGE 4.1")),
    ),
)
