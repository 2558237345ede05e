"""Builds the scanner corpus: malicious files (harmless payloads that would only create a
marker file) across every technique, and benign files of every format.

``build_corpus(dest, marker_dir)`` writes the files and returns their :class:`Sample`
records. Every payload, if it ever ran, would create a file in ``marker_dir``; the tests
prove that directory stays empty through scanning and converting.
"""

from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma
import pickle
import struct
import tarfile
import zipfile
import zlib
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Sample:
    name: str
    malicious: bool
    technique: str


def _s(text: str) -> bytes:
    raw = text.encode()
    return (
        b"\x8c" + bytes([len(raw)]) + raw
        if len(raw) < 256
        else (b"X" + struct.pack("<I", len(raw)) + raw)
    )


def call_p0(module: str, name: str, arg: str) -> bytes:
    """Protocol 0: GLOBAL + REDUCE."""
    return f"c{module}\n{name}\n(V{arg}\ntR.".encode()


def call_p2(module: str, name: str, arg: str) -> bytes:
    raw = arg.encode()
    return (
        b"\x80\x02c"
        + f"{module}\n{name}\n".encode()
        + b"X"
        + struct.pack("<I", len(raw))
        + raw
        + b"\x85R."
    )


def call_p4(module: str, name: str, arg: str) -> bytes:
    """Protocol 4: STACK_GLOBAL on memoised strings."""
    return b"\x80\x04" + _s(module) + b"\x94" + _s(name) + b"\x94\x93\x94" + _s(arg) + b"\x85R."


def memo_indirect(module: str, name: str, arg: str) -> bytes:
    """Strings stored in the memo first, fetched back with BINGET for STACK_GLOBAL."""
    return (
        b"\x80\x04"
        + _s("harmless")
        + b"q\x07"
        + _s(module)
        + b"q\x05"
        + _s(name)
        + b"q\x06"
        + b"0"
        + b"0"
        + b"0"
        + b"h\x05h\x06\x93"
        + _s(arg)
        + b"\x85R."
    )


def inst_p0(module: str, name: str, arg: str) -> bytes:
    return f"(V{arg}\ni{module}\n{name}\n.".encode()


def obj_p1(module: str, name: str, arg: str) -> bytes:
    return b"(c" + f"{module}\n{name}\n".encode() + b"V" + arg.encode() + b"\no."


def newobj(module: str, name: str, arg: str) -> bytes:
    return b"\x80\x02c" + f"{module}\n{name}\n".encode() + _s(arg) + b"\x85\x81."


def newobj_ex(module: str, name: str, arg: str) -> bytes:
    return b"\x80\x04" + _s(module) + _s(name) + b"\x93" + _s(arg) + b"\x85}\x92."


def _exec_src(marker: Path) -> str:
    return f"open({str(marker)!r}, 'w').close()"


def _sh(marker: Path) -> str:
    return f"touch {marker}"


def _torch_like_zip(
    pkl: bytes,
    *,
    prefix: str = "archive",
    extra: dict[str, bytes] | None = None,
    compress: int = zipfile.ZIP_STORED,
) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compress) as zf:
        zf.writestr(f"{prefix}/data.pkl", pkl)
        zf.writestr(f"{prefix}/byteorder", b"little")
        zf.writestr(f"{prefix}/version", b"3\n")
        for name, data in (extra or {}).items():
            zf.writestr(f"{prefix}/{name}", data)
    return buf.getvalue()


def _patch_crc(data: bytes, name: str) -> bytes:
    raw = bytearray(data)
    enc = name.encode()
    lfh = raw.find(b"PK\x03\x04" + b"")
    while lfh >= 0:
        nlen = struct.unpack_from("<H", raw, lfh + 26)[0]
        if raw[lfh + 30 : lfh + 30 + nlen] == enc:
            struct.pack_into("<I", raw, lfh + 14, 0xDEADBEEF)
        lfh = raw.find(b"PK\x03\x04", lfh + 4)
    cdh = raw.find(b"PK\x01\x02")
    while cdh >= 0:
        nlen = struct.unpack_from("<H", raw, cdh + 28)[0]
        if raw[cdh + 46 : cdh + 46 + nlen] == enc:
            struct.pack_into("<I", raw, cdh + 16, 0xDEADBEEF)
        cdh = raw.find(b"PK\x01\x02", cdh + 4)
    return bytes(raw)


def _rename_local(data: bytes, name: str, new: str) -> bytes:
    assert len(name) == len(new)
    raw = bytearray(data)
    lfh = raw.find(b"PK\x03\x04")
    while lfh >= 0:
        nlen = struct.unpack_from("<H", raw, lfh + 26)[0]
        if raw[lfh + 30 : lfh + 30 + nlen] == name.encode():
            raw[lfh + 30 : lfh + 30 + nlen] = new.encode()
        lfh = raw.find(b"PK\x03\x04", lfh + 4)
    return bytes(raw)


def _hidden_entry(pkl: bytes) -> bytes:
    """A zip whose first local entry is not listed in the central directory."""
    hidden = io.BytesIO()
    with zipfile.ZipFile(hidden, "w") as zf:
        zf.writestr("archive/hidden.pkl", pkl)
    first = hidden.getvalue()
    local = first[: first.find(b"PK\x01\x02")]
    rest = _torch_like_zip(pickle.dumps({"a": 1}, protocol=2))
    # shift the visible archive's offsets by the hidden entry's length
    out = bytearray(local + rest)
    shift = len(local)
    cd = out.find(b"PK\x01\x02", shift)
    while cd >= 0:
        off = struct.unpack_from("<I", out, cd + 42)[0]
        struct.pack_into("<I", out, cd + 42, off + shift)
        cd = out.find(b"PK\x01\x02", cd + 4)
    eocd = out.rfind(b"PK\x05\x06")
    cd_off = struct.unpack_from("<I", out, eocd + 16)[0]
    struct.pack_into("<I", out, eocd + 16, cd_off + shift)
    return bytes(out)


def _legacy_stream(data_pickle: bytes) -> bytes:
    parts = [
        pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2),
        pickle.dumps(1001, protocol=2),
        pickle.dumps({"protocol_version": 1001, "little_endian": True}, protocol=2),
        data_pickle,
        pickle.dumps([], protocol=2),
    ]
    return b"".join(parts)


def _legacy_tar(pkl: bytes) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in (
            ("sys_info", pickle.dumps({"little_endian": True}, protocol=2)),
            ("pickle", pkl),
            ("storages", pickle.dumps(0, protocol=2)),
            ("tensors", pickle.dumps(0, protocol=2)),
        ):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _joblib_with_array_then(pkl_tail_obj: bytes) -> bytes:
    """A joblib-format pickle: an inline NumpyArrayWrapper array, then a malicious object."""
    arr = np.arange(8, dtype=np.float64)
    header = (
        b"\x80\x04}\x94("
        + _s("a")
        + _s("joblib.numpy_pickle")
        + _s("NumpyArrayWrapper")
        + b"\x93)\x81}\x94("
        + _s("subclass")
        + _s("numpy")
        + _s("ndarray")
        + b"\x93"
        + _s("shape")
        + b"K\x08\x85"
        + _s("order")
        + _s("C")
        + _s("dtype")
        + _s("numpy")
        + _s("dtype")
        + b"\x93"
        + _s("f8")
        + b"\x89\x88\x87R"
        + b"(K\x03"
        + _s("<")
        + b"NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb"
        + _s("allow_mmap")
        + b"\x88"
        + _s("numpy_array_alignment_bytes")
        + b"K\x10ub"
    )
    pad = b"\x00"  # padding length byte, no padding
    return header + pad + arr.tobytes() + _s("b") + pkl_tail_obj + b"u."


def _npy_object(pkl: bytes) -> bytes:
    header = "{'descr': '|O', 'fortran_order': False, 'shape': (1,), }"
    header = header + " " * (63 - len(header) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + pkl


def _npz(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _keras(config: dict[str, object]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("metadata.json", json.dumps({"keras_version": "3.6.0"}))
        zf.writestr("config.json", json.dumps(config))
        zf.writestr("model.weights.h5", b"\x89HDF\r\n\x1a\n" + b"\x00" * 64)
    return buf.getvalue()


def _keras_model(layers: list[dict[str, object]]) -> dict[str, object]:
    return {
        "module": "keras",
        "class_name": "Sequential",
        "config": {"name": "sequential", "layers": layers},
        "registered_name": None,
    }


_DENSE = {
    "module": "keras.layers",
    "class_name": "Dense",
    "config": {"name": "dense", "units": 4},
    "registered_name": None,
}


def gguf(template: str | None) -> bytes:
    def gstr(text: str) -> bytes:
        raw = text.encode()
        return struct.pack("<Q", len(raw)) + raw

    kv = [
        (b"general.architecture", 8, gstr("llama")),
        (b"llama.block_count", 4, struct.pack("<I", 2)),
    ]
    kv.append((b"tokenizer.ggml.tokens", 9, struct.pack("<IQ", 8, 2) + gstr("a") + gstr("b")))
    if template is not None:
        kv.append((b"tokenizer.chat_template", 8, gstr(template)))
    body = b"".join(gstr(k.decode()) + struct.pack("<I", t) + v for k, t, v in kv)
    return b"GGUF" + struct.pack("<IQQ", 3, 0, len(kv)) + body


def _pb_field(num: int, payload: bytes) -> bytes:
    def varint(n: int) -> bytes:
        out = bytearray()
        while True:
            b = n & 0x7F
            n >>= 7
            out.append(b | (0x80 if n else 0))
            if not n:
                return bytes(out)

    return varint((num << 3) | 2) + varint(len(payload)) + payload


def onnx_model(*, location: str | None = None, domain: str = "") -> bytes:
    """A minimal ONNX ModelProto: one node, one initializer (maybe with external data)."""
    node = _pb_field(1, b"x") + _pb_field(2, b"y") + _pb_field(4, b"Relu")
    if domain:
        node += _pb_field(7, domain.encode())
    tensor = _pb_field(8, b"w")
    if location is not None:
        tensor += _pb_field(13, _pb_field(1, b"location") + _pb_field(2, location.encode()))
    graph = _pb_field(1, node) + _pb_field(2, b"g") + _pb_field(5, tensor)
    opset = _pb_field(1, domain.encode()) if domain else b"\x10\x11"
    return b"\x08\x08" + _pb_field(7, graph) + _pb_field(8, opset)


def safetensors_raw(header: dict[str, object], data: bytes, *, length: int | None = None) -> bytes:
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw) if length is None else length) + raw + data


def _zip_bomb() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("archive/data.pkl", b"\x80\x02" + b"N" * (300 * 1024 * 1024) + b".")
    return buf.getvalue()


def malicious_builders(marker: Callable[[str], Path]) -> dict[str, tuple[str, bytes]]:
    """name -> (technique, bytes)."""
    ex = lambda n: _exec_src(marker(n))  # noqa: E731 - a short local helper
    sh = lambda n: _sh(marker(n))  # noqa: E731
    out: dict[str, tuple[str, bytes]] = {
        "p0_os_system.pkl": ("GLOBAL proto 0", call_p0("os", "system", sh("p0"))),
        "p2_posix_system.pkl": ("GLOBAL proto 2", call_p2("posix", "system", sh("p2"))),
        "p4_exec.pkl": ("STACK_GLOBAL memoised", call_p4("builtins", "exec", ex("p4"))),
        "memo_binget.pkl": (
            "STACK_GLOBAL via BINGET",
            memo_indirect("builtins", "exec", ex("memo")),
        ),
        "eval.bin": ("builtins.eval", call_p2("builtins", "eval", ex("eval"))),
        "py2_builtin.pkl": ("__builtin__ rename", call_p0("__builtin__", "exec", ex("py2"))),
        "inst.pkl": ("INST", inst_p0("os", "system", sh("inst"))),
        "obj.pkl": ("OBJ", obj_p1("subprocess", "Popen", sh("obj"))),
        "newobj.pkl": ("NEWOBJ", newobj("subprocess", "Popen", sh("newobj"))),
        "newobj_ex.pkl": ("NEWOBJ_EX", newobj_ex("subprocess", "Popen", sh("newobj_ex"))),
        "runpy.pkl": ("runpy", call_p2("runpy", "_run_code", ex("runpy"))),
        "importlib.pkl": ("importlib", call_p2("importlib", "import_module", "os")),
        "attrgetter.pkl": ("operator.attrgetter", call_p2("operator", "attrgetter", "system")),
        "_pickle_loads.pkl": (
            "nested _pickle.loads (picklescan bypass)",
            call_p2("_pickle", "loads", "x"),
        ),
        "pip_internal.pkl": (
            "pip._internal (picklescan bypass)",
            call_p2("pip._internal", "main", "install"),
        ),
        "numpy_runstring.pkl": (
            "numpy.testing runstring (picklescan bypass)",
            call_p2("numpy.testing._private.utils", "runstring", ex("np")),
        ),
        "torch_config_module.pkl": (
            "torch.utils._config_module (bypass)",
            call_p2("torch.utils._config_module", "ConfigModule", "x"),
        ),
        "ctypes.pkl": ("ctypes", call_p2("ctypes", "CDLL", "libc.so.6")),
        "unknown_module.pkl": (
            "callable outside allowlist",
            call_p2("innocent_looking.helpers", "fetch", "x"),
        ),
        "ext1.pkl": ("EXT1 extension registry", b"\x80\x02\x82\x01X\x01\x00\x00\x00x\x85R."),
        "build_global.pkl": (
            "BUILD on global",
            b"\x80\x02ctorch._utils\n_rebuild_tensor_v2\n}X\x01\x00\x00\x00aK\x01sb.",
        ),
        "truncated.pkl": ("truncated pickle", call_p2("os", "system", sh("trunc"))[:-3]),
        "unknown_opcode.pkl": (
            "unknown opcode",
            b"\x80\x02\xff" + call_p2("os", "system", sh("unk"))[2:],
        ),
        "getattr_chain.pkl": (
            "getattr chain",
            b"\x80\x02cbuiltins\ngetattr\ncbuiltins\n"
            b"__import__\nX\x02\x00\x00\x00os\x85R"
            b"X\x06\x00\x00\x00system\x86R.",
        ),
        "torch_reduce.pt": ("torch zip", _torch_like_zip(call_p2("os", "system", sh("tz")))),
        "weird_prefix.pt": (
            "torch zip odd archive name",
            _torch_like_zip(call_p2("os", "system", sh("wp")), prefix="x y#"),
        ),
        "crc_mismatch.pt": (
            "zip CRC mismatch (zipfile refuses, torch loads)",
            _patch_crc(_torch_like_zip(call_p2("os", "system", sh("crc"))), "archive/data.pkl"),
        ),
        "local_name.pt": (
            "local header name differs from central directory",
            _rename_local(
                _torch_like_zip(call_p2("os", "system", sh("ln"))),
                "archive/data.pkl",
                "archive/data.pkX",
            ),
        ),
        "extra_pickle.pt": (
            "second pickle member",
            _torch_like_zip(
                pickle.dumps({}, protocol=2), extra={"extra.pkl": call_p4("os", "system", sh("xp"))}
            ),
        ),
        "deflated.pt": (
            "deflated data.pkl",
            _torch_like_zip(call_p2("os", "system", sh("df")), compress=zipfile.ZIP_DEFLATED),
        ),
        "nested.zip": (
            "nested archive",
            _npz({"inner/model.pt": _torch_like_zip(call_p2("os", "system", sh("nest")))}),
        ),
        "hidden_entry.pt": (
            "local entry missing from central directory",
            _hidden_entry(call_p2("os", "system", sh("hid"))),
        ),
        "legacy.pt": (
            "legacy torch pickle stream",
            _legacy_stream(call_p2("os", "system", sh("leg"))),
        ),
        "legacy_tar.pt": ("legacy torch tar", _legacy_tar(call_p2("os", "system", sh("tar")))),
        "joblib_plain.joblib": ("joblib", call_p4("os", "system", sh("jb"))),
        "joblib_zlib.joblib": ("joblib zlib", zlib.compress(call_p4("os", "system", sh("jz")))),
        "joblib_gzip.joblib": ("joblib gzip", gzip.compress(call_p4("os", "system", sh("jg")))),
        "joblib_bz2.joblib": ("joblib bz2", bz2.compress(call_p4("os", "system", sh("jb2")))),
        "joblib_lzma.joblib": (
            "joblib lzma",
            lzma.compress(call_p4("os", "system", sh("jl")), format=lzma.FORMAT_ALONE),
        ),
        "joblib_xz.joblib": ("joblib xz", lzma.compress(call_p4("os", "system", sh("jx")))),
        "joblib_after_array.joblib": (
            "payload after inline joblib array",
            _joblib_with_array_then(call_p4("os", "system", sh("ja"))[2:-1]),
        ),
        "object.npy": ("NumPy object array", _npy_object(call_p2("os", "system", sh("npy")))),
        "object.npz": (
            "npz object array",
            _npz({"a.npy": _npy_object(call_p2("os", "system", sh("npz")))}),
        ),
        "lambda.keras": (
            "Keras Lambda",
            _keras(
                _keras_model(
                    [
                        _DENSE,
                        {
                            "module": "keras.layers",
                            "class_name": "Lambda",
                            "config": {
                                "name": "evil",
                                "function": {
                                    "class_name": "__lambda__",
                                    "config": {"code": "4wEAAAAA"},
                                },
                            },
                            "registered_name": None,
                        },
                    ]
                )
            ),
        ),
        "custom.keras": (
            "Keras custom object",
            _keras(
                _keras_model(
                    [
                        _DENSE,
                        {
                            "module": "evil_pkg.layers",
                            "class_name": "Backdoor",
                            "config": {"name": "bd"},
                            "registered_name": "evil_pkg>Backdoor",
                        },
                    ]
                )
            ),
        ),
        "ssti.gguf": (
            "GGUF chat template SSTI",
            gguf(
                "{{ ''.__class__.__mro__[1].__subclasses__() }}{% for m in messages %}"
                "{{ m.content }}{% endfor %}"
            ),
        ),
        "cycler.gguf": (
            "GGUF template cycler globals",
            gguf("{{ cycler.__init__.__globals__.os.popen('id').read() }}"),
        ),
        "traversal.onnx": (
            "ONNX external data traversal",
            onnx_model(location="../../../etc/passwd"),
        ),
        "absolute.onnx": ("ONNX external data absolute path", onnx_model(location="/etc/shadow")),
        "custom_domain.onnx": ("ONNX custom operator domain", onnx_model(domain="com.evil.ops")),
        "overlap.safetensors": (
            "SafeTensors overlapping offsets",
            safetensors_raw(
                {
                    "a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                    "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]},
                },
                b"\x00" * 12,
            ),
        ),
        "trailing.safetensors": (
            "SafeTensors trailing data",
            safetensors_raw(
                {"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}},
                b"\x00" * 4 + call_p2("os", "system", sh("st")),
            ),
        ),
        "huge_header.safetensors": (
            "SafeTensors huge header length",
            safetensors_raw(
                {"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}},
                b"\x00" * 4,
                length=1 << 40,
            ),
        ),
        "shape_mismatch.safetensors": (
            "SafeTensors dtype/shape vs bytes",
            safetensors_raw(
                {"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 4]}}, b"\x00" * 4
            ),
        ),
    }
    return out


def benign_builders(tmp_models: Path) -> dict[str, tuple[str, Callable[[Path], None]]]:
    def write(data: bytes) -> Callable[[Path], None]:
        return lambda p: p.write_bytes(data)

    arrays = {"w": np.arange(12, dtype=np.float32).reshape(3, 4), "b": np.ones(3, np.int64)}

    def npz(p: Path) -> None:
        np.savez(p, **arrays)

    def npy(p: Path) -> None:
        np.save(p, arrays["w"])

    def joblib_dump(compress: object) -> Callable[[Path], None]:
        def dump(p: Path) -> None:
            import joblib

            joblib.dump({"coef": arrays["w"], "n": 3, "names": ["a", "b"]}, p, compress=compress)

        return dump

    def joblib_arrays(p: Path) -> None:
        import joblib

        joblib.dump(
            {
                "when": np.array(["2020-01-01", "2021-06-30"], dtype="datetime64[ns]"),
                "names": np.array(["alpha", "b"]),
                "bytes": np.array([b"xy", b"z"]),
                "flags": np.array([True, False]),
            },
            p,
        )

    def st(p: Path) -> None:
        from safetensors.numpy import save_file

        save_file(arrays, str(p))

    plain = {"layer.weight": arrays["w"], "layer.bias": np.zeros(3, np.float16)}
    out: dict[str, tuple[str, Callable[[Path], None]]] = {
        "state_p2.pkl": ("numpy state dict proto 2", write(pickle.dumps(plain, protocol=2))),
        "state_p4.pkl": ("numpy state dict proto 4", write(pickle.dumps(plain, protocol=4))),
        "state_p5.pkl": ("numpy state dict proto 5", write(pickle.dumps(plain, protocol=5))),
        "containers_p0.pkl": (
            "plain containers proto 0",
            write(
                pickle.dumps(
                    OrderedDict(a=[1, 2.5, "x"], b={"k": (1, None, True)}, c={1, 2}), protocol=0
                )
            ),
        ),
        "arrays.npz": ("npz", npz),
        "array.npy": ("npy", npy),
        "model.joblib": ("joblib plain", joblib_dump(0)),
        "model_zlib.joblib": ("joblib zlib", joblib_dump(("zlib", 3))),
        "model_gzip.joblib": ("joblib gzip", joblib_dump(("gzip", 3))),
        "model_lzma.joblib": ("joblib lzma", joblib_dump(("lzma", 3))),
        "dates.joblib": ("joblib datetime and unicode arrays", joblib_arrays),
        "model.safetensors": ("safetensors", st),
        "chat.gguf": (
            "gguf benign template",
            write(
                gguf(
                    "{% for message in messages %}{{ '<|' + message['role'] + '|>' }}"
                    "{{ message['content'] }}{% endfor %}"
                    "{% if add_generation_prompt %}<|assistant|>"
                    "{% endif %}"
                )
            ),
        ),
        "plain.gguf": ("gguf no template", write(gguf(None))),
        "dense.keras": ("keras", write(_keras(_keras_model([_DENSE])))),
        "model.onnx": ("onnx", write(onnx_model(location="weights/w.bin"))),
        "plain.onnx": ("onnx inline", write(onnx_model())),
    }
    for name in sorted(p.name for p in tmp_models.iterdir()):
        out[name] = ("torch checkpoint", write((tmp_models / name).read_bytes()))
    return out


def torch_checkpoints(dest: Path) -> list[Path]:
    """Real checkpoints made by torch.save (skipped by callers when torch is absent)."""
    import torch
    from torch import nn

    torch.manual_seed(0)
    dest.mkdir(parents=True, exist_ok=True)
    made: list[Path] = []
    mlp = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))
    conv = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4))
    lstm = nn.LSTM(4, 8, num_layers=2)
    emb = nn.Embedding(10, 6)
    tied = nn.ModuleDict({"emb": emb, "head": nn.Linear(6, 10, bias=False)})
    tied["head"].weight = tied["emb"].weight
    attn = nn.TransformerEncoderLayer(d_model=8, nhead=2, dim_feedforward=16)
    dtypes = {
        "f16": mlp.half().state_dict(),
        "bf16": conv.to(torch.bfloat16).state_dict(),
    }
    mixed = OrderedDict()
    base = torch.randn(6, 5)
    mixed["t"] = base.t()
    mixed["slice"] = base[2:, 1:4]
    mixed["step"] = base[::2, ::3]
    mixed["i8"] = torch.randint(-100, 100, (7,), dtype=torch.int8)
    mixed["u8"] = torch.randint(0, 255, (3, 3), dtype=torch.uint8)
    mixed["i32"] = torch.arange(10, dtype=torch.int32)
    mixed["i64"] = torch.arange(4, dtype=torch.int64).reshape(2, 2)
    mixed["bool"] = torch.tensor([True, False, True])
    mixed["f64"] = torch.randn(3, dtype=torch.float64)
    mixed["f8a"] = torch.randn(4).to(torch.float8_e4m3fn)
    mixed["f8b"] = torch.randn(4).to(torch.float8_e5m2)
    mixed["u16"] = torch.arange(5, dtype=torch.int32).to(torch.uint16)
    mixed["scalar"] = torch.tensor(3.5)
    mixed["empty"] = torch.zeros(0, 3)
    for name, sd in (
        ("mlp.pt", nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4)).state_dict()),
        ("conv.pth", conv.float().state_dict()),
        ("lstm.bin", lstm.state_dict()),
        ("tied.ckpt", tied.state_dict()),
        ("attn.pt", attn.state_dict()),
        ("half.pt", dtypes["f16"]),
        ("bf16.pt", dtypes["bf16"]),
        ("mixed.pt", mixed),
        ("nested.pt", {"model": mlp.float().state_dict(), "ema": {"w": base}}),
        ("params.pt", {"p": nn.Parameter(torch.randn(3, 3))}),
    ):
        torch.save(sd, dest / name)
        made.append(dest / name)
    legacy = {k: v for k, v in mixed.items() if not k.startswith(("f8", "u16"))}
    torch.save(legacy, dest / "legacy_mixed.pt", _use_new_zipfile_serialization=False)
    torch.save(tied.state_dict(), dest / "legacy_tied.pt", _use_new_zipfile_serialization=False)
    made += [dest / "legacy_mixed.pt", dest / "legacy_tied.pt"]
    return made


def build_corpus(dest: Path, marker_dir: Path, *, torch_dir: Path | None = None) -> list[Sample]:
    dest.mkdir(parents=True, exist_ok=True)
    samples: list[Sample] = []
    for name, (technique, data) in malicious_builders(lambda n: marker_dir / n).items():
        (dest / name).write_bytes(data)
        samples.append(Sample(name, True, technique))
    models = torch_dir if torch_dir is not None else dest / "_none"
    models.mkdir(parents=True, exist_ok=True)
    for name, (technique, make) in benign_builders(models).items():
        make(dest / name)
        samples.append(Sample(name, False, technique))
    return samples


def write_zip_bomb(path: Path) -> None:
    path.write_bytes(_zip_bomb())
