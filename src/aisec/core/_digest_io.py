"""The hashing engine behind :mod:`aisec.core.digest`: walking a tree and hashing files and
shards on a thread pool. The encoding, the manifest and the security model are documented
in :mod:`aisec.core.digest`; nothing here is public API.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Literal, NamedTuple, TypeAlias

from aisec.core.errors import InputError

#: Bytes per read; one buffer of this size per worker thread.
CHUNK_SIZE = 1024 * 1024

SkipReason: TypeAlias = Literal[
    "symlink-outside-root", "symlink-to-directory", "symlink-broken", "special-file"
]
Progress: TypeAlias = Callable[[int], None]
StrPath: TypeAlias = "str | os.PathLike[str]"

_O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_OPEN_FLAGS = (
    os.O_RDONLY
    | _O_NONBLOCK  # a FIFO swapped in after the walk must not block the open
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)


# --- walking -----------------------------------------------------------------------------------


class File(NamedTuple):
    rel: str  # manifest path
    display: str  # for messages
    real: str  # what to open
    size: int


class Job(NamedTuple):
    display: str
    real: str
    start: int
    end: int
    file_size: int


def stat_root(path: StrPath) -> tuple[str, str, os.stat_result]:
    display = os.fspath(path)
    real = os.path.realpath(display)
    try:
        return display, real, Path(real).stat()
    except OSError as exc:
        raise _os_error(display, exc) from exc


def walk(root_display: str, root_real: str, skipped: list[tuple[str, SkipReason]]) -> list[File]:
    """Regular files under ``root_real`` sorted by path bytes; appends to ``skipped``."""
    files: list[File] = []
    stack = [("", root_real)]
    while stack:
        rel_dir, abs_dir = stack.pop()
        try:
            with os.scandir(abs_dir) as it:
                children = list(it)
        except OSError as exc:
            raise _os_error(str(Path(root_display, rel_dir)), exc) from exc
        for child in children:
            rel = f"{rel_dir}/{child.name}" if rel_dir else child.name
            display = str(Path(root_display, rel))
            try:
                rel.encode()
                st = child.stat(follow_symlinks=False)
            except UnicodeEncodeError:
                msg = f"{display!r}: file name is not valid UTF-8"
                raise InputError(msg, path=display) from None
            except OSError as exc:
                raise _os_error(display, exc) from exc
            if stat.S_ISDIR(st.st_mode):
                stack.append((rel, child.path))
            elif stat.S_ISREG(st.st_mode):
                files.append(File(rel, display, child.path, st.st_size))
            elif stat.S_ISLNK(st.st_mode):
                target = _resolve_link(root_real, child.path, display)
                if isinstance(target, str):
                    skipped.append((rel, target))
                else:
                    files.append(target._replace(rel=rel))
            else:
                skipped.append((rel, "special-file"))
    files.sort(key=lambda f: f.rel.encode())
    return files


def _resolve_link(root_real: str, link: str, display: str) -> File | SkipReason:
    target = os.path.realpath(link)
    try:
        st = Path(target).stat()
    except OSError as exc:
        if isinstance(exc, FileNotFoundError | NotADirectoryError) or exc.errno == errno.ELOOP:
            return "symlink-broken"
        raise _os_error(display, exc) from exc
    try:
        inside = os.path.commonpath([root_real, target]) == root_real
    except ValueError:  # another drive
        inside = False
    if not inside:
        return "symlink-outside-root"
    if stat.S_ISDIR(st.st_mode):
        return "symlink-to-directory"
    if not stat.S_ISREG(st.st_mode):
        return "special-file"
    return File("", display, target, st.st_size)


def cuts(size: int, shard_size: int | None) -> list[tuple[int, int]]:
    """The byte ranges of a file: the whole file, or its shards; an empty file has one."""
    step = shard_size or size or 1
    return [(start, min(start + step, size)) for start in range(0, size or 1, step)]


# --- hashing -----------------------------------------------------------------------------------


class _CancelledError(Exception):
    """Another worker failed; stop early."""


def run(jobs: list[Job], workers: int, progress: Progress | None) -> list[bytes]:
    """Hash every job, largest first, on up to ``workers`` threads; results in job order."""
    results = [b""] * len(jobs)
    order = sorted(range(len(jobs)), key=lambda i: jobs[i].start - jobs[i].end)
    n_threads = min(workers, len(jobs))
    if n_threads <= 1:
        buf = memoryview(bytearray(CHUNK_SIZE))
        for i in order:
            results[i] = hash_job(jobs[i], buf, progress, None)
        return results
    if progress is not None:
        progress = _serialised(progress)
    queue = iter(order)
    lock, stop = threading.Lock(), threading.Event()
    errors: list[BaseException] = []

    def work() -> None:
        buf = memoryview(bytearray(CHUNK_SIZE))
        while not stop.is_set():
            with lock:
                i = next(queue, None)
            if i is None:
                return
            try:
                results[i] = hash_job(jobs[i], buf, progress, stop)
            except _CancelledError:
                return
            except BaseException as exc:  # handed to the calling thread, raised there
                errors.append(exc)
                stop.set()
                return

    threads = [threading.Thread(target=work, name=f"aisec-digest-{k}") for k in range(n_threads)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        stop.set()  # on Ctrl-C too: workers stop within one chunk
    if errors:
        raise errors[0]
    return results


def _serialised(progress: Progress) -> Progress:
    lock = threading.Lock()

    def call(n: int) -> None:
        with lock:
            progress(n)

    return call


def hash_job(
    job: Job, buf: memoryview, progress: Progress | None, stop: threading.Event | None
) -> bytes:
    """Raw SHA-256 of bytes ``[job.start, job.end)`` of a regular file whose size must not move."""
    fd = _open_regular(job)
    try:
        if hasattr(os, "posix_fadvise") and job.end > job.start:
            os.posix_fadvise(fd, job.start, job.end - job.start, os.POSIX_FADV_SEQUENTIAL)
        h = hashlib.sha256()
        pos = job.start
        while pos < job.end:
            if stop is not None and stop.is_set():
                raise _CancelledError
            n = _pread_into(fd, buf[: min(len(buf), job.end - pos)], pos)
            if n <= 0:
                raise _changed(job.display)
            h.update(buf[:n])
            pos += n
            if progress is not None:
                progress(n)
        if os.fstat(fd).st_size != job.file_size:
            raise _changed(job.display)
        return h.digest()
    finally:
        os.close(fd)


def _open_regular(job: Job) -> int:
    try:
        fd = os.open(job.real, _OPEN_FLAGS)
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # O_NOFOLLOW met a link where the walk saw a file
            raise _changed(job.display) from exc
        raise _os_error(job.display, exc) from exc
    try:
        st = os.fstat(fd)
        require_regular(job.display, st.st_mode)
        if st.st_size != job.file_size:
            raise _changed(job.display)
        if _O_NONBLOCK:
            os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


if hasattr(os, "preadv"):

    def _pread_into(fd: int, view: memoryview, offset: int) -> int:
        return os.preadv(fd, [view], offset)

else:  # pragma: no cover - Windows has no preadv

    def _pread_into(fd: int, view: memoryview, offset: int) -> int:
        os.lseek(fd, offset, os.SEEK_SET)
        data = os.read(fd, len(view))
        view[: len(data)] = data
        return len(data)


# --- small helpers -----------------------------------------------------------------------------

_FILE_TYPES = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISLNK, "a symbolic link"),
)


def require_regular(display: str, mode: int) -> None:
    if not stat.S_ISREG(mode):
        what = next((name for test, name in _FILE_TYPES if test(mode)), "a special file")
        raise InputError(f"{display}: is {what}, not a regular file; not read", path=display)


def _changed(display: str) -> InputError:
    return InputError(f"{display}: file changed while being hashed; try again", path=display)


def _os_error(display: str, exc: OSError) -> InputError:
    if isinstance(exc, FileNotFoundError):
        what = "no such file or directory"
    elif isinstance(exc, PermissionError):
        what = "permission denied"
    else:
        what = exc.strerror or str(exc)
    return InputError(f"{display}: {what}", path=display)
