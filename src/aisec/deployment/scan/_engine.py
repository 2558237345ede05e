"""Walk paths, scan each model file, and build the report and its attestation."""

from __future__ import annotations

import mmap
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aisec.core.errors import InputError
from aisec.core.findings import Finding, Severity, Subject
from aisec.core.predicates.enums import ScanVerdict
from aisec.deployment.scan import _rules as rules
from aisec.deployment.scan._formats import BlobScanner
from aisec.deployment.scan._formats_ml import EXTRA_SCANNERS

if TYPE_CHECKING:
    from aisec.core.evidence import Statement
    from aisec.core.predicates.deployment import ScanPredicate

__all__ = ["FileResult", "ScanReport", "scan_model", "scan_predicate", "scan_statement"]

MAX_FILES = 100_000


@dataclass(frozen=True, slots=True)
class FileResult:
    """One file looked at: its detected format (None: no format a loader executes), verdict
    and findings."""

    path: str
    format: str | None
    verdict: ScanVerdict
    findings: tuple[Finding, ...]
    digest: str | None = None
    size: int = 0
    calls: tuple[str, ...] = ()  # the operators a TorchScript archive's code calls

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "path": self.path,
            "digest": self.digest,
            "format": self.format,
            "verdict": self.verdict.value,
            "findings": len(self.findings),
        }
        if self.calls:
            out["calls"] = list(self.calls)
        return out


@dataclass(frozen=True, slots=True)
class ScanReport:
    files: tuple[FileResult, ...]

    @property
    def scanned(self) -> tuple[FileResult, ...]:
        """The files in a model format (the others cannot run code on load)."""
        return tuple(f for f in self.files if f.format is not None)

    @property
    def findings(self) -> tuple[Finding, ...]:
        return tuple(x for f in self.files for x in f.findings)

    @property
    def verdict(self) -> ScanVerdict:
        verdicts = {f.verdict for f in self.files}
        if ScanVerdict.UNSAFE in verdicts:
            return ScanVerdict.UNSAFE
        if ScanVerdict.UNVERIFIED in verdicts:
            return ScanVerdict.UNVERIFIED
        return ScanVerdict.CLEAN

    def predicates(self) -> tuple[ScanPredicate]:
        """What a scan records: one predicate (it needs the files' digests)."""
        return (scan_predicate(self),)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": "aisec.model-scan/v1",
            "verdict": self.verdict.value,
            "files": [f.to_json() for f in self.files],
            "findings": [f.to_json() for f in self.findings],
        }


def _verdict(findings: Sequence[Finding]) -> ScanVerdict:
    if any(
        f.id != rules.UNVERIFIED.id and f.severity.rank >= Severity.MEDIUM.rank for f in findings
    ):
        return ScanVerdict.UNSAFE
    if any(f.id == rules.UNVERIFIED.id for f in findings):
        return ScanVerdict.UNVERIFIED
    return ScanVerdict.CLEAN


def _walk(paths: Sequence[Path]) -> Iterator[Path]:
    """Every regular file under ``paths``, sorted; symlinks inside folders are not followed.

    ``os.scandir`` rather than ``os.walk`` plus ``Path.is_symlink``/``is_file``: the entry
    types come with the listing, so a folder of many small files costs no extra ``stat`` per
    file. Same order as before: a folder's files by name, then its sub-folders by name.
    An unreadable sub-folder is skipped, as ``os.walk`` skips it."""
    count = 0
    for root in paths:
        if not root.exists():
            raise InputError("no such file or directory", path=root)
        if root.is_file():
            count += 1
            yield root
            continue
        stack = [str(root)]
        while stack:
            folder = stack.pop()
            try:
                with os.scandir(folder) as listing:
                    entries = sorted(listing, key=lambda e: e.name)
            except OSError:
                continue
            subdirs = []
            for entry in entries:
                if entry.is_symlink():
                    continue
                if entry.is_dir(follow_symlinks=False):
                    subdirs.append(entry.path)
                elif entry.is_file(follow_symlinks=False):
                    count += 1
                    if count > MAX_FILES:
                        raise InputError(f"more than {MAX_FILES} files under the path", path=root)
                    yield Path(entry.path)
            stack.extend(reversed(subdirs))  # the first sub-folder is walked next


_READ_WHOLE = 64 * 1024


def scan_file(path: str | os.PathLike[str], *, digest: bool = False) -> FileResult:
    """Scan one file. Never executes, imports or deserialises any of its content."""
    if digest:  # here: a scan that records nothing need not load the hashing code
        from aisec.core.digest import digest_file
    path = path if isinstance(path, Path) else Path(path)
    display = str(path)
    try:
        fh = path.open("rb")
        size = os.fstat(fh.fileno()).st_size
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", path=path) from exc
    with fh:
        if size == 0:
            return FileResult(
                display, None, ScanVerdict.CLEAN, (), digest_file(path) if digest else None, 0
            )
        scanner = BlobScanner(display, extra=EXTRA_SCANNERS)
        if size <= _READ_WHOLE:  # a small file: one read is cheaper than mapping it
            fmt = scanner.scan(fh.read(), member=None, depth=0, name=path.name)
        else:
            with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as buf:
                fmt = scanner.scan(buf, member=None, depth=0, name=path.name)
    digest_value = digest_file(path) if digest else None
    if fmt is None:
        # no format that a loader executes (config, tokenizer, text): nothing runs on load
        return FileResult(display, None, ScanVerdict.CLEAN, (), digest_value, size)
    findings = tuple(replace(f, subject=Subject(display, digest_value)) for f in scanner.findings)
    return FileResult(
        display,
        fmt,
        _verdict(findings),
        findings,
        digest_value,
        size,
        tuple(sorted(scanner.calls)),
    )


def _scan_one(args: tuple[Path, bool]) -> FileResult:
    return scan_file(args[0], digest=args[1])


#: Below these a pool's start (a fork server that imports the scanner) costs more than the
#: scan it would share: ~0.08 ms per small file in one process against ~0.3 s to start them.
_POOL_MIN_FILES = 10_000
_POOL_MIN_BYTES = 64 << 20


def _worth_a_pool(files: list[Path]) -> bool:
    if len(files) < 2:
        return False
    if len(files) >= _POOL_MIN_FILES:
        return True
    size = 0
    for path in files:
        try:
            size += path.stat().st_size
        except OSError:
            continue
        if size >= _POOL_MIN_BYTES:
            return True
    return False


def scan_model(
    paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    *,
    digest: bool = False,
    jobs: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> ScanReport:
    """Scan files, folders and model folders for content that executes on load.

    ``digest=True`` records each scanned file's sha256 (needed for an attestation).
    ``jobs`` > 1 scans files in that many worker processes (the results keep the walk's
    order) when the input is big enough to repay starting them (10,000 files or 64 MiB);
    ``progress(done, total)`` is called after each file.
    """
    # one path given alone is one path, never a sequence of one-letter names
    targets = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
    files = list(_walk([Path(x) for x in targets]))
    total = len(files)
    results: list[FileResult] = []
    if jobs <= 1 or not _worth_a_pool(files):
        for path in files:
            results.append(scan_file(path, digest=digest))
            if progress is not None:
                progress(len(results), total)
        return ScanReport(tuple(results))
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # not fork: the caller may hold threads (a progress bar) or an open database. A fork
    # server that has imported the scanner once forks each worker without re-importing it.
    if "forkserver" in multiprocessing.get_all_start_methods():
        context: Any = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([__name__])
    else:  # pragma: no cover - Windows and macOS defaults
        context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(jobs, total), mp_context=context) as pool:
        # chunks of files, not one message per file: a tiny file's scan is shorter than the
        # round trip to a worker; a few chunks per worker keep both busy to the end
        chunk = max(1, min(512, total // (jobs * 8)))
        for result in pool.map(_scan_one, [(p, digest) for p in files], chunksize=chunk):
            results.append(result)
            if progress is not None:
                progress(len(results), total)
    return ScanReport(tuple(results))


def scan_predicate(report: ScanReport) -> ScanPredicate:
    """The ``deployment/model-scan`` predicate: one subject per file looked at, model files
    and the others (a model folder's config is cleared by the same evidence)."""
    from aisec.core.predicates import SubjectRef
    from aisec.core.predicates.deployment import ScannedFile, ScanPredicate

    if not report.files:
        raise InputError("no files were found to attest")
    subjects: list[SubjectRef] = []
    seen: set[str] = set()
    for f in report.files:
        if f.digest is None:
            raise InputError(f"{f.path}: scanned without a digest; scan with digest=True")
        if f.digest not in seen:
            seen.add(f.digest)
            subjects.append(SubjectRef(name=f.path, digest=f.digest))
    return ScanPredicate(
        result=report.verdict.result,
        findings=report.findings,
        subjects=tuple(subjects),
        verdict=report.verdict,
        files=tuple(
            ScannedFile(
                path=f.path,
                digest=f.digest,
                format=f.format,
                verdict=f.verdict,
                findings=len(f.findings),
            )
            for f in report.files
        ),
    )


def scan_statement(report: ScanReport) -> Statement:
    """The signed form of :func:`scan_predicate`."""
    return scan_predicate(report).statement()
