"""The one hashing path of aisec: files, folders and shards of large files, in parallel.

Every artifact is named ``sha256:<64 lowercase hex>``. There are three identities:

* ``digest_file(path)`` is the plain SHA-256 of the file's bytes, the value ``sha256sum`` and
  ``openssl dgst -sha256`` print, so any other tool can check it.
* ``digest_path(path)`` on a regular file gives a one-entry manifest whose digest is that same
  plain SHA-256.
* ``digest_path(path)`` on a directory, and ``digest_path(path, shard_size=N)`` on a file or a
  directory, give a manifest whose digest is SHA-256 over the canonical encoding below.

The encoding carries the kind and the shard size, so digests made in different modes never
collide; compare a sharded digest only with one made with the same shard size.

Canonical encoding, schema ``aisec.manifest/v1``
------------------------------------------------
``u64(n)`` is n as 8 bytes, unsigned big-endian. ``str(s)`` is ``u64(len(b)) || b`` with ``b``
the UTF-8 bytes of s. ``||`` is concatenation::

    E = b"aisec.manifest/v1\\n"
        || str(kind)                      "file" or "directory"
        || u64(shard_size)                0 when not sharded
        || u64(number of entries) || entry...
        || u64(number of skipped) || skipped...
    entry   = str(path) || u64(start) || u64(end) || the 32 raw bytes of SHA-256(bytes[start:end])
    skipped = str(path) || str(reason)
    digest  = "sha256:" || lowercase hex of SHA-256(E)

* Entries are sorted by the UTF-8 bytes of their path, then by ``start``; skipped items by path.
* ``path`` is the POSIX path relative to the root (``"/"`` between names, no ``.`` or ``..``).
  For kind ``"file"`` it is encoded as the empty string: a file's identity ignores its name.
* Not sharded: one entry per regular file, ``start = 0``, ``end = size``. Sharded: file bytes are
  cut into ``[k*N, min((k+1)*N, size))`` for k = 0, 1, ...; an empty file has one entry [0, 0).
  (Shown as ``path:start:end``, like OpenSSF model-signing's shards.)
* Directories are not entries: an empty directory leaves no trace, as in git.

Walking a tree (the security model)
-----------------------------------
* Symlinked directories are never followed, so there are no loops. Only the root itself is
  resolved: the caller named it.
* A symlink whose target resolves to a regular file inside the root is hashed by the content
  of that file, under the link's path. Anything else is never opened and is recorded in
  ``Manifest.skipped`` with a reason: ``symlink-outside-root``, ``symlink-to-directory``,
  ``symlink-broken`` (dangling or a loop), or ``special-file`` (FIFO, socket, device: opening a
  FIFO could block forever). Files are opened with ``O_NOFOLLOW | O_NONBLOCK`` and checked
  with ``fstat`` before reading, so a file swapped for a FIFO or a link mid-walk is refused.
* Skipped items are part of the digest (adding a FIFO changes it) and make
  ``Manifest.complete`` false; a gate should refuse an incomplete manifest.
* A tree rewritten while it is hashed (out of scope: hash what you control) can fail the run or
  mix old and new content, but cannot make aisec block or read anything but regular files.
* ``InputError`` (from :mod:`aisec.core.errors`, with ``.path``): a missing path, permission
  denied, a root that is neither a regular file nor a directory, a name that is not UTF-8, a file
  that changes size while it is hashed. Content that changes without changing size is not seen.

Files and shards are hashed, largest first, by ``workers`` threads (default ``os.cpu_count()``),
each reusing one buffer of :data:`CHUNK_SIZE` bytes filled by ``os.preadv``; hashlib releases the
GIL on large updates, so a sharded multi-GB file uses every core. ``progress``, if given, is
called with each count of bytes hashed, from worker threads but never concurrently.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Literal, TypeAlias, get_args

from aisec.core import _digest_io as _io
from aisec.core._digest_io import (
    CHUNK_SIZE,
    File,
    Job,
    Progress,
    SkipReason,
    StrPath,
    cuts,
    hash_job,
    require_regular,
    run,
    stat_root,
    walk,
)
from aisec.core.errors import FormatError, InputError

__all__ = [
    "CHUNK_SIZE",
    "DEFAULT_SHARD_SIZE",
    "MANIFEST_SCHEMA",
    "Manifest",
    "ManifestDiff",
    "ManifestEntry",
    "SkippedEntry",
    "digest_bytes",
    "digest_file",
    "digest_path",
    "parse_digest",
]

MANIFEST_SCHEMA = "aisec.manifest/v1"
#: A shard size for callers without a preference: small enough to balance work across cores.
DEFAULT_SHARD_SIZE = 64 * 1024 * 1024

Kind: TypeAlias = Literal["file", "directory"]

_PREFIX = "sha256:"
_HEX = frozenset("0123456789abcdef")


def digest_bytes(data: bytes) -> str:
    """``sha256:<hex>`` of ``data``."""
    return _PREFIX + hashlib.sha256(data).hexdigest()


def parse_digest(text: str) -> str:
    """Validate ``sha256:<hex>`` or bare 64-hex and return it as ``sha256:<lowercase hex>``."""
    if not isinstance(text, str):
        raise InputError(f"a digest must be text, not {type(text).__name__}")
    value = text.strip()
    algo, sep, hexpart = value.partition(":")
    if not sep:
        algo, hexpart = "sha256", value
    hexpart = hexpart.lower()
    if algo.lower() != "sha256":
        raise InputError(f"unsupported digest {value[:80]!r}: aisec uses sha256:<64 hex digits>")
    if len(hexpart) != 64 or not _HEX.issuperset(hexpart):
        raise InputError(f"not a digest: {value[:80]!r} (expected sha256:<64 hex digits>)")
    return _PREFIX + hexpart


@dataclass(frozen=True)
class ManifestEntry:
    """A regular file, or in shard mode bytes ``[start, end)`` of one, and their digest.

    ``size`` is the number of bytes the digest covers: the file's size, or ``end - start``.
    """

    path: str
    size: int
    digest: str
    start: int | None = None
    end: int | None = None

    def __post_init__(self) -> None:
        _check_path(self.path)
        object.__setattr__(self, "digest", parse_digest(self.digest))
        start, end = self.start, self.end
        ok = _is_count(self.size) and (
            (start is None and end is None)
            or (_is_count(start) and _is_count(end) and self.size == (end or 0) - (start or 0))
        )
        if not ok:
            raise FormatError(f"{self.path}: bad size or offsets {self.size!r} {start!r}:{end!r}")

    @property
    def label(self) -> str:
        """``path``, or ``path:start:end`` for a shard."""
        return self.path if self.start is None else f"{self.path}:{self.start}:{self.end}"


@dataclass(frozen=True)
class SkippedEntry:
    """Something in the tree that was not hashed, and why (see the module docstring)."""

    path: str
    reason: SkipReason

    def __post_init__(self) -> None:
        _check_path(self.path)
        if self.reason not in get_args(SkipReason):
            raise FormatError(f"{self.path}: unknown skip reason {self.reason!r}")


@dataclass(frozen=True)
class ManifestDiff:
    """Relative paths added, removed and changed going from one manifest to another."""

    added: tuple[str, ...]
    removed: tuple[str, ...]
    changed: tuple[str, ...]

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.changed)


@dataclass(frozen=True)
class Manifest:
    """What :func:`digest_path` saw. ``root`` is for display only and is not part of the digest.

    Entries and skipped items are kept in canonical order whatever order they are given in;
    a manifest :func:`digest_path` could not have produced raises ``FormatError``.
    """

    root: str = field(compare=False)
    kind: Kind
    entries: tuple[ManifestEntry, ...]
    shard_size: int | None = None
    skipped: tuple[SkippedEntry, ...] = ()

    def __post_init__(self) -> None:
        entries = sorted(self.entries, key=lambda e: (e.path.encode(), e.start or 0))
        object.__setattr__(self, "entries", tuple(entries))
        object.__setattr__(self, "skipped", tuple(sorted(self.skipped, key=_skip_key)))
        _validate(self)

    @cached_property
    def digest(self) -> str:
        """The identity of the artifact; see the module docstring for the encoding."""
        if self.kind == "file" and self.shard_size is None:
            return self.entries[0].digest
        h = hashlib.sha256(MANIFEST_SCHEMA.encode() + b"\n")
        h.update(_str(self.kind) + _u64(self.shard_size or 0) + _u64(len(self.entries)))
        for e in self.entries:
            start = e.start or 0
            h.update(_str("" if self.kind == "file" else e.path) + _u64(start))
            h.update(_u64(start + e.size) + bytes.fromhex(e.digest.removeprefix(_PREFIX)))
        h.update(_u64(len(self.skipped)))
        for s in self.skipped:
            h.update(_str(s.path) + _str(s.reason))
        return _PREFIX + h.hexdigest()

    @property
    def complete(self) -> bool:
        """True when nothing in the tree was skipped."""
        return not self.skipped

    @property
    def total_size(self) -> int:
        """Bytes hashed."""
        return sum(e.size for e in self.entries)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict tagged ``"schema": "aisec.manifest/v1"``."""
        entries = [
            {"path": e.path, "size": e.size, "digest": e.digest}
            | ({} if e.start is None else {"start": e.start, "end": e.end})
            for e in self.entries
        ]
        return {
            "schema": MANIFEST_SCHEMA,
            "root": self.root,
            "kind": self.kind,
            "shard_size": self.shard_size,
            "digest": self.digest,
            "entries": entries,
            "skipped": [{"path": s.path, "reason": s.reason} for s in self.skipped],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Manifest:
        """Rebuild a manifest from :meth:`to_json` output; its stated digest must match."""
        try:
            if not isinstance(data, Mapping) or data.get("schema") != MANIFEST_SCHEMA:
                raise FormatError(f"not an {MANIFEST_SCHEMA} document")
            entries = tuple(
                ManifestEntry(e["path"], e["size"], e["digest"], e.get("start"), e.get("end"))
                for e in _list_of_objects(data, "entries")
            )
            skipped = tuple(
                SkippedEntry(s["path"], s["reason"]) for s in _list_of_objects(data, "skipped")
            )
            root = data.get("root")
            root = root if isinstance(root, str) else ""
            manifest = cls(root, data["kind"], entries, data.get("shard_size"), skipped)
            stated = parse_digest(data["digest"])
        except KeyError as exc:
            raise FormatError(f"manifest: missing field {exc}") from exc
        except (TypeError, AttributeError) as exc:
            raise FormatError(f"manifest: malformed field ({exc})") from exc
        except InputError as exc:
            raise FormatError(f"manifest: {exc.message}") from exc
        if stated != manifest.digest:
            raise FormatError(f"manifest: stated digest {stated} does not match its entries")
        return manifest

    def diff(self, other: Manifest) -> ManifestDiff:
        """Paths added, removed and changed going from ``self`` to ``other``.

        Both must use the same shard size. Two single-file manifests are compared by content
        whatever the files are called.
        """
        if self.shard_size != other.shard_size:
            raise InputError(
                f"cannot compare manifests with shard sizes {self.shard_size} and "
                f"{other.shard_size}; hash both the same way"
            )
        mine, theirs = self._states(), other._states()
        if self.kind == other.kind == "file":
            theirs = {self.entries[0].path: next(iter(theirs.values()))}
        return ManifestDiff(
            added=_sorted_paths(theirs.keys() - mine.keys()),
            removed=_sorted_paths(mine.keys() - theirs.keys()),
            changed=_sorted_paths(p for p in mine.keys() & theirs.keys() if mine[p] != theirs[p]),
        )

    def _states(self) -> dict[str, tuple[object, ...]]:
        states: dict[str, tuple[object, ...]] = {s.path: (s.reason,) for s in self.skipped}
        for e in self.entries:
            states[e.path] = (*states.get(e.path, ()), e.start, e.size, e.digest)
        return states


def digest_file(path: StrPath, *, progress: Progress | None = None) -> str:
    """Plain SHA-256 of a regular file's content, as ``sha256sum`` computes it."""
    display, real, st = stat_root(path)
    if stat.S_ISDIR(st.st_mode):
        raise InputError(f"{display}: is a directory (use digest_path)", path=display)
    require_regular(display, st.st_mode)
    job = Job(display, real, 0, st.st_size, st.st_size)
    buffer = memoryview(bytearray(_io.CHUNK_SIZE))
    return _PREFIX + hash_job(job, buffer, progress, None).hex()


def digest_path(
    path: StrPath,
    *,
    shard_size: int | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
) -> Manifest:
    """Hash a file or a directory tree into a :class:`Manifest` (see the module docstring)."""
    if shard_size is not None and not (_is_count(shard_size) and shard_size > 0):
        raise InputError(f"shard size must be a positive number of bytes, not {shard_size!r}")
    n_workers = (os.cpu_count() or 1) if workers is None else workers
    if not (_is_count(n_workers) and n_workers > 0):
        raise InputError(f"workers must be a positive integer, not {workers!r}")
    display, real, st = stat_root(path)
    skipped: list[SkippedEntry] = []
    skips: list[tuple[str, SkipReason]] = []
    kind: Kind
    if stat.S_ISDIR(st.st_mode):
        kind, files = "directory", walk(display, real, skips)
        skipped.extend(SkippedEntry(rel, reason) for rel, reason in skips)
    else:
        require_regular(display, st.st_mode)
        kind, files = "file", [File(Path(display).name or display, display, real, st.st_size)]
    planned = [
        (f.rel, Job(f.display, f.real, start, end, f.size))
        for f in files
        for start, end in cuts(f.size, shard_size)
    ]
    digests = run([job for _, job in planned], n_workers, progress)
    entries = tuple(
        ManifestEntry(
            rel,
            job.end - job.start,
            _PREFIX + d.hex(),
            *((job.start, job.end) if shard_size else (None, None)),
        )
        for (rel, job), d in zip(planned, digests, strict=True)
    )
    return Manifest(display, kind, entries, shard_size, tuple(skipped))


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _u64(n: int) -> bytes:
    return n.to_bytes(8, "big")


def _str(s: str) -> bytes:
    b = s.encode()
    return _u64(len(b)) + b


def _skip_key(s: SkippedEntry) -> bytes:
    return s.path.encode()


def _sorted_paths(paths: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(paths, key=str.encode))


def _list_of_objects(data: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    items = data.get(key, [])
    if not isinstance(items, list) or not all(isinstance(i, Mapping) for i in items):
        raise FormatError(f"manifest: {key!r} must be a list of objects")
    return items


def _check_path(path: object) -> None:
    """A manifest path: relative POSIX, no empty, ``.`` or ``..`` part, no NUL, valid UTF-8."""
    if not isinstance(path, str) or "\x00" in path or path.startswith("/"):
        raise FormatError(f"bad manifest path {path!r}")
    if any(part in ("", ".", "..") for part in path.split("/")):
        raise FormatError(f"bad manifest path {path!r}")
    try:
        path.encode()
    except UnicodeEncodeError:
        raise FormatError(f"bad manifest path {path!r}: not UTF-8") from None


def _validate(m: Manifest) -> None:
    """Raise FormatError unless ``m`` is something :func:`digest_path` could have produced."""
    if m.kind not in get_args(Kind):
        raise FormatError(f"manifest: unknown kind {m.kind!r}")
    if m.shard_size is not None and not (_is_count(m.shard_size) and m.shard_size > 0):
        raise FormatError(f"manifest: bad shard size {m.shard_size!r}")
    if not all(isinstance(e, ManifestEntry) for e in m.entries) or not all(
        isinstance(s, SkippedEntry) for s in m.skipped
    ):
        raise FormatError("manifest: entries must be ManifestEntry, skipped SkippedEntry")
    ranges: dict[str, list[tuple[int, int]]] = {}
    for e in m.entries:
        if (e.start is None) != (m.shard_size is None):
            raise FormatError(f"manifest: {e.label}: offsets do not match the shard size")
        ranges.setdefault(e.path, []).append((e.start or 0, (e.start or 0) + e.size))
    for path, got in ranges.items():
        if got != cuts(got[-1][1], m.shard_size):
            raise FormatError(f"manifest: the entries of {path!r} do not cover the file exactly")
    if m.kind == "file" and (len(ranges) != 1 or m.skipped or "/" in m.entries[0].path):
        raise FormatError("manifest: a file manifest holds exactly one file and nothing skipped")
    skipped = {s.path for s in m.skipped}
    if len(skipped) != len(m.skipped) or not skipped.isdisjoint(ranges):
        raise FormatError("manifest: a path is listed twice")
