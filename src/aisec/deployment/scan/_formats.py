"""Format detection by content and the scanners of the executable formats.

One :class:`BlobScanner` per top-level file walks nested content (archive members,
compressed streams, object arrays) to a bounded depth and within a byte budget.
"""

from __future__ import annotations

import pickletools
import re
import struct
import zlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from aisec.core.controls import Rule
from aisec.core.findings import Finding
from aisec.deployment.scan import _rules as rules
from aisec.deployment.scan._formats_hub import sniff_hub
from aisec.deployment.scan._io import DecompressLimitError, RangeReader, decompress_bounded
from aisec.deployment.scan._pickle_vm import Call, Global, Opaque, PDict, Reader, run_pickle
from aisec.deployment.scan._torchscript import torchscript_calls
from aisec.deployment.scan._zip import Buffer, ZipLimitError, read_entry, read_zip

if TYPE_CHECKING:
    import tarfile

__all__ = ["MAX_DEPTH", "BlobScanner", "sniff"]

MAX_DEPTH = 5
MAX_MEMBER_BYTES = 256 * 1024 * 1024
MAX_INFLATED_TOTAL = 1024 * 1024 * 1024
MAX_PICKLES_PER_STREAM = 64
_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_PICKLE_EXT = (".pkl", ".pickle", ".pt", ".pth", ".bin", ".ckpt", ".joblib", ".dat", ".sav")
_PICKLE_ONLY_EXT = (".pkl", ".pickle", ".joblib", ".pt", ".pth", ".ckpt")
_OPCODE_BYTES = frozenset(ord(op.code) for op in pickletools.opcodes)
_STORAGE_DATA = re.compile(r"(^|/)data/\d+$")
_DTYPE = re.compile(r"^[<>|=]?([a-zA-Z?])(\d*)(\[\w+\])?$")
_STORAGE_SIZES = {
    "DoubleStorage": 8,
    "FloatStorage": 4,
    "HalfStorage": 2,
    "BFloat16Storage": 2,
    "LongStorage": 8,
    "IntStorage": 4,
    "ShortStorage": 2,
    "CharStorage": 1,
    "ByteStorage": 1,
    "BoolStorage": 1,
    "ComplexFloatStorage": 8,
    "ComplexDoubleStorage": 16,
}


def _is_zlib(head: bytes) -> bool:
    return len(head) >= 2 and head[0] == 0x78 and (head[0] * 256 + head[1]) % 31 == 0


def sniff(head: bytes, name: str) -> str | None:
    """The format of content starting with ``head`` (>= 512 bytes when the file has them)."""
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return "zip"
    if head[:6] == b"\x93NUMPY":
        return "npy"
    if head[:4] == b"GGUF":
        return "gguf"
    if head[:8] == b"\x89HDF\r\n\x1a\n":
        return "hdf5"
    if head[:2] == b"\x1f\x8b":
        return "gzip"
    if head[:3] == b"BZh":
        return "bz2"
    if head[:6] == b"\xfd7zXZ\x00":
        return "xz"
    if head[:3] == b"]\x00\x00":
        return "lzma"
    if head[257:262] == b"ustar":
        return "tar"
    # Archives and codecs this scanner does not open: never cleared, reported unverified.
    if head[:6] == b"7z\xbc\xaf\x27\x1c":
        return "7z"
    if head[:6] == b"Rar!\x1a\x07":
        return "rar"
    if head[:4] in (b"\x04\x22\x4d\x18", b"\x28\xb5\x2f\xfd"):
        return "lz4-or-zstd"
    if len(head) >= 9 and head[8:9] == b"{" and head[9:10] in (b'"', b"}", b" ", b"\n"):
        return "safetensors"
    if len(head) >= 2 and head[0] == 0x80 and head[1] <= 5:
        return "pickle"
    if _is_zlib(head):
        return "zlib"
    lower = name.lower()
    if lower.endswith(".onnx"):
        return "onnx"
    if lower.endswith((".keras", ".h5", ".hdf5")):
        return "keras-unknown"
    if lower.endswith(_PICKLE_ONLY_EXT):
        return "pickle"  # named as a pickle: it must parse as one to be cleared
    if lower.endswith(_PICKLE_EXT) and head[:1] and head[0] in _OPCODE_BYTES:
        return "pickle"
    return None


class BlobScanner:
    """Scans one top-level file; collects findings in ``findings``."""

    def __init__(self, path: str, *, extra: dict[str, Callable[..., None]] | None = None) -> None:
        self.path = path
        self.findings: list[Finding] = []
        self.inflated = 0
        self.extra = extra or {}
        self.torchscript = False  # inside a TorchScript archive: torch.jit.load's rules
        self.calls: set[str] = set()  # what TorchScript code calls

    # ---------------------------------------------------------------- helpers
    def add(
        self,
        rule: Rule,
        detail: str,
        member: str | None,
        offset: int | None = None,
        callable_name: str | None = None,
    ) -> None:
        self.findings.append(
            rules.make_finding(
                rule, self.path, detail, member=member, offset=offset, callable_name=callable_name
            )
        )

    def unverified(self, detail: str, member: str | None, offset: int | None = None) -> None:
        self.add(rules.UNVERIFIED, detail, member, offset)

    def _charge(self, n: int, member: str | None) -> bool:
        self.inflated += n
        if self.inflated > MAX_INFLATED_TOTAL:
            self.unverified(f"more than {MAX_INFLATED_TOTAL} bytes decompressed in total", member)
            return False
        return True

    # ---------------------------------------------------------------- dispatch
    def scan(
        self, buf: Buffer, *, member: str | None, depth: int, name: str, fmt: str | None = None
    ) -> str | None:
        fmt = fmt or sniff(buf[:512], name)
        if fmt is None:
            fmt = self._maybe_pickle(buf) or sniff_hub(name)
            if fmt is None:
                return None
        if depth > MAX_DEPTH:
            self.unverified(f"nested deeper than {MAX_DEPTH} levels", member)
            return fmt
        handler = {
            "pickle": self.scan_pickle,
            "zip": self.scan_zip,
            "npy": self.scan_npy,
            "tar": self.scan_tar,
        }.get(fmt)
        if handler is not None:
            return handler(buf, member, depth) or fmt
        if fmt in ("gzip", "bz2", "xz", "lzma", "zlib"):
            return self.scan_compressed(buf, member, depth, fmt)
        if fmt in self.extra:
            self.extra[fmt](self, buf, member, name)
            return fmt
        self.unverified(f"{fmt} content cannot be checked by this scanner", member)
        return fmt

    def _maybe_pickle(self, buf: Buffer) -> str | None:
        """A pickle needs no PROTO header: ``pickle.load`` (and ``torch.load``'s legacy path,
        ``np.load(allow_pickle=True)``) start on any opcode and execute each one as it is
        read, so a stream that reaches a callable before it breaks runs that callable. Any
        file starting with an opcode is walked; it is a pickle if it parses to STOP or
        reaches anything but data before it fails."""
        first = buf[:1]
        if not first or first[0] not in _OPCODE_BYTES:
            return None
        probe = run_pickle(RangeReader(buf))
        if probe.complete or probe.imports or any(i.kind != "unverified" for i in probe.issues):
            return "pickle"
        return None

    # ---------------------------------------------------------------- pickle
    def scan_pickle(self, buf: Buffer, member: str | None, depth: int, base: int = 0) -> str:
        reader = RangeReader(buf, base)
        fmt = "pickle"
        for index in range(MAX_PICKLES_PER_STREAM):
            result = run_pickle(
                reader,
                base=base,
                on_build=self._joblib_hook(member, depth),
                torchscript=self.torchscript,
            )
            self._report(result.issues, member)
            for data, offset, loader in result.nested:
                inner = f"{member}!<{loader}@{offset}>" if member else f"<{loader}@{offset}>"
                if self.scan(data, member=inner, depth=depth + 1, name="") is None:
                    self.unverified(f"{loader} loads bytes in no format this scanner reads", inner)
            if not result.complete:
                break
            if index == 0 and result.value == _LEGACY_MAGIC:
                fmt = "torch-legacy"
            if fmt == "torch-legacy" and index >= 4:
                break  # magic, protocol, sys_info, data, storage keys; then raw storages
            if reader.remaining() < 2:
                break
            nxt = buf[reader.pos : reader.pos + 2]
            if fmt != "torch-legacy" and not (nxt[0] == 0x80 and nxt[1] <= 5):
                # trailing bytes: scanned too if they form a whole pickle of their own
                probe = run_pickle(RangeReader(buf, reader.pos), max_ops=100_000)
                if not probe.complete:
                    break
        return fmt

    def _report(self, issues: list[Any], member: str | None) -> None:
        by_kind = {
            "dangerous": rules.DANGEROUS_CALLABLE,
            "unsafe": rules.UNSAFE_CALLABLE,
            "mutation": rules.GLOBAL_MUTATION,
            "unverified": rules.UNVERIFIED,
        }
        for issue in issues:
            self.add(by_kind[issue.kind], issue.detail, member, issue.offset, issue.callable)

    def _joblib_hook(self, member: str | None, depth: int) -> Callable[[Any, Reader, int], Any]:
        def hook(obj: Any, reader: Reader, base: int) -> Any:
            if not (
                isinstance(obj, Call)
                and isinstance(obj.func, Global)
                and obj.func.qualname == "joblib.numpy_pickle.NumpyArrayWrapper"
            ):
                return None
            return self._skip_joblib_array(obj, reader, member, base)

        return hook

    def _skip_joblib_array(self, obj: Call, reader: Reader, member: str | None, base: int) -> Any:
        state = obj.states[-1] if obj.states else None
        fields = (
            dict(p for p in state.pairs if isinstance(p[0], str))
            if isinstance(state, PDict)
            else {}
        )
        dtype = fields.get("dtype")
        code = (
            dtype.args[0]
            if isinstance(dtype, Call)
            and isinstance(dtype.args, tuple)
            and dtype.args
            and isinstance(dtype.args[0], str)
            else None
        )
        shape = fields.get("shape")
        match = _DTYPE.match(code) if code else None
        if (
            match is None
            or not isinstance(shape, tuple)
            or not all(isinstance(d, int) and d >= 0 for d in shape)
        ):
            raise _JoblibError("joblib array header cannot be read")
        kind, size = match.group(1), int(match.group(2) or 1)
        if _dtype_has_object(dtype, 0):  # what joblib's loader tests: dtype.hasobject
            nested = run_pickle(reader, base=base)
            self._report(nested.issues, member)
            if not nested.complete:
                raise _JoblibError("object array pickle is incomplete")
            return Opaque("joblib object array")
        if "numpy_array_alignment_bytes" in fields:
            pad = reader.read(1)
            if len(pad) == 1 and pad[0]:
                reader.read(pad[0])
        count = 1
        for d in shape:
            count *= d
        itemsize = size * 4 if kind == "U" else size
        reader.seek(count * itemsize, 1)
        return Opaque("joblib array")

    # ---------------------------------------------------------------- zip
    def scan_zip(self, buf: Buffer, member: str | None, depth: int) -> str:
        try:
            view = read_zip(buf)
        except (ZipLimitError, struct.error) as exc:
            self.unverified(f"archive cannot be read: {exc}", member)
            return "zip"
        for what, offset in view.problems:
            self.add(rules.ARCHIVE_EVASION, what, member, offset)
        for entry in view.entries:
            problem = _member_escapes(entry.name)
            if problem is None and entry.is_symlink:
                problem = "is a symbolic link (extractors that honour Unix modes create it)"
            if problem:
                self.add(rules.ARCHIVE_MEMBER_ESCAPE, f"member {entry.name!r} {problem}", member)
        names = {n for e in view.entries for n in e.names}
        is_torch = any(n.endswith("data.pkl") for n in names)
        # torch.load hands an archive with a constants.pkl record to torch.jit.load
        is_script = any(n.partition("/")[2] == "constants.pkl" for n in names)
        is_keras = any(n.endswith("config.json") for n in names) and (
            "metadata.json" in names or any(n.endswith(".weights.h5") for n in names)
        )
        is_skops = "schema.json" in names
        fmt = (
            "skops"
            if is_skops
            else "torchscript"
            if is_script
            else "pytorch-zip"
            if is_torch
            else "keras"
            if is_keras
            else ("npz" if names and all(n.endswith(".npy") for n in names) else "zip")
        )
        outer, self.torchscript = self.torchscript, is_script
        try:
            self._zip_entries(buf, view, member, depth, is_torch, is_keras, is_script)
        finally:
            self.torchscript = outer
        return fmt

    def _zip_entries(
        self,
        buf: Buffer,
        view: Any,
        member: str | None,
        depth: int,
        is_torch: bool,
        is_keras: bool,
        is_script: bool,
    ) -> None:
        for entry in view.entries:
            label = " | ".join(entry.names)
            where = f"{member}!{label}" if member else label
            if entry.name.endswith("/"):
                continue
            if is_torch and all(_STORAGE_DATA.search(n) for n in entry.names):
                continue  # raw tensor bytes: torch never unpickles them
            if is_keras and entry.name.endswith(".weights.h5"):
                continue  # weights only: Keras reads datasets from it, never code
            if is_keras and entry.name == "config.json" and "keras_config" in self.extra:
                self._entry(buf, entry, where, depth, "keras_config")
                continue
            if entry.name == "schema.json" and "skops-schema" in self.extra:
                self._entry(buf, entry, where, depth, "skops-schema")
                continue
            if is_script and "/code/" in f"/{entry.name}" and entry.name.endswith(".py"):
                self._torchscript_code(buf, entry, where)
                continue
            self._entry(buf, entry, where, depth, None)

    def _torchscript_code(self, buf: Buffer, entry: Any, where: str) -> None:
        try:
            source = read_entry(buf, entry, limit=MAX_MEMBER_BYTES).decode("utf-8")
            calls = torchscript_calls(source)
        except (ZipLimitError, UnicodeDecodeError, SyntaxError, ValueError, RecursionError) as e:
            self.unverified(f"TorchScript code cannot be read: {e}", where, entry.header_offset)
            return
        self.calls.update(calls.ops)
        for op in calls.custom:
            self.add(rules.TORCHSCRIPT_CUSTOM_OP, f"calls {op}", where, None, op)
        for op in calls.file_ops:
            self.add(rules.TORCHSCRIPT_FILE_OP, f"calls {op}", where, None, op)

    def _entry(self, buf: Buffer, entry: Any, where: str, depth: int, fmt: str | None) -> None:
        try:
            head = read_entry(buf, entry, limit=512, prefix=True)
        except ZipLimitError as exc:
            self.unverified(f"member cannot be read: {exc}", where, entry.header_offset)
            return
        names = entry.names
        kind = fmt or sniff(head, names[-1])
        if kind is None and any(n.endswith(".pkl") for n in names):
            kind = "pickle"
        if kind is None:
            kind = next((k for k in map(sniff_hub, names) if k), None)
        if kind is None:
            return
        if kind in ("npy", "safetensors", "gguf") and entry.method == 0:
            # header formats: scan in place over the stored bytes, read nothing else
            end = entry.data_offset + entry.compressed_size
            self.scan(
                _Window(buf, entry.data_offset, end),
                member=where,
                depth=depth + 1,
                name=names[-1],
                fmt=kind,
            )
            return
        try:
            data = read_entry(buf, entry, limit=MAX_MEMBER_BYTES)
        except ZipLimitError as exc:
            self.unverified(f"member cannot be read: {exc}", where, entry.header_offset)
            return
        if not self._charge(len(data), where):
            return
        if entry.in_central_directory and zlib.crc32(data) != entry.crc:
            self.add(
                rules.ARCHIVE_EVASION,
                "CRC-32 does not match the data (zipfile refuses it; torch loads it)",
                where,
                entry.header_offset,
            )
        self.scan(data, member=where, depth=depth + 1, name=names[-1], fmt=kind)

    # ---------------------------------------------------------------- numpy
    def scan_npy(self, buf: Buffer, member: str | None, depth: int) -> str:
        head = buf[:12]
        if len(head) < 10:
            self.unverified("NumPy header is truncated", member, 0)
            return "npy"
        major = head[6]
        if major == 1:
            hlen, start = struct.unpack_from("<H", head, 8)[0], 10
        else:
            hlen, start = (struct.unpack_from("<I", head, 8)[0] if len(head) >= 12 else 0), 12
        if hlen > 1 << 20 or start + hlen > len(buf):
            self.unverified(f"NumPy header length {hlen} is out of bounds", member, 8)
            return "npy"
        try:
            has_object = _npy_has_object(buf[: start + hlen], major, head[7])
        except Exception as e:  # numpy's reader fails in its own ways: never cleared
            self.unverified(f"NumPy header cannot be read as np.load reads it: {e}", member, 8)
            return "npy"
        if has_object:  # np.load(allow_pickle=True) unpickles the data
            self.scan_pickle(buf, member, depth, base=start + hlen)
            return "npy-object"
        return "npy"

    # ---------------------------------------------------------------- compressed
    def scan_compressed(self, buf: Buffer, member: str | None, depth: int, codec: str) -> str:
        budget = min(MAX_MEMBER_BYTES, MAX_INFLATED_TOTAL - self.inflated)
        try:
            data = decompress_bounded(buf, codec, limit=budget)
        except DecompressLimitError as exc:
            self.unverified(str(exc), member, 0)
            return codec
        self._charge(len(data), member)
        inner = f"{member}!<{codec}>" if member else f"<{codec}>"
        fmt = self.scan(data, member=inner, depth=depth + 1, name="")
        if fmt is None:
            return codec
        return f"{codec}+{fmt}"

    # ---------------------------------------------------------------- tar
    def scan_tar(self, buf: Buffer, member: str | None, depth: int) -> str:
        import tarfile  # only tar archives need it: ~4 ms of a one-file scan's start-up

        names: list[str] = []
        try:
            with tarfile.open(fileobj=cast(Any, _TarFile(buf)), mode="r:") as tar:
                for count, info in enumerate(tar):
                    if count > 10_000:
                        self.unverified("more than 10000 tar members", member)
                        break
                    problem = _tar_member_problem(info)
                    if problem:
                        self.add(
                            rules.ARCHIVE_MEMBER_ESCAPE,
                            f"member {info.name!r} {problem}",
                            member,
                            info.offset,
                        )
                    if not info.isfile():
                        continue  # links and devices are never followed
                    names.append(info.name)
                    where = f"{member}!{info.name}" if member else info.name
                    start, end = info.offset_data, info.offset_data + info.size
                    window = _Window(buf, start, end)
                    if info.name in ("storages", "tensors"):
                        self._legacy_stream(window, where, info.name)
                    else:
                        self.scan(window, member=where, depth=depth + 1, name=info.name)
        except (tarfile.TarError, OSError, ValueError) as exc:
            self.unverified(f"tar archive cannot be read: {exc}", member)
        return "torch-legacy-tar" if "pickle" in names else "tar"

    def _legacy_stream(self, buf: Buffer, where: str, kind: str) -> None:
        """torch's pre-1.6 tar format: pickles interleaved with raw tensor data."""
        reader = RangeReader(buf)
        first = run_pickle(reader)
        self._report(first.issues, where)
        if not first.complete or not isinstance(first.value, int):
            if first.complete:
                self.unverified(f"'{kind}' does not start with a count", where, 0)
            return
        for _ in range(min(first.value, 1_000_000)):
            res = run_pickle(reader, base=0)
            self._report(res.issues, where)
            if not res.complete:
                return
            if kind == "storages":
                args = res.value
                stype = args[2] if isinstance(args, tuple) and len(args) == 3 else None
                size = _STORAGE_SIZES.get(stype.name) if isinstance(stype, Global) else None
                raw = reader.read(8)
                if size is None or len(raw) < 8:
                    self.unverified(
                        "legacy storage record cannot be followed", where, reader.tell()
                    )
                    return
                reader.seek(struct.unpack("<q", raw)[0] * size, 1)
            else:
                raw = reader.read(8)
                if len(raw) < 8:
                    self.unverified("legacy tensor record is truncated", where, reader.tell())
                    return
                ndim = struct.unpack_from("<i", raw)[0]
                if not 0 <= ndim <= 64:
                    self.unverified("legacy tensor record is corrupt", where, reader.tell())
                    return
                reader.seek(16 * ndim + 8, 1)
        if reader.remaining() and kind == "storages":
            res = run_pickle(reader, base=0)  # storage views
            self._report(res.issues, where)


class _JoblibError(Exception):
    pass


def _member_escapes(name: str) -> str | None:
    """Why an archive member name lands outside the folder it is extracted into."""
    import posixpath

    norm = name.replace("\\", "/")
    if norm.startswith("/") or (len(norm) > 1 and norm[1] == ":"):
        return "has an absolute path"
    if "\x00" in norm:
        return "has a NUL byte in its name"
    if ".." in norm.split("/"):
        resolved = posixpath.normpath(norm)
        if resolved == ".." or resolved.startswith("../"):
            return "climbs out of the extraction folder with '..'"
        return "contains '..'"
    return None


def _tar_member_problem(info: tarfile.TarInfo) -> str | None:
    import posixpath

    problem = _member_escapes(info.name)
    if problem:
        return problem
    if info.isdev():
        return "is a device file"
    if info.issym() or info.islnk():
        target = info.linkname
        if info.issym():
            target = posixpath.join(posixpath.dirname(info.name), target)
        if target.startswith("/") or _member_escapes(target.lstrip("/")) or target == "":
            kind = "symbolic" if info.issym() else "hard"
            return f"is a {kind} link to {info.linkname!r}, outside the archive"
    return None


def _npy_has_object(header: bytes, major: int, minor: int) -> bool:
    """Whether ``np.load`` would unpickle the array: numpy's own header reader (the same
    ``safe_eval`` and ``descr_to_dtype``, so every dtype spelling numpy accepts, structured
    dtypes with object fields included) decides, never a string test."""
    import io

    try:
        from numpy.lib import format as npformat
    except ImportError:  # the core install has no numpy
        return _npy_has_object_without_numpy(header, major)

    reader: Any = getattr(npformat, "_read_array_header", None)
    fp = io.BytesIO(header)
    fp.seek(8)
    if reader is not None:
        _shape, _order, dtype = reader(fp, (major, minor), max_header_size=1 << 20)
    elif major == 1:  # pragma: no cover - numpy without the private reader
        _shape, _order, dtype = npformat.read_array_header_1_0(fp, max_header_size=1 << 20)
    else:  # pragma: no cover
        _shape, _order, dtype = npformat.read_array_header_2_0(fp, max_header_size=1 << 20)
    return bool(dtype.hasobject)


# A plain dtype string (byte order, kind, size, optional datetime unit) of a kind that never
# holds Python objects; "O" is the object kind. Anything else (structured dtypes, sub-arrays,
# other spellings) is left to numpy's own reader.
_PLAIN_DTYPE = re.compile(r"[<>|=]?[biufcmMSUV]\d{1,5}(?:\[[A-Za-z0-9]{1,8}\])?")
_OBJECT_DTYPE = re.compile(r"[<>|=]?O\d{0,2}")


def _npy_has_object_without_numpy(header: bytes, major: int) -> bool:
    """Without numpy, a header whose ``descr`` is one plain dtype string is decided here (the
    dict is read with ``ast.literal_eval``, which evaluates nothing); any other header raises,
    and the file is then unverified with a hint to install numpy, never cleared."""
    import ast

    text = bytes(header[10 if major == 1 else 12 :]).decode("latin-1" if major < 3 else "utf-8")
    try:
        meta = ast.literal_eval(text.strip())
    except (ValueError, SyntaxError, MemoryError, RecursionError) as e:
        raise ValueError(f"the header is not a Python literal ({type(e).__name__})") from None
    descr = meta.get("descr") if isinstance(meta, dict) else None
    if isinstance(descr, str) and _OBJECT_DTYPE.fullmatch(descr):
        return True
    if isinstance(descr, str) and _PLAIN_DTYPE.fullmatch(descr):
        return False
    raise ValueError(f"dtype {descr!r} needs numpy to be read exactly (pip install numpy)")


def _dtype_has_object(dtype: Any, depth: int) -> bool:
    """numpy's ``dtype.hasobject`` for a pickled ``numpy.dtype(code, ...)`` and its state:
    an object code, the object flag, or an object dtype in any field or subarray."""
    if depth > 32:
        raise _JoblibError("dtype nested too deep")
    if not (isinstance(dtype, Call) and isinstance(dtype.args, tuple) and dtype.args):
        raise _JoblibError("dtype is not a numpy.dtype call")
    code = dtype.args[0]
    if not isinstance(code, str):
        raise _JoblibError("dtype code is computed")
    if code.lstrip("<>|=").startswith("O"):
        return True
    state = dtype.states[-1] if dtype.states else None
    if state is None:
        return False
    if not isinstance(state, tuple) or len(state) < 5:
        raise _JoblibError("dtype state cannot be read")
    flags = state[-1] if len(state) >= 8 else 0
    if isinstance(flags, int) and flags & 1:
        return True
    subarray, fields = state[2], state[4]
    if isinstance(subarray, tuple) and subarray:
        if _dtype_has_object(subarray[0], depth + 1):
            return True
    elif subarray is not None:
        raise _JoblibError("dtype subarray cannot be read")
    if isinstance(fields, PDict):
        for _, value in fields.pairs:
            if not (isinstance(value, tuple) and value):
                raise _JoblibError("dtype field cannot be read")
            if _dtype_has_object(value[0], depth + 1):
                return True
    elif fields is not None:
        raise _JoblibError("dtype fields cannot be read")
    return False


class _Window:
    """``buf[start:end]`` as a buffer, without copying."""

    def __init__(self, buf: Buffer, start: int, end: int) -> None:
        self.buf, self.start, self.end = buf, start, min(end, len(buf))

    def __len__(self) -> int:
        return max(0, self.end - self.start)

    def __getitem__(self, key: slice, /) -> bytes:
        lo, hi, _ = key.indices(len(self))
        return self.buf[self.start + lo : self.start + max(lo, hi)]

    def _abs(self, start: int, end: int | None) -> tuple[int, int]:
        end = len(self) if end is None else min(end, len(self))
        return self.start + max(0, start), self.start + max(0, end)

    def find(self, sub: bytes, start: int = 0, end: int | None = None, /) -> int:
        lo, hi = self._abs(start, end)
        finder: Any = self.buf
        hit = int(finder.find(sub, lo, hi))
        return hit - self.start if hit >= 0 else -1

    def rfind(self, sub: bytes, start: int = 0, end: int | None = None, /) -> int:
        lo, hi = self._abs(start, end)
        hit = self.buf.rfind(sub, lo, hi)
        return hit - self.start if hit >= 0 else -1


class _TarFile:
    """The minimum file interface tarfile needs, over a buffer."""

    def __init__(self, buf: Buffer) -> None:
        self.reader = RangeReader(buf)

    def read(self, n: int = -1) -> bytes:
        return self.reader.read(n)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.reader.seek(offset, whence)

    def tell(self) -> int:
        return self.reader.tell()
