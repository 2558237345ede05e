"""Which callables a pickle may reach: a documented allowlist and a denylist.

Safety is decided by the allowlist alone. Anything a pickle imports that is not listed here
is a finding; the denylist only raises such a finding to ``critical`` because the callable
is known to run commands, evaluate code, open files or sockets, or import modules.

Names are compared after the stdlib's Python 2 to 3 renames (``__builtin__`` ->
``builtins``, ``copy_reg`` -> ``copyreg``), which the unpickler applies to protocols < 3.
"""

from __future__ import annotations

import _compat_pickle

__all__ = ["SAFE_CALLABLES", "classify_callable", "normalise_name"]

_TORCH_STORAGES = (
    "DoubleStorage",
    "FloatStorage",
    "HalfStorage",
    "BFloat16Storage",
    "LongStorage",
    "IntStorage",
    "ShortStorage",
    "CharStorage",
    "ByteStorage",
    "BoolStorage",
    "ComplexFloatStorage",
    "ComplexDoubleStorage",
    "QInt8Storage",
    "QUInt8Storage",
    "QInt32Storage",
    "QUInt4x2Storage",
    "QUInt2x4Storage",
)
_TORCH_DTYPES = (
    "float64",
    "float32",
    "float16",
    "bfloat16",
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
    "complex128",
    "float8_e4m3fn",
    "float8_e5m2",
    "float8_e4m3fnuz",
    "float8_e5m2fnuz",
    "float8_e8m0fnu",
)

#: Reconstructors that only build tensors, arrays and plain containers from data. This is the
#: same ground ``torch.load(weights_only=True)`` and NumPy's array pickles stand on.
SAFE_CALLABLES: frozenset[tuple[str, str]] = frozenset(
    {
        ("torch._utils", "_rebuild_tensor"),
        ("torch._utils", "_rebuild_tensor_v2"),
        ("torch._utils", "_rebuild_tensor_v3"),
        ("torch._utils", "_rebuild_parameter"),
        ("torch._utils", "_rebuild_parameter_with_state"),
        ("torch._utils", "_rebuild_qtensor"),
        ("torch._utils", "_rebuild_sparse_tensor"),
        ("torch._utils", "_rebuild_meta_tensor_no_storage"),
        ("torch._tensor", "_rebuild_from_type_v2"),
        ("torch.nn.parameter", "Parameter"),
        ("torch.storage", "UntypedStorage"),
        ("torch.storage", "TypedStorage"),
        ("torch", "Size"),
        ("torch", "Tensor"),
        ("torch", "device"),
        ("torch", "per_tensor_affine"),
        ("torch", "per_channel_affine"),
        *(("torch", name) for name in _TORCH_STORAGES),
        *(("torch", name) for name in _TORCH_DTYPES),
        ("collections", "OrderedDict"),
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
        ("numpy.core.numeric", "_frombuffer"),
        ("numpy._core.numeric", "_frombuffer"),
        ("numpy", "dtype"),
        ("numpy", "ndarray"),
        ("_codecs", "encode"),  # bytes in protocol-2 NumPy pickles: encode(str, 'latin1')
        ("builtins", "set"),
        ("builtins", "frozenset"),
        ("builtins", "bytearray"),
        ("builtins", "bytes"),
        ("builtins", "complex"),
        ("builtins", "slice"),
        ("builtins", "int"),
        ("builtins", "float"),
        ("builtins", "bool"),
        ("builtins", "str"),
        ("builtins", "list"),
        ("builtins", "dict"),
        ("builtins", "tuple"),
        ("builtins", "range"),
        ("joblib.numpy_pickle", "NumpyArrayWrapper"),
    }
)

_DANGEROUS_MODULES = frozenset(
    {
        "os",
        "posix",
        "nt",
        "posixpath",
        "ntpath",
        "subprocess",
        "_posixsubprocess",
        "runpy",
        "pip",
        "importlib",
        "imp",
        "pkgutil",
        "code",
        "codeop",
        "ctypes",
        "_ctypes",
        "shutil",
        "socket",
        "_socket",
        "webbrowser",
        "pty",
        "sys",
        "multiprocessing",
        "asyncio",
        "pickle",
        "_pickle",
        "cPickle",
        "dill",
        "marshal",
        "types",
        "shelve",
        "tempfile",
        "io",
        "_io",
        "pathlib",
        "glob",
        "urllib",
        "requests",
        "httpx",
        "http",
        "ftplib",
        "smtplib",
        "telnetlib",
        "platform",
        "signal",
        "threading",
        "_thread",
        "bdb",
        "pdb",
        "timeit",
        "profile",
        "cProfile",
        "trace",
        "doctest",
        "venv",
        "ensurepip",
        "distutils",
        "setuptools",
        "site",
        "zipimport",
        "gc",
        "inspect",
        "functools",
        "torch.hub",
        "torch.utils.cpp_extension",
        "torch.jit",
        "torch.package",
        "torch.serialization",
        "torch.utils._config_module",
        "torch.utils.collect_env",
        "numpy.testing",
        "numpy.f2py",
        "numpy.distutils",
        "numpy.lib.npyio",
        "joblib",
        "keras.models",
        "tensorflow",
        "IPython",
    }
)

_DANGEROUS_NAMES = frozenset(
    {
        ("builtins", "exec"),
        ("builtins", "eval"),
        ("builtins", "compile"),
        ("builtins", "open"),
        ("builtins", "getattr"),
        ("builtins", "setattr"),
        ("builtins", "delattr"),
        ("builtins", "__import__"),
        ("builtins", "globals"),
        ("builtins", "locals"),
        ("builtins", "vars"),
        ("builtins", "input"),
        ("builtins", "breakpoint"),
        ("builtins", "help"),
        ("builtins", "type"),
        ("builtins", "object"),
        ("builtins", "memoryview"),
        ("builtins", "print"),
        ("operator", "attrgetter"),
        ("operator", "methodcaller"),
        ("operator", "itemgetter"),
        ("operator", "getitem"),
        ("_operator", "attrgetter"),
        ("_operator", "methodcaller"),
        ("copyreg", "_reconstructor"),
        ("torch", "load"),
        ("torch", "save"),
        ("numpy", "load"),
        ("numpy", "fromfile"),
        ("numpy", "save"),
    }
)

_DUNDER_ESCAPES = ("__globals__", "__builtins__", "__subclasses__", "__code__", "__import__")


def normalise_name(module: str, name: str) -> tuple[str, str]:
    """Apply the Python 2 renames the unpickler applies (``fix_imports``)."""
    if (module, name) in _compat_pickle.NAME_MAPPING:
        return _compat_pickle.NAME_MAPPING[(module, name)]
    return _compat_pickle.IMPORT_MAPPING.get(module, module), name


def classify_callable(module: str, name: str) -> str:
    """``"safe"``, ``"dangerous"`` (known to execute or reach the system) or ``"unknown"``."""
    module, name = normalise_name(module, name)
    if (module, name) in SAFE_CALLABLES:
        return "safe"
    if (module, name) in _DANGEROUS_NAMES:
        return "dangerous"
    parts = module.split(".")
    for i in range(1, len(parts) + 1):
        if ".".join(parts[:i]) in _DANGEROUS_MODULES:
            return "dangerous"
    if any(p in _DUNDER_ESCAPES for p in name.split(".")):
        return "dangerous"
    if module == "builtins" and name.split(".")[0] in {n for _, n in _DANGEROUS_NAMES}:
        return "dangerous"
    return "unknown"
