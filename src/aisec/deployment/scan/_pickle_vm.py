"""A symbolic pickle machine: walks the opcodes, never imports or calls anything.

The opcodes are decoded by a loop of this module from the table in ``pickletools`` (genops
costs microseconds an opcode; a million-opcode file is then seconds); the loop keeps what
genops lacks: the stack and the memo, so that names built from memoised
strings (``STACK_GLOBAL`` after ``BINGET``) resolve, and a value graph the converter can
interpret. Values are plain Python data (ints, strs, bytes, tuples, lists) or the nodes below;
a callable appears only as a :class:`Global` and a call only as a :class:`Call` node.
"""

from __future__ import annotations

import codecs
import pickle
import pickletools
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from aisec.deployment.scan._policy import classify_callable, normalise_name

__all__ = [
    "Call",
    "Global",
    "Issue",
    "Opaque",
    "PDict",
    "PSet",
    "PersId",
    "PickleResult",
    "Reader",
    "run_pickle",
]

# bounds of memory, not of time: each opcode is at least one byte, so time is linear in the file
MAX_OPS = 100_000_000
MAX_STACK = 20_000_000
_RECONSTRUCTOR = ("copyreg", "_reconstructor")
#: Callables that deserialise a bytes argument with a full loader (``torch.load``): allowed
#: only with literal bytes, which the scanner then scans as a file of their own.
NESTED_LOADERS = frozenset({("torch.storage", "_load_from_bytes")})
_RECONSTRUCTOR_BASES = frozenset(
    ("builtins", n)
    for n in ("object", "dict", "list", "set", "frozenset", "tuple", "int", "float", "str")
)
_DEFERRED = frozenset({_RECONSTRUCTOR, ("builtins", "object"), *NESTED_LOADERS})
_STRING_OPS = frozenset(
    {
        "STRING",
        "BINSTRING",
        "SHORT_BINSTRING",
        "UNICODE",
        "BINUNICODE",
        "SHORT_BINUNICODE",
        "BINUNICODE8",
    }
)


class Reader(Protocol):
    """What genops and the joblib hook need from a byte source."""

    def read(self, n: int = -1, /) -> bytes: ...
    def readline(self, limit: int = -1, /) -> bytes: ...
    def tell(self) -> int: ...
    def seek(self, offset: int, whence: int = 0, /) -> int: ...


class _Mark:
    __slots__ = ()


_MARK = _Mark()


@dataclass(eq=False, slots=True)
class Global:
    module: str
    name: str
    offset: int

    @property
    def qualname(self) -> str:
        return f"{self.module}.{self.name}"


@dataclass(eq=False, slots=True)
class Call:
    func: Any
    args: Any
    offset: int
    kwargs: Any = None
    states: list[Any] = field(default_factory=list)
    items: list[Any] = field(default_factory=list)


@dataclass(eq=False, slots=True)
class PDict:
    pairs: list[tuple[Any, Any]] = field(default_factory=list)


@dataclass(eq=False, slots=True)
class PSet:
    items: list[Any] = field(default_factory=list)


@dataclass(eq=False, slots=True)
class PersId:
    pid: Any
    offset: int


@dataclass(eq=False, slots=True)
class Opaque:
    why: str


@dataclass(frozen=True, slots=True)
class Issue:
    """Something the scanner reports: ``kind`` is dangerous, unsafe, mutation or unverified."""

    kind: str
    offset: int
    detail: str
    callable: str | None = None


@dataclass(slots=True)
class PickleResult:
    value: Any
    issues: list[Issue]
    imports: list[Global]
    end: int
    complete: bool
    nested: list[tuple[bytes, int, str]] = field(default_factory=list)


class _MalformedError(Exception):
    pass


BuildHook = Callable[[Any, Reader, int], Any]


_CHUNK = 1 << 20
# Bytes kept ahead of the decoder: the longest opcode handled inline (SHORT_BINUNICODE or
# SHORT_BINBYTES: the opcode, a length byte, 255 bytes) never reaches past the buffer unless
# the input ends there. (With 9, a short string across a 1 MiB refill read as truncated.)
_AHEAD = 1 + 1 + 255
_OPCODES = {ord(o.code): o for o in pickletools.opcodes}
MAX_LINE = 64 * 1024 * 1024
_COUNT_SIZE = {
    pickletools.TAKEN_FROM_ARGUMENT1: 1,
    pickletools.TAKEN_FROM_ARGUMENT4: 4,
    pickletools.TAKEN_FROM_ARGUMENT4U: 4,
    pickletools.TAKEN_FROM_ARGUMENT8U: 8,
}


def _fmt(fmt: str) -> Callable[[bytes, int], Any]:
    unpack = struct.Struct(fmt).unpack_from
    return lambda data, p: unpack(data, p)[0]


#: Decoders of the fixed-size arguments, by opcode byte (sizes from pickletools' table).
_FIXED: dict[int, Callable[[bytes, int], Any]] = {
    ord("K"): _fmt("<B"),
    ord("M"): _fmt("<H"),
    ord("J"): _fmt("<i"),
    ord("G"): _fmt(">d"),
    ord("h"): _fmt("<B"),
    ord("j"): _fmt("<I"),
    ord("q"): _fmt("<B"),
    ord("r"): _fmt("<I"),
    0x82: _fmt("<B"),
    0x83: _fmt("<H"),
    0x84: _fmt("<i"),
    0x80: _fmt("<B"),
    0x95: _fmt("<Q"),
}
_TEXT_COUNTED = frozenset(b"UT")  # SHORT_BINSTRING, BINSTRING: str, as genops gives them
_UNICODE_COUNTED = frozenset((0x8C, ord("X"), 0x8D))
_LONG_COUNTED = frozenset((0x8A, 0x8B))


def _decode_counted(op: int, raw: bytes) -> Any:
    if op in _UNICODE_COUNTED:
        return str(raw, "utf-8", "surrogatepass")
    if op in _TEXT_COUNTED:
        return raw.decode("latin-1")
    if op in _LONG_COUNTED:
        return int.from_bytes(raw, "little", signed=True)
    return raw  # BINBYTES, SHORT_BINBYTES, BINBYTES8, BYTEARRAY8


def _decode_line(op: int, lines: list[bytes]) -> Any:
    """The newline-terminated arguments of protocol 0, decoded as the unpickler does."""
    line = lines[0]
    if op in (ord("c"), ord("i")):
        return f"{line.decode('utf-8')} {lines[1].decode('utf-8')}"
    if op in (ord("I"), ord("g"), ord("p")):
        if op == ord("I") and line in (b"00", b"01"):
            return line == b"01"
        return int(line)
    if op == ord("L"):
        return int(line[:-1] if line.endswith(b"L") else line)
    if op == ord("F"):
        return float(line)
    if op == ord("S"):
        if len(line) < 2 or line[:1] != line[-1:] or line[:1] not in (b"'", b'"'):
            raise _MalformedError("STRING argument is not quoted")
        return codecs.escape_decode(line[1:-1])[0].decode("latin-1")
    if op == ord("V"):
        return str(line, "raw-unicode-escape")
    return line.decode("ascii")  # PERSID


def _literal_bytes(value: Any) -> bytes | None:
    """Bytes as pickles spell them: a literal, or protocol 2's ``_codecs.encode(s, 'latin1')``."""
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if (
        isinstance(value, Call)
        and isinstance(value.func, Global)
        and value.func.qualname == "_codecs.encode"
        and isinstance(value.args, tuple)
        and len(value.args) == 2
        and isinstance(value.args[0], str)
        and value.args[1] == "latin1"
    ):
        try:
            return value.args[0].encode("latin1")
        except UnicodeEncodeError:
            return None
    return None


def _pop_mark(stack: list[Any]) -> list[Any]:
    for i in range(len(stack) - 1, -1, -1):
        if stack[i] is _MARK:
            items = stack[i + 1 :]
            del stack[i:]
            return items
    raise _MalformedError("no MARK on the stack")


def _pop(stack: list[Any]) -> Any:
    if not stack:
        raise _MalformedError("stack underflow")
    value = stack.pop()
    if value is _MARK:
        raise _MalformedError("MARK where a value was expected")
    return value


def _top(stack: list[Any]) -> Any:
    if not stack or stack[-1] is _MARK:
        raise _MalformedError("stack underflow")
    return stack[-1]


def run_pickle(
    reader: Reader,
    *,
    base: int = 0,
    on_build: BuildHook | None = None,
    max_ops: int = MAX_OPS,
    torchscript: bool = False,
) -> PickleResult:
    """Walk one pickle from ``reader``'s position to its STOP; offsets are ``base`` + position.

    Never raises on hostile input: a problem becomes an ``unverified`` issue and
    ``complete=False``.
    """
    vm = _Machine(reader, base, on_build, max_ops)
    vm.torchscript = torchscript
    return vm.run()


class _Machine:
    def __init__(self, reader: Reader, base: int, on_build: BuildHook | None, max_ops: int) -> None:
        self.reader = reader
        self.base = base
        self.on_build = on_build
        self.max_ops = max_ops
        self.stack: list[Any] = []
        self.memo: dict[int, Any] = {}
        self.issues: list[Issue] = []
        self.imports: list[Global] = []
        self.pending: dict[int, Global] = {}
        self.nested: list[tuple[bytes, int, str]] = []
        self.torchscript = False
        self._hooked = False
        self._resume = 0
        self.pos = 0

    def _unverified(self, detail: str) -> PickleResult:
        self.issues.append(Issue("unverified", self.base + self.pos, detail))
        return PickleResult(
            None, self.issues, self.imports, self.base + self.pos, False, self.nested
        )

    def _finish(self, value: Any) -> PickleResult:
        for g in self.pending.values():  # imported, never used as loaders use it
            kind = classify_callable(g.module, g.name)
            self.issues.append(
                Issue(
                    "dangerous" if kind == "dangerous" else "unsafe",
                    g.offset,
                    f"GLOBAL {g.qualname}",
                    g.qualname,
                )
            )
        end = self.base + self.reader.tell()
        return PickleResult(value, self.issues, self.imports, end, True, self.nested)

    def run(self) -> PickleResult:
        try:
            return self._loop()
        except _MalformedError as exc:
            return self._unverified(f"malformed pickle: {exc}")
        except (ValueError, EOFError, UnicodeDecodeError, OverflowError, MemoryError) as exc:
            return self._unverified(f"pickle cannot be parsed: {exc}")

    def _fill(self, data: bytes, p: int, at: int, n: int) -> tuple[bytes, int]:
        """Keep ``data[p:]`` and read on so that at least ``n`` bytes follow (if the file has
        them). Returns the new buffer and the reader offset of its first byte."""
        rest = data[p:]
        more = self.reader.read(max(_CHUNK, n - len(rest)))
        return rest + more, at + p

    def _loop(self) -> PickleResult:
        """Decode the opcodes straight from the bytes (the layout ``pickletools`` documents):
        a hand-written decoder because ``genops`` costs several microseconds an opcode and a
        million-opcode file must not hold a CI gate. Hot opcodes are handled inline; the rest
        go through :meth:`_step` with the argument decoded as genops would."""
        reader = self.reader
        stack = self.stack
        memo = self.memo
        at = reader.tell()
        data = b""
        p = 0
        ops = 0
        max_ops = self.max_ops
        ended = False  # the reader has nothing after ``data``: no refill near its end
        try:
            while True:
                if p + _AHEAD > len(data) and not ended:
                    before = len(data) - p
                    data, at = self._fill(data, p, at, _AHEAD)
                    ended = len(data) - before < _CHUNK
                    p = 0
                    if not data:
                        self.pos = at
                        return self._unverified("pickle ends before STOP")
                    # bounds checked once a chunk and on every uncommon opcode
                    if ops > max_ops:
                        self.pos = at
                        return self._unverified(f"more than {max_ops} opcodes")
                    if len(stack) > MAX_STACK or len(memo) > MAX_STACK:
                        self.pos = at
                        return self._unverified(f"stack or memo larger than {MAX_STACK}")
                if p >= len(data):
                    self.pos = at + p
                    return self._unverified("pickle ends before STOP")
                op = data[p]
                p += 1
                ops += 1
                # ---- inline: the opcodes real and hostile pickles are made of
                if op == 0x94:  # MEMOIZE
                    memo[len(memo)] = _top(stack)
                elif op == 0x8C:  # SHORT_BINUNICODE
                    n = data[p] if p < len(data) else 0
                    if p + 1 + n > len(data):
                        raise EOFError("truncated SHORT_BINUNICODE")
                    stack.append(str(data[p + 1 : p + 1 + n], "utf-8", "surrogatepass"))
                    p += 1 + n
                elif op == 0x4B:  # BININT1 K
                    if p >= len(data):
                        raise EOFError("truncated BININT1")
                    stack.append(data[p])
                    p += 1
                elif op == 0x68:  # BINGET h
                    if p >= len(data):
                        raise EOFError("truncated BINGET")
                    key = data[p]
                    p += 1
                    if key not in memo:
                        raise _MalformedError(f"memo key {key} read before it is written")
                    stack.append(memo[key])
                elif op == 0x71:  # BINPUT q
                    if p >= len(data):
                        raise EOFError("truncated BINPUT")
                    memo[data[p]] = _top(stack)
                    p += 1
                elif op == 0x28:  # MARK
                    stack.append(_MARK)
                elif op == 0x61:  # APPEND
                    value = _pop(stack)
                    target = _top(stack)
                    if type(target) is list:
                        target.append(value)
                    else:
                        self._append(target, [value])
                elif op == 0x85:  # TUPLE1
                    stack.append((_pop(stack),))
                elif op in (0x86, 0x87):  # TUPLE2, TUPLE3
                    items = [_pop(stack) for _ in range(op - 0x84)]
                    items.reverse()
                    stack.append(tuple(items))
                elif op == 0x74:  # TUPLE
                    stack.append(tuple(_pop_mark(stack)))
                elif op == 0x75:  # SETITEMS
                    items = _pop_mark(stack)
                    self._setitems(_top(stack), items)
                elif op == 0x65:  # APPENDS
                    items = _pop_mark(stack)
                    self._append(_top(stack), items)
                elif op == 0x29:  # EMPTY_TUPLE
                    stack.append(())
                elif op == 0x5D:  # EMPTY_LIST
                    stack.append([])
                elif op == 0x7D:  # EMPTY_DICT
                    stack.append(PDict())
                elif op == 0x4E:  # NONE
                    stack.append(None)
                elif op == 0x88:  # NEWTRUE
                    stack.append(True)
                elif op == 0x89:  # NEWFALSE
                    stack.append(False)
                elif op == 0x4A:  # BININT J: a signed 4-byte integer
                    if p + 4 > len(data):
                        raise EOFError("truncated BININT")
                    stack.append(int.from_bytes(data[p : p + 4], "little", signed=True))
                    p += 4
                elif op == 0x43:  # SHORT_BINBYTES C
                    n = data[p] if p < len(data) else 0
                    if p + 1 + n > len(data):
                        raise EOFError("truncated SHORT_BINBYTES")
                    stack.append(data[p + 1 : p + 1 + n])
                    p += 1 + n
                elif op == 0x30:  # POP
                    if not stack:
                        raise _MalformedError("stack underflow")
                    stack.pop()
                elif op == 0x2E:  # STOP
                    value = _pop(stack)
                    reader.seek(at + p)
                    return self._finish(value)
                elif op == 0x95:  # FRAME: framing does not change the opcode stream
                    p += 8
                elif op == 0x80:  # PROTO
                    if p >= len(data):
                        raise EOFError("truncated PROTO")
                    if data[p] > pickle.HIGHEST_PROTOCOL:
                        raise _MalformedError(f"unsupported pickle protocol {data[p]}")
                    p += 1
                else:
                    # ---- the rest: decode the argument, then the shared handlers
                    self.pos = at + p - 1
                    if ops > max_ops:
                        return self._unverified(f"more than {max_ops} opcodes")
                    code = _OPCODES.get(op)
                    if code is None:
                        raise _MalformedError(f"opcode {op:#04x} unknown at {at + p - 1}")
                    width = code.arg.n if code.arg is not None else 0
                    arg: Any = None
                    if width > 0:  # fixed-size arguments
                        if p + width > len(data):
                            raise EOFError(f"truncated {code.name}")
                        arg = _FIXED[op](data, p)
                        p += width
                    elif width in _COUNT_SIZE:
                        size = _COUNT_SIZE[width]
                        if p + size > len(data):
                            raise EOFError(f"truncated {code.name}")
                        length = int.from_bytes(
                            data[p : p + size],
                            "little",
                            signed=width == pickletools.TAKEN_FROM_ARGUMENT4,
                        )
                        p += size
                        if length < 0:
                            raise _MalformedError(f"{code.name} with a negative length")
                        if p + length > len(data):
                            data, at = self._fill(data, p, at, length)
                            p = 0
                            if length > len(data):
                                raise EOFError(f"truncated {code.name}")
                        arg = _decode_counted(op, data[p : p + length])
                        p += length
                    elif width == pickletools.UP_TO_NEWLINE:
                        lines = []
                        for _ in range(2 if op in (0x63, 0x69) else 1):  # GLOBAL, INST: two lines
                            hit = data.find(b"\n", p)
                            while hit < 0 and len(data) - p < MAX_LINE:
                                before = len(data) - p
                                data, at = self._fill(data, p, at, before + _CHUNK)
                                p = 0
                                if len(data) == before:
                                    break
                                hit = data.find(b"\n", p)
                            if hit < 0:
                                raise EOFError(f"{code.name} line has no newline")
                            lines.append(data[p:hit])
                            p = hit + 1
                        arg = _decode_line(op, lines)
                    if op == 0x62:  # BUILD: a hook reads what follows it from the reader
                        self._resume = at + p
                    self._step(code.name, arg)
                    if self._hooked:
                        self._hooked = False
                        if reader.tell() != self._resume:  # the hook consumed bytes
                            data, at, p, ended = b"", reader.tell(), 0, False
                        else:
                            reader.seek(at + len(data))
        except (_MalformedError, ValueError, EOFError, UnicodeDecodeError, OverflowError):
            self.pos = at + p - 1  # the opcode that failed
            raise

    # ------------------------------------------------------------------ opcodes
    def _global(self, module: Any, name: Any, op: str) -> Any:
        offset = self.base + self.pos
        if not isinstance(module, str) or not isinstance(name, str):
            self.issues.append(
                Issue(
                    "unsafe",
                    offset,
                    f"{op} takes a module or name that is computed at load time",
                )
            )
            return Opaque("computed global")
        module, name = normalise_name(module, name)
        g = Global(module, name, offset)
        self.imports.append(g)
        if self.torchscript and (module.startswith("__torch__") or module == "torch.jit._pickle"):
            # torch.jit.load's C++ unpickler: the archive's own compiled classes and its list
            # builders, never a Python import
            return g
        if (module, name) in _DEFERRED:
            self.pending[id(g)] = g  # judged where it is used: see _check_reconstructor
            return g
        verdict = classify_callable(module, name)
        if verdict == "dangerous":
            self.issues.append(Issue("dangerous", offset, f"{op} {g.qualname}", g.qualname))
        elif verdict == "unknown":
            self.issues.append(Issue("unsafe", offset, f"{op} {g.qualname}", g.qualname))
        return g

    def _call(self, func: Any, args: Any, op: str, kwargs: Any = None) -> Call:
        offset = self.base + self.pos
        if not isinstance(func, Global):
            self.issues.append(
                Issue("unsafe", offset, f"{op} calls a value computed at load time, not an import")
            )
        elif (func.module, func.name) == _RECONSTRUCTOR:
            self._check_reconstructor(func, args, offset)
        elif (func.module, func.name) in NESTED_LOADERS:
            self.pending.pop(id(func), None)
            data = _literal_bytes(args[0]) if isinstance(args, tuple) and len(args) == 1 else None
            if data is not None:
                self.nested.append((data, offset, func.qualname))
            else:
                self.issues.append(
                    Issue(
                        "dangerous",
                        offset,
                        f"{func.qualname} loads bytes computed at load time",
                        func.qualname,
                    )
                )
        return Call(func, args, offset, kwargs)

    def _check_reconstructor(self, func: Global, args: Any, offset: int) -> None:
        """``copyreg._reconstructor(cls, base, state)`` (protocols 0 and 1, and subclasses of
        builtins) runs ``base.__new__(cls)`` and ``base.__init__(obj, state)``: safe when
        ``base`` is ``object`` or a builtin container and ``cls`` is an import (itself
        classified where it is imported)."""
        self.pending.pop(id(func), None)  # called: judged here
        ok = (
            isinstance(args, tuple)
            and len(args) == 3
            and isinstance(args[0], Global)
            and isinstance(args[1], Global)
            and (args[1].module, args[1].name) in _RECONSTRUCTOR_BASES
        )
        if ok:
            self.pending.pop(id(args[1]), None)
        else:
            self.issues.append(
                Issue(
                    "dangerous",
                    offset,
                    "copyreg._reconstructor called with a base other than object or a builtin "
                    "container",
                    func.qualname,
                )
            )

    def _step(self, name: str, arg: Any) -> None:
        stack = self.stack
        if name in _STRING_OPS:
            stack.append(arg)
        elif name in ("GLOBAL", "INST"):
            module, _, attr = str(arg).partition(" ")
            g = self._global(module, attr, name)
            if name == "INST":
                stack.append(self._call(g, tuple(_pop_mark(stack)), name))
            else:
                stack.append(g)
        elif name == "STACK_GLOBAL":
            attr = _pop(stack)
            module = _pop(stack)
            stack.append(self._global(module, attr, name))
        elif name == "REDUCE":
            args = _pop(stack)
            func = _pop(stack)
            stack.append(self._call(func, args, name))
        elif name == "NEWOBJ":
            args = _pop(stack)
            cls = _pop(stack)
            stack.append(self._call(cls, args, name))
        elif name == "NEWOBJ_EX":
            kwargs = _pop(stack)
            args = _pop(stack)
            cls = _pop(stack)
            stack.append(self._call(cls, args, name, kwargs))
        elif name == "OBJ":
            items = _pop_mark(stack)
            if not items:
                raise _MalformedError("OBJ without a class")
            stack.append(self._call(items[0], tuple(items[1:]), name))
        elif name == "BUILD":
            state = _pop(stack)
            obj = _top(stack)
            if isinstance(obj, Global):
                self.issues.append(
                    Issue(
                        "mutation",
                        self.base + self.pos,
                        f"BUILD sets state on {obj.qualname}",
                        obj.qualname,
                    )
                )
            elif isinstance(obj, Call):
                obj.states.append(state)
            if self.on_build is not None:
                self.reader.seek(self._resume)
                self._hooked = True
                try:
                    replacement = self.on_build(obj, self.reader, self.base)
                except Exception as exc:  # a hook's failure is an unverifiable pickle
                    raise _MalformedError(str(exc)) from exc
                if replacement is not None:
                    stack[-1] = replacement
        elif name in ("EXT1", "EXT2", "EXT4"):
            self.issues.append(
                Issue(
                    "unsafe",
                    self.base + self.pos,
                    f"{name} {arg}: a callable from the copyreg extension registry, "
                    "which is only known at load time",
                )
            )
            stack.append(Opaque("extension"))
        elif name in ("PUT", "BINPUT", "LONG_BINPUT"):
            self.memo[int(arg)] = _top(stack)
        elif name == "MEMOIZE":
            self.memo[len(self.memo)] = _top(stack)
        elif name in ("GET", "BINGET", "LONG_BINGET"):
            if int(arg) not in self.memo:
                raise _MalformedError(f"memo key {arg} read before it is written")
            stack.append(self.memo[int(arg)])
        else:
            self._data_op(name, arg)

    def _data_op(self, name: str, arg: Any) -> None:
        stack = self.stack
        if name == "MARK":
            stack.append(_MARK)
        elif name in ("PROTO", "FRAME", "READONLY_BUFFER"):
            return
        elif name == "POP":
            if not stack:
                raise _MalformedError("stack underflow")
            stack.pop()
        elif name == "POP_MARK":
            _pop_mark(stack)
        elif name == "DUP":
            stack.append(_top(stack))
        elif name in ("EMPTY_DICT",):
            stack.append(PDict())
        elif name == "DICT":
            items = _pop_mark(stack)
            stack.append(PDict(list(zip(items[::2], items[1::2], strict=False))))
        elif name == "EMPTY_LIST":
            stack.append([])
        elif name == "LIST":
            stack.append(_pop_mark(stack))
        elif name == "EMPTY_TUPLE":
            stack.append(())
        elif name == "TUPLE":
            stack.append(tuple(_pop_mark(stack)))
        elif name in ("TUPLE1", "TUPLE2", "TUPLE3"):
            n = int(name[-1])
            items = [_pop(stack) for _ in range(n)]
            stack.append(tuple(reversed(items)))
        elif name == "EMPTY_SET":
            stack.append(PSet())
        elif name == "FROZENSET":
            stack.append(PSet(_pop_mark(stack)))
        elif name == "APPEND":
            value = _pop(stack)
            self._append(_top(stack), [value])
        elif name == "APPENDS":
            items = _pop_mark(stack)
            self._append(_top(stack), items)
        elif name == "ADDITEMS":
            items = _pop_mark(stack)
            target = _top(stack)
            if isinstance(target, PSet):
                target.items.extend(items)
            else:
                self._append(target, items)
        elif name == "SETITEM":
            value = _pop(stack)
            key = _pop(stack)
            self._setitems(_top(stack), [key, value])
        elif name == "SETITEMS":
            items = _pop_mark(stack)
            self._setitems(_top(stack), items)
        elif name == "BINPERSID":
            pid = _pop(stack)
            stack.append(PersId(pid, self.base + self.pos))
        elif name == "PERSID":
            stack.append(PersId(arg, self.base + self.pos))
        elif name in ("NONE",):
            stack.append(None)
        elif name == "NEWTRUE":
            stack.append(True)
        elif name == "NEWFALSE":
            stack.append(False)
        elif name == "NEXT_BUFFER":
            stack.append(Opaque("out-of-band buffer"))
        else:
            # ints, floats, bytes, bytearray8: genops already decoded the argument
            stack.append(arg)

    def _append(self, target: Any, items: list[Any]) -> None:
        if isinstance(target, list):
            target.extend(items)
        elif isinstance(target, (Call, PSet)):
            target.items.extend(items)
        else:
            raise _MalformedError(f"APPEND to a {type(target).__name__}")

    def _setitems(self, target: Any, items: list[Any]) -> None:
        if len(items) % 2:
            raise _MalformedError("SETITEMS with an odd number of items")
        pairs = list(zip(items[::2], items[1::2], strict=True))
        if isinstance(target, PDict):
            target.pairs.extend(pairs)
        elif isinstance(target, Call):
            target.items.extend(pairs)
        else:
            raise _MalformedError(f"SETITEM on a {type(target).__name__}")
