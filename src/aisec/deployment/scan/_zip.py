"""A bounded zip reader that sees what loaders see.

Hand-written on purpose: ``zipfile`` refuses archives that PyTorch's loader (miniz) accepts
— a wrong CRC, a local-header name that differs from the central directory — so a scanner
built on ``zipfile`` reports an error (or nothing) on a file torch loads. This reader takes
the central directory as miniz does, reads each entry's data where its *local* header puts
it, also walks the chain of local headers as streaming readers do, and reports every
disagreement between the two views. Every size is bounded before anything is allocated.
"""

from __future__ import annotations

import bz2
import struct
import zlib
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ["Buffer", "ZipEntry", "ZipLimitError", "ZipView", "read_entry", "read_zip"]

MAX_ENTRIES = 65_536
_EOCD = b"PK\x05\x06"
_EOCD64_LOC = b"PK\x06\x07"
_CDH = b"PK\x01\x02"
_LFH = b"PK\x03\x04"
_CHUNK = 1 << 20


class Buffer(Protocol):
    def __len__(self) -> int: ...
    def __getitem__(self, key: slice, /) -> bytes: ...
    def rfind(self, sub: bytes, start: int = ..., end: int = ..., /) -> int: ...


class ZipLimitError(Exception):
    """An entry cannot be read within the bounds (too big, unsupported, corrupt)."""


@dataclass(frozen=True, slots=True)
class ZipEntry:
    name: str
    local_name: str | None
    method: int
    flags: int
    compressed_size: int
    size: int
    crc: int
    header_offset: int
    data_offset: int
    in_central_directory: bool = True
    external_attr: int = 0

    @property
    def is_symlink(self) -> bool:
        """Unix mode S_IFLNK in the high half of the external attributes (Info-ZIP)."""
        return (self.external_attr >> 16) & 0o170000 == 0o120000

    @property
    def names(self) -> tuple[str, ...]:
        if self.local_name is not None and self.local_name != self.name:
            return (self.name, self.local_name)
        return (self.name,)


@dataclass(frozen=True, slots=True)
class ZipView:
    entries: tuple[ZipEntry, ...]
    problems: tuple[tuple[str, int], ...]  # (what, byte offset): disagreements, overlaps


def _name(raw: bytes, flags: int) -> str:
    return raw.decode("utf-8" if flags & 0x800 else "cp437", errors="replace")


def _zip64(extra: bytes, usize: int, csize: int, offset: int) -> tuple[int, int, int]:
    pos = 0
    while pos + 4 <= len(extra):
        tag, size = struct.unpack_from("<HH", extra, pos)
        body = extra[pos + 4 : pos + 4 + size]
        if tag == 1:
            vals = [struct.unpack_from("<Q", body, i)[0] for i in range(0, len(body) - 7, 8)]
            if usize == 0xFFFFFFFF and vals:
                usize = vals.pop(0)
            if csize == 0xFFFFFFFF and vals:
                csize = vals.pop(0)
            if offset == 0xFFFFFFFF and vals:
                offset = vals.pop(0)
        pos += 4 + size
    return usize, csize, offset


def _local(buf: Buffer, offset: int) -> tuple[str, int, int, int] | None:
    """(name, data offset, flags, compressed size) of the local header at ``offset``."""
    head = buf[offset : offset + 30]
    if len(head) < 30 or head[:4] != _LFH:
        return None
    flags, _method = struct.unpack_from("<HH", head, 6)
    csize = struct.unpack_from("<I", head, 18)[0]
    nlen, xlen = struct.unpack_from("<HH", head, 26)
    name = _name(buf[offset + 30 : offset + 30 + nlen], flags)
    return name, offset + 30 + nlen + xlen, flags, csize


def _find_eocd(buf: Buffer) -> int:
    size = len(buf)
    return buf.rfind(_EOCD, max(0, size - 65_557), size)


def read_zip(buf: Buffer) -> ZipView:
    """Parse the central directory and the local-header chain; raise ZipLimitError if the
    archive cannot be read at all."""
    size = len(buf)
    eocd = _find_eocd(buf)
    if eocd < 0:
        raise ZipLimitError("no end-of-central-directory record")
    rec = buf[eocd : eocd + 22]
    if len(rec) < 22:
        raise ZipLimitError("truncated end-of-central-directory record")
    count, cd_size, cd_offset = struct.unpack_from("<HII", rec, 10)
    loc = eocd - 20
    cd_end = eocd
    if loc >= 0 and buf[loc : loc + 4] == _EOCD64_LOC:
        eocd64 = struct.unpack_from("<Q", buf[loc + 8 : loc + 16])[0]
        rec64 = buf[eocd64 : eocd64 + 56]
        if len(rec64) == 56 and rec64[:4] == b"PK\x06\x06":
            count, cd_size, cd_offset = struct.unpack_from("<QQQ", rec64, 32)
            cd_end = eocd64
    if count > MAX_ENTRIES:
        raise ZipLimitError(f"{count} entries (limit {MAX_ENTRIES})")
    # an archive prepended with other data: offsets are relative to where the directory sits
    shift = max(0, cd_end - cd_size - cd_offset)
    problems: list[tuple[str, int]] = []
    entries: list[ZipEntry] = []
    pos = cd_offset + shift
    seen_headers: dict[int, str] = {}
    for _ in range(count):
        head = buf[pos : pos + 46]
        if len(head) < 46 or head[:4] != _CDH:
            raise ZipLimitError(f"central directory entry at {pos} is corrupt")
        flags, method = struct.unpack_from("<HH", head, 8)
        crc, csize, usize = struct.unpack_from("<III", head, 16)
        nlen, xlen, clen = struct.unpack_from("<HHH", head, 28)
        offset = struct.unpack_from("<I", head, 42)[0]
        external_attr = struct.unpack_from("<I", head, 38)[0]
        name = _name(buf[pos + 46 : pos + 46 + nlen], flags)
        extra = buf[pos + 46 + nlen : pos + 46 + nlen + xlen]
        usize, csize, offset = _zip64(extra, usize, csize, offset)
        offset += shift
        pos += 46 + nlen + xlen + clen
        local = _local(buf, offset)
        if local is None:
            problems.append((f"entry {name!r} has no local header at {offset}", offset))
            continue
        local_name, data_offset, _lflags, _ = local
        if local_name != name:
            problems.append(
                (f"central directory names {name!r} but local header names {local_name!r}", offset)
            )
        if offset in seen_headers:
            problems.append(
                (f"entries {seen_headers[offset]!r} and {name!r} share data at {offset}", offset)
            )
        seen_headers[offset] = name
        if data_offset + csize > size:
            problems.append((f"entry {name!r} runs past the end of the file", offset))
        entries.append(
            ZipEntry(
                name,
                local_name,
                method,
                flags,
                csize,
                usize,
                crc,
                offset,
                data_offset,
                external_attr=external_attr,
            )
        )
    entries.extend(_hidden_local_entries(buf, seen_headers, problems))
    return ZipView(tuple(entries), tuple(problems))


def _hidden_local_entries(
    buf: Buffer, seen: dict[int, str], problems: list[tuple[str, int]]
) -> list[ZipEntry]:
    """Walk local headers from the start, as streaming readers do; return those the central
    directory does not list."""
    hidden: list[ZipEntry] = []
    pos = 0
    for _ in range(MAX_ENTRIES):
        head = buf[pos : pos + 30]
        if len(head) < 30 or head[:4] != _LFH:
            break
        flags, method = struct.unpack_from("<HH", head, 6)
        crc, csize, usize = struct.unpack_from("<III", head, 14)
        local = _local(buf, pos)
        if local is None:
            break
        name, data_offset, _, _ = local
        if flags & 0x08 and csize == 0:
            break  # sizes follow the data; a streaming reader would have to inflate to find them
        if pos not in seen:
            problems.append((f"local entry {name!r} is not in the central directory", pos))
            hidden.append(
                ZipEntry(name, name, method, flags, csize, usize, crc, pos, data_offset, False)
            )
        pos = data_offset + csize + (16 if flags & 0x08 else 0)
    return hidden


def read_entry(buf: Buffer, entry: ZipEntry, *, limit: int, prefix: bool = False) -> bytes:
    """The entry's uncompressed bytes, at most ``limit`` of them.

    With ``prefix=True`` a longer entry is cut at ``limit``; otherwise ZipLimitError.
    """
    if entry.flags & 0x01:
        raise ZipLimitError("entry is encrypted")
    raw_end = min(entry.data_offset + entry.compressed_size, len(buf))
    if entry.method == 0:
        n = entry.compressed_size
        if n > limit and not prefix:
            raise ZipLimitError(f"entry holds {n} bytes (limit {limit})")
        return buf[entry.data_offset : entry.data_offset + min(n, limit)]
    if entry.method == 8:
        inflater: Any = zlib.decompressobj(-15)
    elif entry.method == 12:
        inflater = bz2.BZ2Decompressor()
    else:
        raise ZipLimitError(f"compression method {entry.method} is not supported")
    out = bytearray()
    pos = entry.data_offset
    try:
        while pos < raw_end and len(out) <= limit:
            chunk = buf[pos : min(pos + _CHUNK, raw_end)]
            if not chunk:
                break
            pos += len(chunk)
            if entry.method == 8:
                out += inflater.decompress(chunk, limit + 1 - len(out))
                while inflater.unconsumed_tail and len(out) <= limit:
                    out += inflater.decompress(inflater.unconsumed_tail, limit + 1 - len(out))
            else:
                out += inflater.decompress(chunk, limit + 1 - len(out))
                while not inflater.needs_input and len(out) <= limit:
                    more = inflater.decompress(b"", limit + 1 - len(out))
                    if not more:
                        break
                    out += more
    except (zlib.error, OSError, EOFError) as exc:
        raise ZipLimitError(f"entry does not decompress: {exc}") from exc
    if len(out) > limit:
        if prefix:
            return bytes(out[:limit])
        raise ZipLimitError(
            f"entry inflates past {limit} bytes (declares {entry.size}): a zip bomb or too big"
        )
    return bytes(out)
