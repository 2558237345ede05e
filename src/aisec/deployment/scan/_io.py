"""Byte sources for the scanner: a seekable window over a buffer, bounded decompression."""

from __future__ import annotations

import bz2
import lzma
import zlib
from typing import Any

from aisec.deployment.scan._zip import Buffer

__all__ = ["DecompressLimitError", "RangeReader", "decompress_bounded"]

_CHUNK = 1 << 20


class RangeReader:
    """A read-only file over ``buf[start:end]`` that never allocates more than it returns.

    ``pickletools.genops`` reads through this; a length field claiming gigabytes yields only
    the bytes that exist, and genops then reports the pickle as truncated.
    """

    def __init__(self, buf: Buffer, start: int = 0, end: int | None = None) -> None:
        self.buf = buf
        self.start = start
        self.end = len(buf) if end is None else min(end, len(buf))
        self.pos = start

    def read(self, n: int = -1) -> bytes:
        stop = self.end if n is None or n < 0 else min(self.end, self.pos + n)
        data = self.buf[self.pos : stop]
        self.pos = max(self.pos, stop)
        return data

    def readline(self, limit: int = -1) -> bytes:
        cap = self.end if limit is None or limit < 0 else min(self.end, self.pos + limit)
        finder: Any = self.buf
        hit = finder.find(b"\n", self.pos, cap)
        stop = cap if hit < 0 else hit + 1
        data = self.buf[self.pos : stop]
        self.pos = stop
        return data

    def tell(self) -> int:
        return self.pos - self.start

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: self.start, 1: self.pos, 2: self.end}[whence]
        self.pos = max(self.start, min(self.end, base + offset))
        return self.pos - self.start

    def remaining(self) -> int:
        return self.end - self.pos


class DecompressLimitError(Exception):
    pass


def decompress_bounded(buf: Buffer, codec: str, *, limit: int) -> bytes:
    """Decompress ``buf`` (zlib, gzip, bz2, xz, lzma) in chunks, refusing past ``limit`` bytes."""
    dec: Any
    if codec == "zlib":
        dec = zlib.decompressobj()
    elif codec == "gzip":
        dec = zlib.decompressobj(16 + zlib.MAX_WBITS)
    elif codec == "bz2":
        dec = bz2.BZ2Decompressor()
    elif codec == "xz":
        dec = lzma.LZMADecompressor(format=lzma.FORMAT_XZ)
    elif codec == "lzma":
        dec = lzma.LZMADecompressor(format=lzma.FORMAT_ALONE)
    else:  # pragma: no cover - callers pass the codecs above
        raise DecompressLimitError(f"unknown codec {codec}")
    out = bytearray()
    pos = 0
    size = len(buf)
    try:
        while pos < size and len(out) <= limit:
            chunk = buf[pos : pos + _CHUNK]
            pos += len(chunk)
            if codec in ("zlib", "gzip"):
                out += dec.decompress(chunk, limit + 1 - len(out))
                while dec.unconsumed_tail and len(out) <= limit:
                    out += dec.decompress(dec.unconsumed_tail, limit + 1 - len(out))
                if dec.eof:
                    break
            else:
                out += dec.decompress(chunk, limit + 1 - len(out))
                while not dec.eof and not dec.needs_input and len(out) <= limit:
                    more = dec.decompress(b"", limit + 1 - len(out))
                    if not more:
                        break
                    out += more
                if dec.eof:
                    break
    except (zlib.error, OSError, lzma.LZMAError, EOFError, ValueError) as exc:
        raise DecompressLimitError(f"{codec} stream does not decompress: {exc}") from exc
    if len(out) > limit:
        raise DecompressLimitError(f"{codec} stream inflates past {limit} bytes")
    if not dec.eof:
        raise DecompressLimitError(f"{codec} stream is truncated")
    return bytes(out)
