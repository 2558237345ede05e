"""Watch a checkpoint folder and record each new or changed checkpoint.

Polling, not inotify: it works the same on local disks, NFS and FUSE-mounted buckets,
where change notifications are missing or unreliable. A checkpoint is hashed only once
its size and modification time stayed the same over ``settle`` seconds, so a file
still being written is not recorded half-way.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from aisec.core.digest import digest_path
from aisec.core.errors import InputError
from aisec.training._ledger import CheckpointLedger, load_records
from aisec.training._verify import list_checkpoints

__all__ = ["WatchEvent", "guess_step", "watch_checkpoints"]

_STEP_RE = re.compile(r"(?:step|global_step|iter|it)[=_-]?(\d+)", re.IGNORECASE)
_NUM_RE = re.compile(r"(\d+)")


@dataclass(frozen=True, slots=True)
class WatchEvent:
    """What one pass did with one checkpoint: recorded, changed (re-recorded) or unstable."""

    path: str
    action: str
    digest: str | None
    step: int | None


def guess_step(name: str) -> int | None:
    """The training step in a checkpoint's name (``checkpoint-500``, ``epoch=2-step=1200.ckpt``)."""
    m = _STEP_RE.search(name)
    if m:
        return int(m.group(1))
    nums = _NUM_RE.findall(name)
    return int(nums[-1]) if nums else None


def _signature(path: Path) -> tuple[int, int, int]:
    """(files, bytes, newest mtime in ns) of a file or folder."""
    try:
        if path.is_file():
            st = path.stat()
            return 1, st.st_size, st.st_mtime_ns
        files = size = newest = 0
        for p in path.rglob("*"):
            if p.is_file():
                st = p.stat()
                files, size, newest = files + 1, size + st.st_size, max(newest, st.st_mtime_ns)
    except OSError:
        return -1, -1, -1  # vanished mid-scan: unstable this round
    return files, size, newest


def watch_checkpoints(
    directory: Path,
    ledger: CheckpointLedger,
    *,
    pattern: str = "*",
    once: bool = False,
    poll: float = 30.0,
    settle: float = 2.0,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[WatchEvent]:
    """Record new and changed checkpoints in ``directory``; yields one event per action.

    With ``once`` it makes one pass (two looks ``settle`` seconds apart) and stops.
    """
    records = load_records(ledger.store, ledger.run_id)
    known = {r.name: r.digest for r in records}
    next_step = max((r.step for r in records), default=-1) + 1
    previous: dict[str, tuple[int, int, int]] = {}
    handled: dict[str, tuple[int, int, int]] = {}
    while True:
        if once:
            previous = {n: _signature(directory / n) for n in list_checkpoints(directory, pattern)}
            sleep(settle)
        current = {n: _signature(directory / n) for n in list_checkpoints(directory, pattern)}
        for name in sorted(current):
            sig = current[name]
            if handled.get(name) == sig:
                continue
            if previous.get(name) != sig or sig[0] <= 0:
                if once:
                    yield WatchEvent(name, "unstable", None, None)
                continue
            handled[name] = sig
            try:
                manifest = digest_path(directory / name)
            except InputError:
                continue  # removed or replaced between the look and the hash
            if known.get(name) == manifest.digest:
                continue
            action = "changed" if name in known else "recorded"
            step = guess_step(name)
            if step is None or step < next_step:
                step = next_step
            ledger.record_digest(name, manifest.digest, step=step, kind=manifest.kind)
            known[name] = manifest.digest
            next_step = step + 1
            yield WatchEvent(name, action, manifest.digest, step)
        if once:
            return
        previous = current
        sleep(poll)
