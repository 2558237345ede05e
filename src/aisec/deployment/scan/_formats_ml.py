"""Scanners of the data formats that carry code by other means than pickle.

SafeTensors (header consistency), GGUF (chat template reaching outside the Jinja sandbox),
Keras (Lambda layers and custom objects in the model config), ONNX (external data outside
the model folder, custom operator domains) and HDF5 (Keras model_config attribute).
"""

from __future__ import annotations

import importlib
import json
import posixpath
import struct
from pathlib import PurePosixPath, PureWindowsPath
from typing import TYPE_CHECKING, Any

from aisec.deployment.scan import _rules as rules
from aisec.deployment.scan._zip import Buffer

if TYPE_CHECKING:
    from aisec.deployment.scan._formats import BlobScanner

__all__ = ["EXTRA_SCANNERS"]

MAX_HEADER = 100 * 1024 * 1024  # the bound safetensors itself enforces
_ST_SIZES = {
    "BOOL": 1,
    "U8": 1,
    "I8": 1,
    "F8_E5M2": 1,
    "F8_E4M3": 1,
    "F8_E8M0": 1,
    "I16": 2,
    "U16": 2,
    "F16": 2,
    "BF16": 2,
    "I32": 4,
    "U32": 4,
    "F32": 4,
    "I64": 8,
    "U64": 8,
    "F64": 8,
    "C64": 8,
}


# ------------------------------------------------------------------ SafeTensors
def scan_safetensors(s: BlobScanner, buf: Buffer, member: str | None, _name: str) -> None:
    size = len(buf)
    n = struct.unpack("<Q", buf[:8])[0]
    if n > MAX_HEADER or 8 + n > size:
        s.add(
            rules.SAFETENSORS_HEADER, f"header length {n} exceeds the bound or the file", member, 0
        )
        return
    try:
        header = json.loads(buf[8 : 8 + n])
    except (ValueError, UnicodeDecodeError, RecursionError):
        s.add(rules.SAFETENSORS_HEADER, "header is not valid JSON", member, 8)
        return
    if not isinstance(header, dict):
        s.add(rules.SAFETENSORS_HEADER, "header is not a JSON object", member, 8)
        return
    data_len = size - 8 - n
    spans: list[tuple[int, int, str]] = []
    for key, info in header.items():
        if key == "__metadata__":
            if not isinstance(info, dict) or not all(isinstance(v, str) for v in info.values()):
                s.add(rules.SAFETENSORS_HEADER, "__metadata__ is not a map of strings", member, 8)
            continue
        problem = _tensor_problem(info, data_len)
        if problem:
            s.add(rules.SAFETENSORS_HEADER, f"tensor {key!r}: {problem}", member, 8)
            continue
        start, end = info["data_offsets"]
        spans.append((start, end, key))
    spans.sort()
    covered = 0
    for start, end, key in spans:
        if start < covered:
            s.add(
                rules.SAFETENSORS_HEADER, f"tensor {key!r} overlaps another tensor", member, 8 + n
            )
        covered = max(covered, end)
    if covered < data_len:
        s.add(
            rules.SAFETENSORS_HEADER,
            f"{data_len - covered} bytes after the last tensor are not described by the header",
            member,
            8 + n + covered,
        )


def _tensor_problem(info: Any, data_len: int) -> str | None:
    if not isinstance(info, dict):
        return "entry is not an object"
    dtype, shape, offsets = info.get("dtype"), info.get("shape"), info.get("data_offsets")
    if dtype not in _ST_SIZES:
        return f"unknown dtype {dtype!r}"
    if not isinstance(shape, list) or not all(isinstance(d, int) and d >= 0 for d in shape):
        return "shape is not a list of non-negative integers"
    if not (
        isinstance(offsets, list) and len(offsets) == 2 and all(isinstance(o, int) for o in offsets)
    ):
        return "data_offsets is not [begin, end]"
    start, end = offsets
    if not 0 <= start <= end <= data_len:
        return f"data_offsets {offsets} fall outside the {data_len} data bytes"
    count = 1
    for d in shape:
        count *= d
    if count * _ST_SIZES[dtype] != end - start:
        return f"{dtype}{shape} needs {count * _ST_SIZES[dtype]} bytes, offsets give {end - start}"
    return None


# ------------------------------------------------------------------ GGUF
_GGUF_FIXED = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
MAX_KV = 1_000_000
MAX_STRING = 64 * 1024 * 1024


class _GGUFError(Exception):
    pass


def _read_gguf_kv(buf: Buffer) -> list[tuple[str, Any, int]]:
    """(key, value or None, offset) for every metadata pair; arrays are skipped."""
    version = struct.unpack("<I", buf[4:8])[0]
    if version not in (2, 3):
        raise _GGUFError(f"unsupported GGUF version {version}")
    n_kv = struct.unpack("<Q", buf[16:24])[0]
    if n_kv > MAX_KV:
        raise _GGUFError(f"{n_kv} metadata pairs (limit {MAX_KV})")
    pos = 24
    out: list[tuple[str, Any, int]] = []

    def string(at: int) -> tuple[str, int]:
        raw = buf[at : at + 8]
        if len(raw) < 8:
            raise _GGUFError("truncated string length")
        length = struct.unpack("<Q", raw)[0]
        if length > MAX_STRING or at + 8 + length > len(buf):
            raise _GGUFError(f"string of {length} bytes at {at} is out of bounds")
        return buf[at + 8 : at + 8 + length].decode("utf-8", errors="replace"), at + 8 + length

    def value(vtype: int, at: int, depth: int) -> tuple[Any, int]:
        if vtype in _GGUF_FIXED:
            return None, at + _GGUF_FIXED[vtype]
        if vtype == 8:
            return string(at)
        if vtype == 9 and depth < 3:
            raw = buf[at : at + 12]
            if len(raw) < 12:
                raise _GGUFError("truncated array")
            etype, count = struct.unpack("<IQ", raw)
            at += 12
            if etype in _GGUF_FIXED:
                return None, at + count * _GGUF_FIXED[etype]
            if count > 100_000_000:
                raise _GGUFError(f"array of {count} items")
            for _ in range(count):
                _, at = value(etype, at, depth + 1)
            return None, at
        raise _GGUFError(f"unknown value type {vtype} at {at}")

    for _ in range(n_kv):
        start = pos
        key, pos = string(pos)
        raw = buf[pos : pos + 4]
        if len(raw) < 4:
            raise _GGUFError("truncated value type")
        val, pos = value(struct.unpack("<I", raw)[0], pos + 4, 0)
        if pos > len(buf):
            raise _GGUFError("metadata runs past the end of the file")
        out.append((key, val, start))
    return out


def scan_gguf(s: BlobScanner, buf: Buffer, member: str | None, _name: str) -> None:
    try:
        pairs = _read_gguf_kv(buf)
    except (_GGUFError, struct.error) as exc:
        s.unverified(f"GGUF metadata cannot be read: {exc}", member)
        return
    for key, val, offset in pairs:
        if key.startswith("tokenizer.chat_template") and isinstance(val, str):
            try:
                problems = template_problems(val)
            except TemplateUnreadableError as exc:
                s.unverified(f"{key}: {exc}", member, offset)
                continue
            for problem in problems:
                s.add(rules.GGUF_TEMPLATE, f"{key}: {problem}", member, offset)


class TemplateUnreadableError(Exception):
    """The template cannot be checked (does not parse, or jinja2 is missing)."""


def _fold(node: Any, ctx: Any) -> Any:
    """The node's value if jinja2 can compute it without rendering (``as_const``)."""
    from jinja2 import nodes

    try:
        return node.as_const(ctx)
    except (nodes.Impossible, Exception):  # as_const raises whatever a filter raises
        return None


_SANDBOX_ESCAPES = frozenset(
    {"cycler", "joiner", "namespace", "lipsum", "self", "config", "request", "range_"}
)


def template_problems(source: str) -> list[str]:
    """Attribute and global access in a Jinja template that leaves the sandbox.

    The template is parsed by jinja2's own parser and walked; it is never rendered.
    """
    try:
        from jinja2 import Environment, nodes
        from jinja2.exceptions import TemplateSyntaxError
    except ImportError as exc:  # pragma: no cover - jinja2 is a dependency of aisec
        raise TemplateUnreadableError("jinja2 is not installed: template not checked") from exc
    try:
        tree = Environment(autoescape=True).parse(source)
    except (TemplateSyntaxError, RecursionError, MemoryError) as exc:
        raise TemplateUnreadableError(f"template does not parse: {exc}") from exc
    problems: list[str] = []
    ctx = nodes.EvalContext(Environment(autoescape=True))
    for node in tree.find_all(nodes.Node):
        attr: Any = None
        if isinstance(node, nodes.Getattr):
            attr = node.attr
        elif isinstance(node, nodes.Getitem):
            attr = _fold(node.arg, ctx)
        elif isinstance(node, nodes.Name) and node.ctx == "load":
            if node.name in _SANDBOX_ESCAPES:
                problems.append(f"uses the global {node.name!r} (line {node.lineno})")
            continue
        elif isinstance(node, nodes.Filter) and node.name == "attr":
            arg = node.args[0] if node.args else None
            attr = _fold(arg, ctx) if arg is not None else None
            if not isinstance(attr, str):
                problems.append(f"attr filter with a computed name (line {node.lineno})")
                continue
        elif isinstance(node, (nodes.Concat, nodes.Add, nodes.Filter, nodes.Const)):
            # a name built at render time ('__cla' ~ 'ss__', ['_','_']|join): folded here
            value = _fold(node, ctx)
            if isinstance(value, str) and "__" in value:
                problems.append(f"builds the string {value[:40]!r} (line {node.lineno})")
            continue
        if isinstance(attr, str) and (attr.startswith("_") or attr in ("mro", "func_globals")):
            problems.append(f"accesses attribute {attr!r} (line {node.lineno})")
    return problems


# ------------------------------------------------------------------ Keras
_KERAS_MODULES = ("keras", "tf_keras", "tensorflow.keras", "keras_hub", "keras_nlp", "keras_cv")


def keras_config_problems(config: Any) -> list[tuple[str, str]]:
    """(rule kind, detail) for Lambda layers and custom objects anywhere in a model config."""
    problems: list[tuple[str, str]] = []
    stack: list[tuple[Any, int]] = [(config, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > 200:
            problems.append(("unverified", "config nested deeper than 200 levels"))
            break
        if isinstance(node, dict):
            cls = node.get("class_name")
            if cls == "Lambda" or (cls == "TFOpLambda" and "function" in str(node.get("config"))):
                problems.append(("lambda", f"layer {_layer_name(node)!r} is a Lambda layer"))
            module = node.get("module")
            registered = node.get("registered_name")
            if isinstance(cls, str) and (
                (isinstance(module, str) and module and not module.startswith(_KERAS_MODULES))
                or (isinstance(registered, str) and registered and registered != cls)
            ):
                problems.append(("custom", f"{cls!r} from {module or registered!r}"))
            if cls == "function" or node.get("class_name") == "__lambda__":
                fmodule = module if isinstance(module, str) else ""
                if not fmodule.startswith(_KERAS_FUNCTION_MODULES):
                    problems.append(
                        ("lambda", f"function {node.get('config')!r} from {fmodule or '?'!r}")
                    )
            elif isinstance(module, str) and module.startswith(_KERAS_MODULES):
                problem = _keras_unsafe_builtin(module, cls, node.get("config"))
                if problem:
                    problems.append(("custom", problem))
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)
    return problems


#: Keras modules whose functions a config may name (activations, losses, metrics).
_KERAS_FUNCTION_MODULES = tuple(
    f"{root}.{sub}"
    for root in ("keras", "keras.src", "tf_keras", "tensorflow.keras")
    for sub in ("activations", "losses", "metrics", "ops")
)
#: Keras' own objects that reach outside the model: utilities, saving and file helpers.
_KERAS_UNSAFE_PARTS = ("utils", "saving", "export", "legacy", "applications")
_KERAS_FILE_LAYERS = frozenset({"StringLookup", "IntegerLookup", "TextVectorization"})


def _keras_unsafe_builtin(module: str, cls: Any, config: Any) -> str | None:
    """Keras' own objects outside its safe set: utility/saving modules used as layers,
    layers that load a SavedModel from a path, lookup layers that read a vocabulary file."""
    parts = module.split(".")
    if any(p in _KERAS_UNSAFE_PARTS for p in parts) or "src.legacy" in module:
        return f"{cls!r} from {module!r}: a Keras utility, not a layer"
    if cls == "TFSMLayer":
        return "TFSMLayer loads a TensorFlow SavedModel from a path when the model loads"
    if cls in _KERAS_FILE_LAYERS and isinstance(config, dict):
        vocab = config.get("vocabulary")
        if isinstance(vocab, str):
            return f"{cls} reads its vocabulary from the file {vocab!r}"
    return None


def _layer_name(node: dict[str, Any]) -> str:
    cfg = node.get("config")
    return str(cfg.get("name")) if isinstance(cfg, dict) else "?"


def _report_keras(s: BlobScanner, config: Any, member: str | None) -> None:
    kinds = {
        "lambda": rules.KERAS_LAMBDA,
        "custom": rules.KERAS_CUSTOM,
        "unverified": rules.UNVERIFIED,
    }
    for kind, detail in keras_config_problems(config):
        s.add(kinds[kind], detail, member)


def scan_keras_config(s: BlobScanner, buf: Buffer, member: str | None, _name: str) -> None:
    try:
        config = json.loads(buf[: len(buf)])
    except (ValueError, UnicodeDecodeError, RecursionError):
        s.unverified("Keras config.json is not valid JSON", member)
        return
    _report_keras(s, config, member)


def scan_hdf5(s: BlobScanner, buf: Buffer, member: str | None, _name: str) -> None:
    try:
        h5py: Any = importlib.import_module("h5py")  # optional extra, only for .h5 files
    except ImportError:
        s.unverified(
            "HDF5 file could not be verified: install aisec[h5] (h5py) to read its model_config",
            member,
        )
        return
    import io

    # a top-level file is opened by path (h5py reads only what it needs); a member in memory
    source: Any = s.path if member is None else io.BytesIO(buf[: len(buf)])
    try:
        with h5py.File(source, "r") as fh:
            raw = fh.attrs.get("model_config")
    except (OSError, ValueError, KeyError) as exc:
        s.unverified(f"HDF5 file cannot be read: {exc}", member)
        return
    if raw is None:
        return
    try:
        config = json.loads(raw.decode() if isinstance(raw, bytes) else str(raw))
    except (ValueError, UnicodeDecodeError, RecursionError):
        s.unverified("model_config attribute is not valid JSON", member)
        return
    _report_keras(s, config, member)


# ------------------------------------------------------------------ ONNX
# A bounded protobuf wire reader instead of the onnx package: onnx.load parses the whole
# model (weights included) into memory, and needs a native extension; these checks only need
# a few string fields, read here without allocating more than each field's length.
MAX_PROTO_DEPTH = 8


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf) or shift > 63:
            raise ValueError("bad varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return result, pos


def _fields(buf: bytes) -> list[tuple[int, int, Any]]:
    out: list[tuple[int, int, Any]] = []
    pos = 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        num, wire = key >> 3, key & 7
        val: Any
        if wire == 0:
            val, pos = _varint(buf, pos)
        elif wire == 1:
            val, pos = buf[pos : pos + 8], pos + 8
        elif wire == 5:
            val, pos = buf[pos : pos + 4], pos + 4
        elif wire == 2:
            length, pos = _varint(buf, pos)
            if pos + length > len(buf):
                raise ValueError("field runs past its message")
            val, pos = buf[pos : pos + length], pos + length
        else:
            raise ValueError(f"wire type {wire}")
        out.append((num, wire, val))
    return out


_STD_DOMAINS = frozenset(
    {"", "ai.onnx", "ai.onnx.ml", "ai.onnx.training", "ai.onnx.preview.training"}
)


def onnx_problems(data: bytes) -> list[tuple[str, str]]:
    """(kind, detail): external data locations, custom domains. Raises ValueError if the
    protobuf does not parse.

    External data is looked for in every place a loader reads a tensor from: graph
    initializers and sparse initializers, node attributes (tensor, tensors, sparse tensor(s))
    and the subgraphs they hold, model-local functions (their nodes and attribute defaults)
    and training-info graphs; field numbers are onnx.proto's.
    """
    problems: list[tuple[str, str]] = []
    locations: list[str] = []
    model = _fields(data)
    # (kind, payload, depth): kind names the message type of payload
    work: list[tuple[str, bytes, int]] = []
    for n, w, v in model:
        if w != 2:
            continue
        if n == 8:  # opset_import
            _custom_domain(v, 1, "opset imports", problems)
        elif n == 7:
            work.append(("graph", v, 0))
        elif n == 25:
            work.append(("function", v, 0))
        elif n == 20:  # training_info: initialization (1), algorithm (2)
            work.extend(("graph", g, 0) for m, ww, g in _fields(v) if m in (1, 2) and ww == 2)
    while work:
        kind, msg, depth = work.pop()
        if depth > MAX_PROTO_DEPTH:
            problems.append(("unverified", "subgraphs nested too deep"))
            break
        for n, w, v in _fields(msg):
            if w != 2:
                continue
            if kind in ("graph", "function") and n == (1 if kind == "graph" else 7):
                work.append(("node", v, depth))
            elif kind == "graph" and n == 5:
                work.append(("tensor", v, depth))
            elif kind == "graph" and n == 15:
                work.append(("sparse", v, depth))
            elif kind == "function" and n == 11:
                work.append(("attribute", v, depth))
            elif kind == "function" and n == 9:
                _custom_domain(v, 1, "function opset imports", problems)
            elif kind == "node" and n == 7:
                _custom_domain(v, None, "node uses operator", problems)
            elif kind == "node" and n == 5:
                work.append(("attribute", v, depth))
            elif kind == "attribute" and n in (5, 10):
                work.append(("tensor", v, depth))
            elif kind == "attribute" and n in (22, 23):
                work.append(("sparse", v, depth))
            elif kind == "attribute" and n in (6, 11):
                work.append(("graph", v, depth + 1))
            elif kind == "sparse" and n in (1, 2):
                work.append(("tensor", v, depth))
            elif kind == "tensor" and n == 13:  # external_data: StringStringEntryProto
                entry = {k: x for k, w2, x in _fields(v) if w2 == 2}
                if entry.get(1) == b"location":
                    locations.append(entry.get(2, b"").decode("utf-8", "replace"))
    for loc in locations:
        if _escapes(loc):
            problems.append(("external", f"external data location {loc!r}"))
        else:
            problems.append(("location", loc))
    return problems


def _custom_domain(
    msg: bytes, field_num: int | None, what: str, problems: list[tuple[str, str]]
) -> None:
    """``msg`` is an OperatorSetIdProto (domain is field 1) or, with None, the domain bytes."""
    raw = (
        msg
        if field_num is None
        else next((x for m, ww, x in _fields(msg) if m == field_num and ww == 2), b"")
    )
    domain = raw.decode("utf-8", "replace")
    if domain not in _STD_DOMAINS:
        problems.append(("custom", f"{what} domain {domain!r}"))


def _escapes(location: str) -> bool:
    if not location or "\x00" in location:
        return True
    if PureWindowsPath(location).is_absolute() or PureWindowsPath(location).drive:
        return True
    if PurePosixPath(location).is_absolute():
        return True
    norm = posixpath.normpath(location.replace("\\", "/"))
    return norm == ".." or norm.startswith("../")


def scan_onnx(s: BlobScanner, buf: Buffer, member: str | None, _name: str) -> None:
    if len(buf) > 2 * 1024 * 1024 * 1024:
        s.unverified("ONNX protobuf larger than 2 GiB (not a valid ONNX model)", member)
        return
    try:
        problems = onnx_problems(buf[: len(buf)])
    except (ValueError, IndexError) as exc:
        s.unverified(f"ONNX protobuf does not parse: {exc}", member)
        return
    kinds = {
        "custom": rules.ONNX_CUSTOM_OP,
        "external": rules.ONNX_EXTERNAL,
        "unverified": rules.UNVERIFIED,
    }
    seen: set[str] = set()
    for kind, detail in problems:
        if kind == "location":
            if member is None and detail not in seen:  # a file on disk: where it really points
                seen.add(detail)
                problem = _location_on_disk(s.path, detail)
                if problem:
                    s.add(rules.ONNX_EXTERNAL, problem, member)
            continue
        s.add(kinds[kind], detail, member)


def _location_on_disk(model_path: str, location: str) -> str | None:
    """A relative location that reaches outside the model's folder through a symlink (the
    loader follows links when it opens the file), or through a symlink at all."""
    from pathlib import Path

    base = Path(model_path).absolute().parent
    real_base = base.resolve()
    probe = base
    for part in PurePosixPath(location.replace("\\", "/")).parts:
        probe = probe / part
        if probe.is_symlink():
            real = probe.resolve()
            if not real.is_relative_to(real_base):
                return f"external data location {location!r} is a symlink to {str(real)!r}"
            return f"external data location {location!r} goes through a symlink"
    if not probe.resolve().is_relative_to(real_base):
        return f"external data location {location!r} resolves outside the model folder"
    return None


def scan_keras_unknown(s: BlobScanner, buf: Buffer, member: str | None, name: str) -> None:
    s.unverified("named as a Keras model but is neither a .keras zip nor HDF5", member)


EXTRA_SCANNERS = {
    "safetensors": scan_safetensors,
    "gguf": scan_gguf,
    "keras_config": scan_keras_config,
    "hdf5": scan_hdf5,
    "onnx": scan_onnx,
    "keras-unknown": scan_keras_unknown,
}

from aisec.deployment.scan._formats_hub import HUB_SCANNERS  # noqa: E402 - after _fields

EXTRA_SCANNERS.update(HUB_SCANNERS)
