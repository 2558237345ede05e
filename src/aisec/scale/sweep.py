"""A registry-scale model scan: many models, their files scanned in parallel, one signed
attestation per model, resumable.

Inputs are folders (each model a sub-folder, ``model_depth`` levels down), listing files (one
path or URL per line, a model per parent folder) or fsspec URLs (``file://``; ``s3://`` and
others where the matching fsspec package is installed). Files are scanned in chunks: in this
process (``engine="local"``) or as Ray tasks (``engine="ray"``; retried when a worker is lost,
each with a memory request so a worker runs a bounded number at once). Scanning happens on the
workers; the driver alone groups the results by model, builds the predicates and signs them in
batches (the private key never leaves the driver). A journal under ``.aisec/sweeps`` lets a
killed sweep continue without rescanning what it already recorded.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from aisec.core.errors import InputError, MissingExtraError
from aisec.core.paths import aisec_home

if TYPE_CHECKING:
    from aisec.core.evidence.recorder import Recorder
    from aisec.core.findings import Finding
    from aisec.deployment.scan import FileResult, ScanReport

__all__ = ["ModelUnit", "SweepResult", "plan_sweep", "run_sweep", "scan_chunk"]

CHUNK_FILES = 64  # files per chunk in this process: the progress bar's step
# A worker idles ~2.5 ms between two Ray tasks (result out, next task in; measured beside
# bench/bench_scale.py); at ~150 µs per small file, 1,024 files keep that under 2 %, and a
# task of at most 256 MB bounds what a lost worker makes the sweep read again.
RAY_CHUNK_FILES = 1024
RAY_CHUNK_BYTES = 256 * 1024**2
RAY_TASKS_PER_CPU = 4  # at least this many tasks per CPU, so no worker idles at the end
RECORD_BATCH = 64
TASK_MEMORY = 512 * 1024 * 1024  # bytes a Ray task asks for: bounds how many run per worker
MAX_REMOTE_FILE = 64 * 1024**3


@dataclass(frozen=True)
class ModelUnit:
    """One model of the sweep: its name (relative to its source) and its files."""

    name: str
    files: tuple[str, ...]
    signature: str  # paths, sizes and modification times: a changed model is swept again
    sizes: tuple[int, ...] = ()  # bytes per file where the plan knew them (0: unknown)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "files": len(self.files), "signature": self.signature}


@dataclass
class SweepResult:
    sweep_id: str
    models: int = 0
    skipped: int = 0  # already recorded by an earlier run of this sweep
    files: int = 0
    verdicts: dict[str, int] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    entries: list[int] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": "aisec.model-sweep/v1",
            "sweep": self.sweep_id,
            "models": self.models,
            "skipped": self.skipped,
            "files": self.files,
            "verdicts": dict(self.verdicts),
            "findings": len(self.findings),
            "entries": list(self.entries),
        }


# ---------------------------------------------------------------------------------- planning
def _fs(url: str) -> tuple[Any, str]:
    try:
        import fsspec  # type: ignore[import-untyped]
    except ImportError as exc:  # pragma: no cover - fsspec comes with the ray extra
        raise MissingExtraError("object-store inputs", "ray") from exc
    try:
        fs, path = fsspec.core.url_to_fs(url)
    except (ImportError, ValueError) as exc:
        raise InputError(f"{url}: no filesystem for this URL ({exc})") from exc
    return fs, path


def _signature(items: Iterable[tuple[str, int, float]]) -> str:
    h = hashlib.sha256()
    for name, size, mtime in sorted(items):
        h.update(f"{name}\0{size}\0{mtime}\n".encode())
    return "sha256:" + h.hexdigest()


def _group_folder(root: Path, depth: int) -> Iterator[ModelUnit]:
    groups: dict[str, list[tuple[str, int, float]]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not Path(dirpath, d).is_symlink())
        for name in sorted(filenames):
            p = Path(dirpath, name)
            if p.is_symlink() or not p.is_file():
                continue
            rel = p.relative_to(root)
            key = "/".join(rel.parts[:depth]) if len(rel.parts) > depth else "."
            st = p.stat()
            groups.setdefault(key, []).append((str(p), st.st_size, st.st_mtime_ns))
    for key in sorted(groups):
        items = groups[key]
        yield ModelUnit(
            key, tuple(i[0] for i in items), _signature(items), tuple(i[1] for i in items)
        )


def _group_urls(urls: Iterable[str]) -> Iterator[ModelUnit]:
    groups: dict[str, list[tuple[str, int, float]]] = {}
    for url in urls:
        if "://" in url and not url.startswith("file://"):
            fs, path = _fs(url)
            info = fs.info(path)
            size, mtime = int(info.get("size") or 0), float(info.get("mtime") or 0)
        else:
            p = Path(url.removeprefix("file://"))
            if not p.is_file():
                raise InputError(f"{url}: listed, but no such file", path=p)
            st = p.stat()
            url, size, mtime = str(p), st.st_size, st.st_mtime_ns
        parent = url.rsplit("/", 1)[0] if "/" in url else "."
        groups.setdefault(parent, []).append((url, size, mtime))
    for key in sorted(groups):
        items = groups[key]
        yield ModelUnit(
            key, tuple(i[0] for i in items), _signature(items), tuple(i[1] for i in items)
        )


def plan_sweep(
    sources: Sequence[str | os.PathLike[str]], *, model_depth: int = 1
) -> list[ModelUnit]:
    """The models to sweep, from folders, listing files (``*.txt``/``*.lst``) and URLs."""
    if model_depth < 1:
        raise InputError("--model-depth must be 1 or more")
    units: list[ModelUnit] = []
    for source in sources:
        text = os.fspath(source)
        if "://" in text:
            fs, path = _fs(text)
            if fs.isdir(path):
                found = [f"{fs.unstrip_protocol(f)}" for f in sorted(fs.find(path))]
                units += _prefix_units(text, found, model_depth)
            else:
                units += _group_urls([text])
            continue
        p = Path(text)
        if p.is_dir():
            units += [
                ModelUnit(f"{p.name}/{u.name}", u.files, u.signature, u.sizes)
                for u in _group_folder(p, model_depth)
            ]
        elif p.is_file() and p.suffix in (".txt", ".lst"):
            lines = [ln.strip() for ln in p.read_text("utf-8").splitlines()]
            units += _group_urls(ln for ln in lines if ln and not ln.startswith("#"))
        elif p.is_file():
            units += _group_urls([str(p)])
        else:
            raise InputError(f"{p}: no such file, folder or listing", path=p)
    if not units:
        raise InputError("nothing to sweep: the sources hold no files")
    return units


def _prefix_units(prefix: str, urls: Sequence[str], depth: int) -> list[ModelUnit]:
    base = prefix.rstrip("/") + "/"
    groups: dict[str, list[str]] = {}
    for url in urls:
        rel = url[len(base) :] if url.startswith(base) else url.rsplit("/", 1)[-1]
        parts = rel.split("/")
        key = "/".join(parts[:depth]) if len(parts) > depth else "."
        groups.setdefault(key, []).append(url)
    return [
        ModelUnit(key, tuple(files), _signature((f, 0, 0.0) for f in files))
        for key, files in sorted(groups.items())
    ]


# ---------------------------------------------------------------------------------- scanning
def scan_chunk(files: Sequence[str]) -> list[FileResult]:
    """Scan files (paths or URLs) statically; runs on a worker. A file that cannot be read
    comes back unverified, never clean."""
    from aisec.deployment.scan._engine import scan_file

    out = []
    for f in files:
        try:
            if "://" in f and not f.startswith("file://"):
                out.append(_scan_remote(f, scan_file))
            else:
                out.append(scan_file(Path(f.removeprefix("file://")), digest=True))
        except (InputError, OSError) as exc:
            out.append(_unreadable(f, str(exc)))
    return out


def _unreadable(path: str, why: str) -> FileResult:
    """A file the worker could not read: unverified, with the reason as a finding."""
    from aisec.core.predicates.enums import ScanVerdict
    from aisec.deployment.scan import FileResult
    from aisec.deployment.scan._rules import UNVERIFIED, make_finding

    finding = make_finding(UNVERIFIED, path, f"could not be read: {why}")
    return FileResult(path, "unreadable", ScanVerdict.UNVERIFIED, (finding,))


def _scan_remote(url: str, scan_file: Callable[..., FileResult]) -> FileResult:
    from dataclasses import replace

    fs, path = _fs(url)
    size = int(fs.info(path).get("size") or 0)
    if size > MAX_REMOTE_FILE:
        raise InputError(f"{url}: {size} bytes is over the remote file bound")
    with tempfile.TemporaryDirectory(prefix="aisec-sweep-") as tmp:
        local = Path(tmp) / Path(path).name
        fs.get_file(path, str(local))
        result = scan_file(local, digest=True)
    return replace(result, path=url, findings=tuple(_rename(f, url) for f in result.findings))


def _rename(finding: Finding, url: str) -> Finding:
    from dataclasses import replace

    return replace(finding, subject=replace(finding.subject, path=url))


# ---------------------------------------------------------------------------------- engines
def _chunks(units: Sequence[ModelUnit], size: int) -> list[list[str]]:
    files = [f for u in units for f in u.files]
    return [files[i : i + size] for i in range(0, len(files), size)]


def _ray_chunks(units: Sequence[ModelUnit], cpus: int) -> list[list[str]]:
    """Chunks for Ray tasks: up to RAY_CHUNK_FILES files and RAY_CHUNK_BYTES bytes each, and
    small enough that every CPU gets RAY_TASKS_PER_CPU of them."""
    sized = [
        (f, u.sizes[i] if i < len(u.sizes) else 0) for u in units for i, f in enumerate(u.files)
    ]
    most = max(1, min(RAY_CHUNK_FILES, -(-len(sized) // (RAY_TASKS_PER_CPU * max(1, cpus)))))
    chunks: list[list[str]] = []
    chunk: list[str] = []
    held = 0
    for f, size in sized:
        if chunk and (len(chunk) >= most or held + size > RAY_CHUNK_BYTES):
            chunks.append(chunk)
            chunk, held = [], 0
        chunk.append(f)
        held += size
    if chunk:
        chunks.append(chunk)
    return chunks


def _local(chunks: Sequence[list[str]]) -> Iterator[list[FileResult]]:
    for chunk in chunks:
        yield scan_chunk(chunk)


def _ray(
    units: Sequence[ModelUnit], address: str | None, workers: int | None
) -> Iterator[list[FileResult]]:
    from aisec.scale._ray import map_tasks, ray_session

    with ray_session(address, workers) as ray:
        cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
        chunks = [(c,) for c in _ray_chunks(units, cpus)]
        for i, wire in map_tasks(ray, _scan_chunk_wire, chunks, memory=TASK_MEMORY):
            yield _from_wire(chunks[i][0], wire)


# A result crosses to the driver as a plain tuple, without the path the driver sent (unless
# the scan renamed it): pickling the dataclasses cost the worker ~6 µs per file and the
# paths were most of the bytes; the tuple costs under 1 µs.
Wire = tuple[
    "str | None", "str | None", str, "tuple[Finding, ...]", "str | None", int, tuple[str, ...]
]


def _scan_chunk_wire(files: Sequence[str]) -> list[Wire]:
    return [
        (None if r.path == f else r.path, r.format, r.verdict.value, r.findings, r.digest,
         r.size, r.calls)
        for f, r in zip(files, scan_chunk(files), strict=True)
    ]  # fmt: skip


def _from_wire(files: Sequence[str], wire: Sequence[Wire]) -> list[FileResult]:
    from aisec.core.predicates.enums import ScanVerdict
    from aisec.deployment.scan import FileResult

    return [
        FileResult(path or f, fmt, ScanVerdict(verdict), findings, digest, size, calls)
        for f, (path, fmt, verdict, findings, digest, size, calls) in zip(files, wire, strict=True)
    ]


# ---------------------------------------------------------------------------------- the sweep
def _journal_path(sweep_id: str) -> Path:
    return aisec_home() / "sweeps" / f"{sweep_id}.jsonl"


def _done(sweep_id: str) -> dict[str, str]:
    path = _journal_path(sweep_id)
    if not path.exists():
        raise InputError(f"no sweep {sweep_id!r} to resume (no journal at {path})")
    done = {}
    for line in path.read_text("utf-8").splitlines():
        try:
            row = json.loads(line)
        except ValueError:
            continue  # a line cut by a kill: its model is scanned again
        if "unit" in row:
            done[row["unit"]] = row["signature"]
    return done


def run_sweep(
    units: Sequence[ModelUnit],
    *,
    recorder: Recorder,
    engine: str = "local",
    address: str | None = None,
    workers: int | None = None,
    sweep_id: str | None = None,
    resume: bool = False,
    stream: IO[str] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SweepResult:
    """Scan every model of ``units`` and record one ``deployment/model-scan`` per model.

    ``stream`` receives one JSON line per model as it completes; ``progress`` is called with
    (models done, models planned).
    """
    from aisec.deployment.scan import ScanReport

    if engine not in ("local", "ray"):
        raise InputError(f"unknown engine {engine!r} (local or ray)")
    sweep_id = sweep_id or f"sweep-{uuid.uuid4().hex[:12]}"
    result = SweepResult(sweep_id)
    done = _done(sweep_id) if resume else {}
    todo = [u for u in units if done.get(u.name) != u.signature]
    result.skipped = len(units) - len(todo)
    journal = _journal_path(sweep_id)
    journal.parent.mkdir(parents=True, exist_ok=True)
    owner = {f: u for u in todo for f in u.files}
    pending: dict[str, dict[str, FileResult]] = {u.name: {} for u in todo}
    batch: list[tuple[ModelUnit, ScanReport]] = []
    if engine == "ray":
        results = _ray(todo, address, workers)
    else:
        results = _local(_chunks(todo, CHUNK_FILES))
    with journal.open("a", encoding="utf-8") as jf:
        if not resume:
            jf.write(json.dumps({"sweep": sweep_id, "units": len(units)}) + "\n")
        for chunk_results in results:
            for fr in chunk_results:
                unit = owner[fr.path] if fr.path in owner else _owner_of(fr.path, owner)
                pending[unit.name][fr.path] = fr
                if len(pending[unit.name]) == len(unit.files):
                    files = pending.pop(unit.name)
                    report = ScanReport(tuple(files[f] for f in unit.files))
                    batch.append((unit, report))
                    if len(batch) >= RECORD_BATCH:
                        _flush(batch, recorder, result, jf, stream)
                        if progress is not None:
                            progress(result.models, len(todo))
        _flush(batch, recorder, result, jf, stream)
    if progress is not None:
        progress(result.models, len(todo))
    return result


def _owner_of(path: str, owner: dict[str, ModelUnit]) -> ModelUnit:
    # scan_file reports a path as given; normalise file:// prefixes and the like
    for candidate in (path, f"file://{path}", path.removeprefix("file://")):
        if candidate in owner:
            return owner[candidate]
    raise KeyError(path)


def _flush(
    batch: list[tuple[ModelUnit, ScanReport]],
    recorder: Recorder,
    result: SweepResult,
    journal: IO[str],
    stream: IO[str] | None,
) -> None:
    if not batch:
        return
    entries: list[int | None]
    if recorder.enabled:
        from aisec.core.evidence.recorder import StoreRecorder
        from aisec.deployment.scan import scan_predicate

        predicates = [scan_predicate(r) for _u, r in batch]
        if isinstance(recorder, StoreRecorder):
            entries = [e.index for e in recorder.record_many(predicates)]
        else:
            entries = [getattr(recorder.record(p), "index", None) for p in predicates]
    else:
        entries = [None] * len(batch)
    for (unit, report), entry in zip(batch, entries, strict=True):
        verdict = report.verdict.value
        result.models += 1
        result.files += len(report.files)
        result.verdicts[verdict] = result.verdicts.get(verdict, 0) + 1
        result.findings += list(report.findings)
        if entry is not None:
            result.entries.append(entry)
        row = {"unit": unit.name, "signature": unit.signature, "verdict": verdict, "entry": entry}
        journal.write(json.dumps(row) + "\n")
        if stream is not None:
            stream.write(
                json.dumps(
                    {
                        "model": unit.name,
                        "verdict": verdict,
                        "files": len(report.files),
                        "findings": [f.to_json() for f in report.findings],
                        "entry": entry,
                    }
                )
                + "\n"
            )
    journal.flush()
    batch.clear()
