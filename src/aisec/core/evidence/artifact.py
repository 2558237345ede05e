"""The core control: attest that artifacts with these digests exist, and where they came from.

Predicate ``urn:aisec:predicate:core/artifact:v1`` (docs/predicates.md). Stages attach
their own predicates; this one lets any file or folder join the chain, and lets a
demo or a pipeline step record lineage (``derived_from``) before its stage lands.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from aisec.core.digest import digest_path, parse_digest
from aisec.core.evidence.attestation import ArtifactRef, Statement, predicate_type

__all__ = ["ARTIFACT_PREDICATE", "artifact_statement"]

ARTIFACT_PREDICATE = predicate_type("core", "artifact")


def artifact_statement(
    paths: Sequence[Path],
    *,
    stage: str | None = None,
    note: str | None = None,
    derived_from: Sequence[str] = (),
    progress: Callable[[int], None] | None = None,
) -> Statement:
    """Digest each path (file or folder) and describe them in one statement."""
    subjects = []
    manifests = []
    for path in paths:
        m = digest_path(path, progress=progress)
        name = path.name or str(path)
        subjects.append(ArtifactRef(name=name, digest=m.digest))
        manifests.append(
            {
                "name": name,
                "kind": m.kind,
                "digest": m.digest,
                "files": len(m.entries),
                "bytes": sum(e.size for e in m.entries),
            }
        )
    predicate: dict[str, object] = {"artifacts": manifests}
    if stage:
        predicate["stage"] = stage
    if note:
        predicate["note"] = note
    if derived_from:
        predicate["derived_from"] = [parse_digest(d) for d in derived_from]
    return Statement(
        subjects=tuple(subjects), predicate_type=ARTIFACT_PREDICATE, predicate=predicate
    )
