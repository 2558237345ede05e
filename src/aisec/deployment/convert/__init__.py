"""Convert checkpoints to SafeTensors without executing them.

PyTorch zip and legacy checkpoints and plain pickled state dicts are read by the symbolic
pickle machine of the scanner; only the allowlisted tensor reconstructors are interpreted
(in ``_interp``), and tensors are rebuilt from the raw storage bytes with NumPy.
Neither ``pickle.load`` nor ``torch`` is ever used. ``.npy``/``.npz`` are read by NumPy with
``allow_pickle=False``.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import struct
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aisec.core.digest import digest_file
from aisec.core.errors import FormatError, InputError, MissingExtraError
from aisec.deployment.convert import _interp
from aisec.deployment.scan import scan_file
from aisec.deployment.scan._formats import sniff
from aisec.deployment.scan._io import RangeReader
from aisec.deployment.scan._pickle_vm import run_pickle
from aisec.deployment.scan._zip import ZipLimitError, read_entry, read_zip

if TYPE_CHECKING:
    from aisec.core.evidence import Statement
    from aisec.core.findings import Finding
    from aisec.core.predicates.deployment import ConvertPredicate

__all__ = ["ConvertResult", "convert_predicate", "convert_statement", "convert_to_safetensors"]

MAX_PICKLE = 256 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class ConvertResult:
    source: str
    source_digest: str
    source_format: str
    output: str
    output_digest: str
    tensors: int

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": "aisec.model-convert/v1",
            "source": {
                "path": self.source,
                "digest": self.source_digest,
                "format": self.source_format,
            },
            "output": {"path": self.output, "digest": self.output_digest, "format": "safetensors"},
            "tensors": self.tensors,
        }

    @property
    def findings(self) -> tuple[Finding, ...]:
        """A conversion either succeeds or raises: it reports no findings."""
        return ()

    def predicates(self) -> tuple[ConvertPredicate]:
        return (convert_predicate(self),)


def _load_numpy() -> Any:
    try:
        import numpy as np
    except ImportError as exc:  # pragma: no cover - numpy comes with the convert extra
        raise MissingExtraError("model conversion", "convert") from exc
    return np


def _materialise(np: Any, t: _interp.Tensor, data: bytes | memoryview) -> tuple[str, Any]:
    itemsize = _interp.ITEMSIZE[t.dtype]
    carrier = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}[itemsize]
    nbytes = t.storage.numel * (itemsize if t.storage.dtype is not None else 1)
    if len(data) < nbytes:
        raise FormatError(f"storage {t.storage.key} holds {len(data)} of {nbytes} bytes")
    elements = nbytes // itemsize
    count = 1
    for d in t.shape:
        count *= d
    if count:
        last = t.offset + sum((d - 1) * s for d, s in zip(t.shape, t.stride, strict=True))
        low = t.offset + sum((d - 1) * s for d, s in zip(t.shape, t.stride, strict=True) if s < 0)
        if t.offset < 0 or low < 0 or last >= elements:
            raise FormatError(f"tensor view reaches outside storage {t.storage.key}")
    base = np.frombuffer(data, dtype=carrier, count=elements)
    view = (
        np.lib.stride_tricks.as_strided(
            base[t.offset :] if count else base[:0],
            shape=t.shape,
            strides=tuple(s * itemsize for s in t.stride),
            writeable=False,
        )
        if count
        else np.zeros(t.shape, dtype=carrier)
    )
    out = np.array(view, order="C", copy=True)  # ascontiguousarray would make 0-d 1-d
    if t.dtype in ("complex64",):
        out = out.view(np.complex64)
    return t.dtype, out


@contextlib.contextmanager
def _mapped(path: Path) -> Iterator[mmap.mmap]:
    # not closed explicitly: tensor views into the map may outlive this block; the map is
    # released when the last view goes
    with path.open("rb") as fh:
        yield mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)


def _from_torch_zip(np: Any, buf: mmap.mmap) -> tuple[Any, dict[str, bytes | memoryview]]:
    view = read_zip(buf)
    by_name = {e.name: e for e in view.entries if e.in_central_directory}
    pkl = [n for n in by_name if n.endswith("data.pkl") and n.count("/") <= 1]
    if len(pkl) != 1:
        raise FormatError("not a PyTorch checkpoint: no single data.pkl")
    prefix = pkl[0][: -len("data.pkl")]
    order = by_name.get(prefix + "byteorder")
    if order is not None and read_entry(buf, order, limit=16) != b"little":
        raise FormatError("big-endian checkpoints are not supported")
    data = read_entry(buf, by_name[pkl[0]], limit=MAX_PICKLE)
    result = run_pickle(RangeReader(data))
    if result.issues or not result.complete:
        raise _interp.refuse(result.issues[0].detail if result.issues else "an incomplete pickle")
    interp = _interp.Interpreter(np)
    value = interp.value(result.value)
    storages: dict[str, bytes | memoryview] = {}
    for key in interp.storages:
        entry = by_name.get(f"{prefix}data/{key}")
        if entry is None:
            raise FormatError(f"storage {key} is missing from the archive")
        if entry.method == 0:
            storages[key] = memoryview(buf)[
                entry.data_offset : entry.data_offset + entry.compressed_size
            ]
        else:
            storages[key] = read_entry(buf, entry, limit=1 << 40)
    return value, storages


def _from_pickle_stream(np: Any, buf: mmap.mmap) -> tuple[Any, dict[str, bytes | memoryview]]:
    reader = RangeReader(buf)
    pickles: list[Any] = []
    for _ in range(5):
        res = run_pickle(reader)
        if res.issues or not res.complete:
            raise _interp.refuse(res.issues[0].detail if res.issues else "an incomplete pickle")
        pickles.append(res.value)
        if pickles[0] != 0x1950A86A20F9469CFC6C:
            break
    interp = _interp.Interpreter(np)
    if len(pickles) == 1:  # a plain pickled state dict of NumPy arrays
        return interp.value(pickles[0]), {}
    value = interp.value(pickles[3])
    keys = pickles[4]
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise FormatError("legacy checkpoint has no storage key list")
    storages: dict[str, bytes | memoryview] = {}
    pos = reader.pos
    for key in keys:
        raw = buf[pos : pos + 8]
        if len(raw) < 8 or key not in interp.storages:
            raise FormatError(f"legacy storage {key} cannot be read")
        st = interp.storages[key]
        size = struct.unpack("<q", raw)[0] * (_interp.ITEMSIZE[st.dtype] if st.dtype else 1)
        pos += 8
        storages[key] = memoryview(buf)[pos : pos + size]
        pos += size
    return value, storages


def _numpy_file(np: Any, path: Path, fmt: str) -> dict[str, Any]:
    try:
        loaded = np.load(path, allow_pickle=False, mmap_mode=None)
        if fmt == "npy":
            return {path.stem: loaded}
        with loaded as npz:
            return {name: npz[name] for name in npz.files}
    except ValueError as exc:
        raise _interp.refuse(f"{path.name} ({exc})") from exc
    except (OSError, EOFError, zipfile.BadZipFile) as exc:
        raise FormatError(f"{path.name}: NumPy cannot read it: {exc}") from exc


def convert_to_safetensors(
    source: str | os.PathLike[str], output: str | os.PathLike[str], *, overwrite: bool = False
) -> ConvertResult:
    """Convert ``source`` to a SafeTensors file at ``output`` (written atomically)."""
    src, out = Path(source), Path(output)
    if not src.is_file():
        raise InputError("no such file", path=src)
    if out.exists() and not overwrite:
        raise InputError("output exists (use --overwrite)", path=out)
    np = _load_numpy()
    try:
        import safetensors
    except ImportError as exc:
        raise MissingExtraError("model conversion", "convert") from exc
    scanned = scan_file(src)
    if scanned.format is None:
        raise FormatError(f"{src}: not a checkpoint format that can be converted")
    if scanned.verdict != "clean":
        first = scanned.findings[0]
        raise FormatError(f"refusing to convert a file that is not clean: {first.detail}")
    fmt = scanned.format or "unknown"
    tensors: dict[str, tuple[str, Any]] = {}
    with _mapped(src) as buf:
        kind = sniff(buf[:512], src.name)
        if kind == "npy" or fmt == "npz":
            arrays = _numpy_file(np, src, "npy" if kind == "npy" else "npz")
            for name, arr in arrays.items():
                tensors[name] = (_np_name(arr.dtype), np.array(arr, order="C", copy=True))
        elif fmt in ("pytorch-zip", "pickle", "torch-legacy"):
            try:
                value, storages = (
                    _from_torch_zip if fmt == "pytorch-zip" else _from_pickle_stream
                )(np, buf)
            except ZipLimitError as exc:
                raise FormatError(f"archive cannot be read: {exc}") from exc
            flat: dict[str, Any] = {}
            _interp.flatten(value, "", flat)
            for name, item in flat.items():
                if isinstance(item, _interp.Array):
                    tensors[name] = (
                        _np_name(item.array.dtype),
                        np.array(item.array, order="C", copy=True),
                    )
                else:
                    data = storages.get(item.storage.key)
                    if data is None:
                        raise FormatError(f"tensor {name} refers to a missing storage")
                    tensors[name] = _materialise(np, item, data)
        else:
            raise FormatError(f"cannot convert {fmt} files to SafeTensors")
        digest = digest_file(src)
        _write(safetensors, np, tensors, out, digest, fmt)
    return ConvertResult(str(src), digest, fmt, str(out), digest_file(out), len(tensors))


def _np_name(dtype: Any) -> str:
    name = str(dtype.name)
    if name not in _interp.NUMPY_NAMES:
        raise _interp.refuse(f"an array of dtype {name}")
    return name


def _write(
    st: Any, np: Any, tensors: dict[str, tuple[str, Any]], out: Path, digest: str, fmt: str
) -> None:
    specs = {}
    keep = []
    for name, (dtype, arr) in tensors.items():
        little = arr.astype(arr.dtype.newbyteorder("<"), copy=False)
        keep.append(little)
        specs[name] = st.TensorSpec(
            dtype=dtype,
            shape=list(little.shape),
            data_ptr=little.ctypes.data,
            data_len=little.nbytes,
        )
    metadata = {"format": "pt", "aisec.source_digest": digest, "aisec.source_format": fmt}
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    os.close(fd)
    try:
        st.serialize_file(specs, tmp, metadata=metadata)
        Path(tmp).replace(out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def convert_predicate(result: ConvertResult) -> ConvertPredicate:
    """The ``deployment/convert`` predicate: subject the output file, input the source."""
    from aisec.core.controls import ControlResult
    from aisec.core.predicates import InputRef, SubjectRef
    from aisec.core.predicates.deployment import ConvertedFile, ConvertPredicate

    return ConvertPredicate(
        result=ControlResult.PASS,
        subjects=(SubjectRef(name=result.output, digest=result.output_digest),),
        inputs=(InputRef(name=result.source, digest=result.source_digest, role="source"),),
        source=ConvertedFile(
            path=result.source, digest=result.source_digest, format=result.source_format
        ),
        output=ConvertedFile(path=result.output, digest=result.output_digest, format="safetensors"),
        tensors=result.tensors,
    )


def convert_statement(result: ConvertResult) -> Statement:
    """The signed form of :func:`convert_predicate`."""
    return convert_predicate(result).statement()
