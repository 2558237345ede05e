"""The core control: attest that artifacts with these digests exist, and where they came from.

Predicate ``core/artifact`` (:class:`aisec.core.predicates.core.ArtifactPredicate`). Stages
attach their own predicates; this one lets any file or folder join the chain, and lets a demo
or a pipeline step record lineage (``inputs`` with role ``source``) before its stage lands.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from aisec.core.controls import ControlResult
from aisec.core.digest import digest_path, parse_digest

if TYPE_CHECKING:
    from aisec.core.evidence.attestation import Statement
    from aisec.core.predicates.core import ArtifactPredicate

__all__ = ["artifact_predicate", "artifact_statement"]


def artifact_predicate(
    paths: Sequence[Path],
    *,
    stage: str | None = None,
    note: str | None = None,
    derived_from: Sequence[str] = (),
    progress: Callable[[int], None] | None = None,
) -> ArtifactPredicate:
    """Digest each path (file or folder) and describe them in one predicate."""
    from aisec.core.predicates import InputRef, SubjectRef
    from aisec.core.predicates.core import ArtifactInfo, ArtifactPredicate

    subjects = []
    infos = []
    for path in paths:
        m = digest_path(path, progress=progress)
        name = path.name or str(path)
        subjects.append(SubjectRef(name=name, digest=m.digest))
        infos.append(
            ArtifactInfo(
                name=name,
                kind=m.kind,
                digest=m.digest,
                files=len(m.entries),
                bytes=sum(e.size for e in m.entries),
            )
        )
    return ArtifactPredicate(
        result=ControlResult.RECORDED,
        subjects=tuple(subjects),
        inputs=tuple(
            InputRef(name="derived-from", digest=parse_digest(d), role="source")
            for d in derived_from
        ),
        artifacts=tuple(infos),
        stage=stage,
        note=note,
    )


def artifact_statement(
    paths: Sequence[Path],
    *,
    stage: str | None = None,
    note: str | None = None,
    derived_from: Sequence[str] = (),
    progress: Callable[[int], None] | None = None,
) -> Statement:
    """The signed form of :func:`artifact_predicate`."""
    return artifact_predicate(
        paths, stage=stage, note=note, derived_from=derived_from, progress=progress
    ).statement()
