"""``aisec inventory discover --engine ray``: log parsing and matching as a Ray Data job.

The driver detects each file's format and reads the DNS logs and squid.conf files first
(the context every file's parse needs); a Ray Data ``map_batches`` job then runs
:func:`aisec.monitoring._discover.scan_file` on each log, billing and SaaS file (one block
per file) and the driver reconciles the sightings with the registry, in the files' order,
as the in-process discovery does. Workers receive file paths, the AI catalogue, the column
mapping, the Squid formats and the DNS answers; never a key, a registry token or a database
URL. Repositories given with ``--code`` are read on the driver.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from aisec.monitoring._discover import FileContext, FileResult, scan_file

__all__ = ["ray_file_map"]


def _batch(batch: dict[str, Any], ctx: FileContext) -> dict[str, Any]:
    import numpy as np

    from aisec.scale._ray import one_thread_per_task

    one_thread_per_task()
    out = []
    for role, path, fmt in zip(batch["role"], batch["path"], batch["fmt"], strict=True):
        # our own result objects, built by our code on the worker; the file itself is data
        out.append(pickle.dumps(scan_file((str(role), Path(str(path)), str(fmt)), ctx)))
    return {"i": np.asarray(batch["i"]), "result": np.asarray(out, dtype=object)}


def ray_file_map(*, address: str | None = None, workers: int | None = None) -> Any:
    """A ``file_map`` for :func:`aisec.monitoring.discover` that runs on Ray Data."""

    def run(work: Sequence[tuple[str, Path, str]], ctx: FileContext) -> Iterator[FileResult]:
        if not work:
            return iter(())
        from aisec.scale._ray import quiet_data_context, ray_session

        with ray_session(address, workers) as ray:
            import ray.data

            quiet_data_context(ray)
            items = [
                {"i": i, "role": role, "path": str(p), "fmt": fmt}
                for i, (role, p, fmt) in enumerate(work)
            ]
            rows = (
                ray.data.from_items(items, override_num_blocks=len(items))
                .map_batches(
                    _batch,
                    batch_size=1,
                    num_cpus=1,
                    batch_format="numpy",
                    fn_kwargs={"ctx": ctx},
                )
                .take_all()
            )
        rows.sort(key=lambda r: int(r["i"]))
        return iter([pickle.loads(r["result"]) for r in rows])  # noqa: S301 - our own results

    return run
