"""The ``evaluation/redteam:v1`` attestation of a run (docs/predicates.md)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aisec.core.evidence import ArtifactRef, Statement, predicate_type

__all__ = ["REDTEAM_PREDICATE", "redteam_statement"]

REDTEAM_PREDICATE = predicate_type("evaluation", "redteam")


def redteam_statement(report: Mapping[str, Any]) -> Statement:
    """Subjects: the model (digest of its folder, or of its identifier), the system prompt,
    tool definitions and RAG corpus when given, the attack suite and all transcripts."""
    target = report["target"]
    subjects = [ArtifactRef(f"model:{target['identifier']}", target["model_digest"])]
    named = (
        ("system-prompt", target["system_prompt_digest"]),
        ("tools", target["tools_digest"]),
        ("rag-corpus", target["rag_digest"]),
        (f"attack-suite:{report['suite']['name']}", report["suite"]["digest"]),
        ("transcripts", report["transcripts_digest"]),
    )
    subjects += [ArtifactRef(name, digest) for name, digest in named if digest]
    predicate: dict[str, Any] = {
        "model_digest": target["model_digest"],
        "system_prompt_digest": target["system_prompt_digest"],
        "confidence": report["run"]["confidence"],
        "categories": {
            c["id"]: {
                "attempts": c["trials"],
                "successes": c["successes"],
                "rate": c["rate"],
                "ci": [c["ci_low"], c["ci_high"]],
            }
            for c in report["categories"]
        },
        "suite_digest": report["suite"]["digest"],
        "transcripts_digest": report["transcripts_digest"],
        "run": {"id": report["run"]["id"], "status": report["run"]["status"]},
        "findings": list(report["findings"]),
    }
    if target["tools_digest"]:
        predicate["tools_digest"] = target["tools_digest"]
    if target["rag_digest"]:
        predicate["rag_digest"] = target["rag_digest"]
    return Statement(tuple(subjects), REDTEAM_PREDICATE, predicate)
