"""``aisec inventory discover --engine ray``: log parsing and matching as Ray tasks.

The driver detects each file's format and reads the DNS logs and squid.conf files first
(the context every file's parse needs); one Ray task per file then runs
:func:`aisec.monitoring._discover.scan_file` on each log, billing and SaaS file and the
driver reconciles the sightings with the registry, in the files' order,
as the in-process discovery does. Workers receive file paths, the AI catalogue, the column
mapping, the Squid formats and the DNS answers; never a key, a registry token or a database
URL. Repositories given with ``--code`` are read on the driver.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from aisec.monitoring._discover import FileContext, FileResult, scan_file

__all__ = ["ray_file_map"]


def ray_file_map(*, address: str | None = None, workers: int | None = None) -> Any:
    """A ``file_map`` for :func:`aisec.monitoring.discover` that runs as Ray tasks."""

    def run(work: Sequence[tuple[str, Path, str]], ctx: FileContext) -> Iterator[FileResult]:
        if not work:
            return iter(())
        from aisec.scale._ray import map_tasks, ray_session

        with ray_session(address, workers) as ray:
            got = dict(map_tasks(ray, scan_file, [(w,) for w in work], shared=ctx))
        return iter([got[i] for i in range(len(work))])

    return run
