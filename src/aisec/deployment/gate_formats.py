"""Which model format a file is, by its first bytes (never by loading it).

Minimal on purpose: the gate needs to know whether a file *could* run code when loaded
(pickle, a PyTorch zip holding a pickle, Keras) or is a data-only format (SafeTensors, GGUF,
ONNX, HDF5). The deployment scanner goes deeper; this only sorts files for the
``formats`` rule of a gate policy.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Literal, TypeAlias

__all__ = ["DetectedFormat", "detect_format"]

DetectedFormat: TypeAlias = Literal[
    "safetensors", "pickle", "torch", "gguf", "onnx", "keras", "h5", "other"
]

_HDF5 = b"\x89HDF\r\n\x1a\n"
# names pickles go by; a file named so is treated as pickle unless its bytes say otherwise
_PICKLE_SUFFIXES = frozenset({".pkl", ".pickle", ".pt", ".pth", ".ckpt", ".joblib", ".bin"})


def _zip_format(path: Path) -> DetectedFormat:
    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return "other"
    if any(n.endswith((".pkl", "/data.pkl")) for n in names):
        return "torch"
    if "config.json" in names and any(n.endswith(".weights.h5") for n in names):
        return "keras"
    return "other"


def detect_format(path: Path) -> DetectedFormat:
    """The format of the file at ``path`` from its magic bytes (and name, for bare pickles)."""
    with path.open("rb") as fh:
        head = fh.read(16)
        size = fh.seek(0, 2)
    if len(head) >= 9 and head[8:9] == b"{":
        header_len = int.from_bytes(head[:8], "little")
        if 2 <= header_len <= size - 8:
            return "safetensors"
    if head.startswith(b"GGUF"):
        return "gguf"
    if head.startswith(_HDF5):
        return "h5"
    if head.startswith(b"PK\x03\x04"):
        return _zip_format(path)
    if len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5:
        return "pickle"
    if path.suffix.lower() == ".onnx":
        return "onnx"
    if path.suffix.lower() in _PICKLE_SUFFIXES and head[:1] in (b"(", b"c", b"]", b"}", b"\x80"):
        return "pickle"  # protocol 0/1 pickles have no magic number
    return "other"
