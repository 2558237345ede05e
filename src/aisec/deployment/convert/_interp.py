"""The restricted interpreter: turns a symbolic pickle graph into tensor descriptions.

Only the allowlisted reconstructors are interpreted, each in a few lines here; anything else
is refused by name. Nothing is imported from the pickle and nothing in it is called.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aisec.core.errors import FormatError
from aisec.deployment.scan._pickle_vm import Call, Global, PDict, PersId

__all__ = [
    "ITEMSIZE",
    "NUMPY_NAMES",
    "Array",
    "Interpreter",
    "Storage",
    "Tensor",
    "flatten",
    "refuse",
]

STORAGE_DTYPES = {
    "DoubleStorage": "float64",
    "FloatStorage": "float32",
    "HalfStorage": "float16",
    "BFloat16Storage": "bfloat16",
    "LongStorage": "int64",
    "IntStorage": "int32",
    "ShortStorage": "int16",
    "CharStorage": "int8",
    "ByteStorage": "uint8",
    "BoolStorage": "bool",
    "ComplexFloatStorage": "complex64",
}
ITEMSIZE = {
    "float64": 8,
    "float32": 4,
    "float16": 2,
    "bfloat16": 2,
    "int64": 8,
    "int32": 4,
    "int16": 2,
    "int8": 1,
    "uint8": 1,
    "uint16": 2,
    "uint32": 4,
    "uint64": 8,
    "bool": 1,
    "complex64": 8,
    "float8_e4m3fn": 1,
    "float8_e5m2": 1,
    "float8_e4m3fnuz": 1,
    "float8_e5m2fnuz": 1,
    "float8_e8m0fnu": 1,
}
NUMPY_NAMES = {
    "float64",
    "float32",
    "float16",
    "int64",
    "int32",
    "int16",
    "int8",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "bool",
    "complex64",
}


@dataclass(frozen=True, slots=True)
class Storage:
    key: str
    dtype: str | None  # None: untyped (bytes); the tensor says its dtype
    numel: int


@dataclass(frozen=True, slots=True)
class Tensor:
    storage: Storage
    dtype: str
    offset: int
    shape: tuple[int, ...]
    stride: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Array:
    """A NumPy array that came out of a plain pickle (already materialised)."""

    array: Any


def refuse(what: str) -> FormatError:
    return FormatError(f"refusing to convert: {what} is not tensor data")


def _name(value: Any) -> str:
    if isinstance(value, Global):
        return value.qualname
    if isinstance(value, Call):
        return f"a call of {_name(value.func)}"
    return type(value).__name__


class Interpreter:
    """Interprets the allowlisted reconstructors of a symbolic pickle graph."""

    def __init__(self, np: Any) -> None:
        self.np = np
        self.storages: dict[str, Storage] = {}

    def value(self, node: Any, depth: int = 0) -> Any:
        if depth > 100:
            raise refuse("a structure nested deeper than 100 levels")
        if node is None or isinstance(node, bool | int | float | str | bytes):
            return node
        if isinstance(node, bytearray):
            return bytes(node)
        if isinstance(node, tuple):
            return tuple(self.value(x, depth + 1) for x in node)
        if isinstance(node, list):
            return [self.value(x, depth + 1) for x in node]
        if isinstance(node, PDict):
            return self._dict(node.pairs, depth)
        if isinstance(node, PersId):
            return self._storage(node.pid)
        if isinstance(node, Global) and node.module == "torch" and node.name in ITEMSIZE:
            return ("dtype", node.name)
        if isinstance(node, Call) and isinstance(node.func, Global):
            return self._call(node, depth)
        raise refuse(_name(node))

    def _dict(self, pairs: list[tuple[Any, Any]], depth: int) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        for k, v in pairs:
            key = self.value(k, depth + 1)
            if not isinstance(key, str | int):
                raise refuse(f"a dictionary key of type {type(key).__name__}")
            out[key] = self.value(v, depth + 1)
        return out

    def _storage(self, pid: Any) -> Storage:
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage"):
            raise refuse("a persistent id that is not a storage")
        stype, key, numel = pid[1], pid[2], pid[4]
        if not isinstance(stype, Global) or not isinstance(key, str) or not isinstance(numel, int):
            raise refuse("a malformed storage reference")
        if len(pid) > 5 and pid[5] is not None:
            raise refuse("a legacy storage view")
        if stype.qualname == "torch.storage.UntypedStorage":
            dtype = None
        elif stype.module == "torch" and stype.name in STORAGE_DTYPES:
            dtype = STORAGE_DTYPES[stype.name]
        else:
            raise refuse(f"storage type {stype.qualname}")
        storage = Storage(key, dtype, numel)
        self.storages.setdefault(key, storage)
        return storage

    def _call(self, node: Call, depth: int) -> Any:
        name = node.func.qualname
        if name == "collections.OrderedDict":
            if node.args not in ((), [], None) and node.args != ((),):
                raise refuse("OrderedDict built from arguments")
            return self._dict([p for p in node.items if isinstance(p, tuple)], depth)
        if name in ("numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct"):
            return self._np_array(node, depth)
        args = self.value(node.args, depth + 1)
        if not isinstance(args, tuple):
            raise refuse(f"{name} with arguments that are not a tuple")
        if name in ("torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor_v3"):
            return self._tensor(name, args)
        if name in (
            "torch._utils._rebuild_parameter",
            "torch._utils._rebuild_parameter_with_state",
        ):
            if not args or not isinstance(args[0], Tensor | Array):
                raise refuse(f"{name} of something other than a tensor")
            return args[0]
        if name == "torch._tensor._rebuild_from_type_v2" and len(args) == 4:
            inner = Call(node.args[0], node.args[2], node.offset)
            return self.value(inner, depth + 1)
        if name == "_codecs.encode" and len(args) == 2 and isinstance(args[0], str):
            return args[0].encode("latin1")
        if name == "numpy.dtype":
            return self._np_dtype(node, args)
        if name in ("numpy.core.numeric._frombuffer", "numpy._core.numeric._frombuffer"):
            return self._np_frombuffer(args)
        raise refuse(name)

    def _tensor(self, name: str, args: tuple[Any, ...]) -> Tensor:
        if len(args) < 4:
            raise refuse(f"{name} with {len(args)} arguments")
        storage, offset, size, stride = args[:4]
        if not isinstance(storage, Storage):
            raise refuse("a tensor whose storage is not a checkpoint storage")
        if name.endswith("v3"):
            dtype_arg = args[6] if len(args) > 6 else None
            if not (isinstance(dtype_arg, tuple) and dtype_arg[:1] == ("dtype",)):
                raise refuse("a tensor without a dtype")
            dtype = dtype_arg[1]
        elif storage.dtype is None:
            raise refuse("an untyped storage without a dtype")
        else:
            dtype = storage.dtype
        if not isinstance(size, tuple) or not isinstance(stride, tuple):
            raise refuse("a tensor whose size or stride is not a tuple")
        ints = (offset, *size, *stride)
        if (
            not all(isinstance(x, int) and not isinstance(x, bool) and x >= 0 for x in ints)
            or len(size) != len(stride)
            or len(size) > 64
        ):
            raise refuse("a tensor with a malformed size or stride")
        return Tensor(storage, dtype, offset, tuple(size), tuple(stride))

    def _np_dtype(self, node: Call, args: tuple[Any, ...]) -> Any:
        if not args or not isinstance(args[0], str):
            raise refuse("a NumPy dtype without a type code")
        code = args[0]
        state = self.value(node.states[-1]) if node.states else None
        if isinstance(state, tuple) and len(state) > 3 and state[3] is not None:
            raise refuse("a structured NumPy dtype")
        order = state[1] if isinstance(state, tuple) and len(state) > 1 else "|"
        dt = self.np.dtype((order if order in "<>" else "") + code)
        if dt.hasobject:
            raise refuse("a NumPy object array")
        return dt

    def _np_frombuffer(self, args: tuple[Any, ...]) -> Array:
        if (
            len(args) != 4
            or not isinstance(args[0], bytes)
            or not isinstance(args[1], self.np.dtype)
            or not isinstance(args[2], tuple)
        ):
            raise refuse("a NumPy buffer with unexpected arguments")
        raw, dt, shape, order = args
        count = 1
        for d in shape:
            count *= int(d)
        if count * dt.itemsize != len(raw):
            raise FormatError("NumPy array data does not match its shape")
        return Array(self.np.frombuffer(raw, dtype=dt).reshape(shape, order=order))

    def _np_array(self, node: Call, depth: int) -> Array:
        if not node.states:
            raise refuse("a NumPy array without data")
        state = self.value(node.states[-1], depth + 1)
        if not (isinstance(state, tuple) and len(state) == 5):
            raise refuse("a NumPy array state")
        _version, shape, dt, fortran, raw = state
        if not isinstance(dt, self.np.dtype) or not isinstance(raw, bytes):
            raise refuse("a NumPy array with an object or unknown dtype")
        count = 1
        for d in shape:
            count *= int(d)
        if count * dt.itemsize != len(raw):
            raise FormatError("NumPy array data does not match its shape")
        arr = self.np.frombuffer(raw, dtype=dt).reshape(shape, order="F" if fortran else "C")
        return Array(arr)


def flatten(value: Any, prefix: str, out: dict[str, Any]) -> None:
    if isinstance(value, Tensor | Array):
        out[prefix] = value
        return
    if isinstance(value, dict):
        for key, item in value.items():
            flatten(item, f"{prefix}.{key}" if prefix else str(key), out)
        return
    raise refuse(f"{prefix or 'the top-level object'} ({type(value).__name__})")
