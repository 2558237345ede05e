"""What the scanner reads is what the real loaders execute.

Differential tests: files (valid, malicious, mutated by hypothesis) go to the real loader
(pickle.load, np.load(allow_pickle=True), onnx.load) in a sandboxed subprocess: no network
(a new network namespace where `unshare` works), CPU and memory limits, a scratch working
folder, payloads that only create marker files. Whenever the loader executed a payload (the
marker exists) or read data from outside the model folder, the scanner must not say clean.
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
import pickle
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sandbox
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aisec.deployment import scan_file

HAS_ONNX = importlib.util.find_spec("onnx") is not None


_PREFIX = sandbox.prefix()


_limits = sandbox.limits(20, 4 << 30)  # the child's, set before exec


def real_load(loader: str, path: Path, cwd: Path) -> str:
    """Run the real loader on ``path`` in a sandboxed child; its one-line outcome."""
    code = {
        "pickle": "import pickle,sys; pickle.load(open(sys.argv[1],'rb')); print('loaded')",
        "numpy": "import numpy,sys; numpy.load(sys.argv[1], allow_pickle=True); print('loaded')",
        "onnx": (
            "import onnx,sys,json\n"
            "m=onnx.load(sys.argv[1])\n"
            "print(json.dumps([t.raw_data.decode('latin1') for t in m.graph.initializer]))"
        ),
    }[loader]
    proc = subprocess.run(
        [*_PREFIX, sys.executable, "-I", "-c", code, str(path)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"PATH": "/usr/bin:/bin", "HOME": str(cwd)},
        preexec_fn=_limits,  # limits of the sandboxed loader; the test runs no threads
    )
    return proc.stdout.strip() if proc.returncode == 0 else "error: " + proc.stderr[-300:]


class _Touch:
    """A payload: ``os.system('touch MARKER')`` when unpickled."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return os.system, (f"touch {self.marker}",)


def _strip_proto(data: bytes) -> bytes:
    """The same pickle without its PROTO header and FRAME opcodes (loaders accept both)."""
    if data[:1] == b"\x80":
        data = data[2:]
    if data[:1] == b"\x95":
        data = data[9:]
    return data


@pytest.mark.parametrize("proto", range(pickle.HIGHEST_PROTOCOL + 1))
@pytest.mark.parametrize("strip", [False, True])
@pytest.mark.parametrize("name", ["model.pkl", "weights.dat", "blob", "config.json"])
def test_pickles_with_and_without_proto_in_every_protocol(
    tmp_path: Path, proto: int, strip: bool, name: str
) -> None:
    marker = tmp_path / "marker"
    data = pickle.dumps({"w": [1.0, 2.0], "x": _Touch(marker)}, protocol=proto)
    path = tmp_path / name
    path.write_bytes(_strip_proto(data) if strip else data)
    result = scan_file(path)
    assert result.verdict == "unsafe", (proto, strip, name, result)
    if name == "blob":  # the loader does not look at names: once per protocol and header
        assert real_load("pickle", path, tmp_path) == "loaded"
        assert marker.exists()  # the loader ran it: the scanner was right to refuse it


def test_a_stream_that_breaks_after_its_payload_still_ran_the_payload(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    data = pickle.dumps(_Touch(marker), protocol=0)[:-1] + b"\xff garbage"
    path = tmp_path / "broken.bin"
    path.write_bytes(data)
    assert real_load("pickle", path, tmp_path).startswith("error")
    assert marker.exists()
    assert scan_file(path).verdict == "unsafe"


_BASES = {
    "payload": lambda m: pickle.dumps([1, {"a": _Touch(m)}], protocol=2),
    "payload_p0": lambda m: pickle.dumps(("x", _Touch(m)), protocol=0),
    "benign": lambda m: pickle.dumps({"w": list(range(20)), "s": "text"}, protocol=4),
    "benign_p0": lambda m: pickle.dumps([1.5, "a", (None, True)], protocol=0),
}


@pytest.mark.slow
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    base=st.sampled_from(sorted(_BASES)),
    edits=st.lists(
        st.tuples(st.sampled_from(["flip", "cut", "insert", "strip"]), st.integers(0, 10_000)),
        max_size=3,
    ),
    byte=st.integers(0, 255),
)
def test_mutated_pickles_never_come_back_clean_when_the_loader_runs_them(
    tmp_path_factory: pytest.TempPathFactory, base: str, edits: list[tuple[str, int]], byte: int
) -> None:
    work = tmp_path_factory.mktemp("mut")
    marker = work / "marker"
    data = bytearray(_BASES[base](marker))
    for kind, at in edits:
        i = at % max(1, len(data))
        if kind == "flip" and data:
            data[i] = byte
        elif kind == "cut":
            del data[i:]
        elif kind == "insert":
            data[i:i] = bytes([byte])
        else:
            data = bytearray(_strip_proto(bytes(data)))
    path = work / "f.bin"
    path.write_bytes(bytes(data))
    verdict = scan_file(path).verdict
    real_load("pickle", path, work)
    if marker.exists():
        assert verdict != "clean", bytes(data)


# ---------------------------------------------------------------- numpy
def _npy(descr: str, payload: bytes, *, version: tuple[int, int] = (1, 0)) -> bytes:
    header = "{'descr': %s, 'fortran_order': False, 'shape': (1,), }" % descr  # noqa: UP031
    raw = header.encode("latin1")
    pre = 10 if version[0] == 1 else 12
    raw += b" " * ((64 - (pre + len(raw) + 1) % 64) % 64) + b"\n"
    size = struct.pack("<H", len(raw)) if version[0] == 1 else struct.pack("<I", len(raw))
    return b"\x93NUMPY" + bytes(version) + size + raw + payload


_OBJECT_SPELLINGS = [
    "'O'",
    "'|O'",
    "'O8'",
    "'<O'",
    "'object'",
    "'object_'",
    "[('a', 'O')]",
    "[('a', '<i4'), ('b', 'object')]",
    "[('a', [('b', '|O')])]",
    "[('a', 'O', (2,))]",
    "[('x', '<f8'), ('y', [('z', '<i4'), ('w', 'O8')])]",
]
_PLAIN_SPELLINGS = ["'<f4'", "'float64'", "[('a', '<i4'), ('b', '<f8')]", "'|S3'", "'<U2'"]


@pytest.mark.parametrize("descr", _OBJECT_SPELLINGS)
@pytest.mark.parametrize("version", [(1, 0), (2, 0), (3, 0)])
def test_every_object_dtype_spelling_numpy_accepts_is_unpickled_and_flagged(
    tmp_path: Path, descr: str, version: tuple[int, int]
) -> None:
    marker = tmp_path / "marker"
    path = tmp_path / "a.npy"
    path.write_bytes(_npy(descr, pickle.dumps(_Touch(marker), protocol=2), version=version))
    outcome = real_load("numpy", path, tmp_path)
    result = scan_file(path)
    assert result.format == "npy-object", (descr, outcome)
    assert result.verdict == "unsafe"
    if marker.exists():  # numpy ran the payload (it may then fail to shape the result)
        assert result.verdict != "clean"


@pytest.mark.parametrize("descr", _PLAIN_SPELLINGS)
def test_plain_dtypes_are_read_as_data(tmp_path: Path, descr: str) -> None:
    dtype = np.lib.format.descr_to_dtype(eval(descr))  # noqa: S307 - the test's own literals
    path = tmp_path / "a.npy"
    marker = tmp_path / "marker"
    payload = pickle.dumps(_Touch(marker), protocol=2)
    path.write_bytes(_npy(descr, payload.ljust(dtype.itemsize, b"\0")[: dtype.itemsize]))
    assert scan_file(path).findings == ()
    real_load("numpy", path, tmp_path)
    assert not marker.exists()


def test_npz_member_with_object_dtype_is_flagged(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    buf = io.BytesIO()
    import zipfile

    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("w.npy", _npy("'object'", pickle.dumps(_Touch(marker), protocol=2)))
        zf.writestr("ok.npy", _npy("'<f4'", b"\0\0\0\0"))
    path = tmp_path / "a.npz"
    path.write_bytes(buf.getvalue())
    assert scan_file(path).verdict == "unsafe"


# ---------------------------------------------------------------- ONNX
def _onnx_with(place: str, location: str) -> bytes:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    def external(name: str) -> onnx.TensorProto:
        t = numpy_helper.from_array(np.zeros(4, np.float32), name)
        t.ClearField("raw_data")
        t.data_location = TensorProto.EXTERNAL
        for k, v in (("location", location), ("length", "16")):
            e = t.external_data.add()
            e.key, e.value = k, v
        return t

    out = helper.make_tensor_value_info("y", TensorProto.FLOAT, [4])
    nodes = [helper.make_node("Identity", ["w"], ["y"])]
    inits = [numpy_helper.from_array(np.zeros(4, np.float32), "w")]
    sparse: list[onnx.SparseTensorProto] = []
    functions: list[onnx.FunctionProto] = []
    if place == "initializer":
        inits = [external("w")]
    elif place == "sparse_initializer":
        idx = numpy_helper.from_array(np.array([0], np.int64), "i")
        sparse = [helper.make_sparse_tensor(external("s"), idx, [4])]
    elif place == "attribute_tensor":
        nodes.append(helper.make_node("Constant", [], ["c"], value=external("c")))
    elif place == "attribute_tensors":
        node = helper.make_node("Identity", ["w"], ["z"])
        node.attribute.append(helper.make_attribute("ts", [external("c")]))
        nodes.append(node)
    elif place == "subgraph":
        sub = helper.make_graph(
            [helper.make_node("Identity", ["v"], ["o"])], "sub", [], [out], [external("v")]
        )
        nodes.append(helper.make_node("If", ["cond"], ["r"], then_branch=sub, else_branch=sub))
    elif place == "function":
        fnode = helper.make_node("Constant", [], ["k"], value=external("k"))
        functions = [helper.make_function("local", "F", [], ["k"], [fnode], [])]
    graph = helper.make_graph(nodes, "g", [], [out], inits, sparse_initializer=sparse)
    model = helper.make_model(graph, functions=functions)
    return bytes(model.SerializeToString())


_PLACES = [
    "initializer",
    "sparse_initializer",
    "attribute_tensor",
    "attribute_tensors",
    "subgraph",
    "function",
]


@pytest.mark.skipif(not HAS_ONNX, reason="onnx is not installed")
@pytest.mark.parametrize("place", _PLACES)
@pytest.mark.parametrize("location", ["../secret.bin", "/etc/hostname", "a/../../secret.bin"])
def test_onnx_external_data_is_found_in_every_place(
    tmp_path: Path, place: str, location: str
) -> None:
    model = tmp_path / "model"
    model.mkdir()
    path = model / "m.onnx"
    path.write_bytes(_onnx_with(place, location))
    result = scan_file(path)
    assert {f.id for f in result.findings} == {"AISEC-DEP-007"}, (place, result.findings)


@pytest.mark.skipif(not HAS_ONNX, reason="onnx is not installed")
@pytest.mark.parametrize("place", _PLACES)
def test_onnx_external_data_inside_the_folder_is_clean(tmp_path: Path, place: str) -> None:
    path = tmp_path / "m.onnx"
    (tmp_path / "w.bin").write_bytes(b"\0" * 16)
    path.write_bytes(_onnx_with(place, "w.bin"))
    assert scan_file(path).findings == ()


@pytest.mark.skipif(not HAS_ONNX, reason="onnx is not installed")
def test_onnx_symlinks_that_leave_the_folder_are_findings(tmp_path: Path) -> None:
    secret = tmp_path / "secret.bin"
    secret.write_bytes(b"SECRET-CONTENT-16")
    model = tmp_path / "model"
    (model / "sub").mkdir(parents=True)
    (model / "link.bin").symlink_to(secret)
    (model / "sub" / "deep").symlink_to(tmp_path)
    for loc in ("link.bin", "sub/deep/secret.bin"):
        path = model / "m.onnx"
        path.write_bytes(_onnx_with("initializer", loc))
        assert [f.id for f in scan_file(path).findings] == ["AISEC-DEP-007"], loc


_SEGMENTS = ["..", ".", "a", "w.bin", "link", "sub", "/", "\\", "C:", ""]


@pytest.mark.slow
@pytest.mark.skipif(not HAS_ONNX, reason="onnx is not installed")
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(parts=st.lists(st.sampled_from(_SEGMENTS), min_size=1, max_size=4))
def test_onnx_locations_against_onnx_load(
    tmp_path_factory: pytest.TempPathFactory, parts: list[str]
) -> None:
    """Differential: whenever onnx.load reads bytes from outside the model folder, or refuses
    the path as unsafe, the scanner reports it; when it reads inside, the scanner is quiet."""
    root = tmp_path_factory.mktemp("onnx")
    secret = root / "w.bin"
    secret.write_bytes(b"OUTSIDE-SECRET-16")
    model = root / "model"
    (model / "a").mkdir(parents=True)
    (model / "sub").mkdir()
    (model / "w.bin").write_bytes(b"inside-bytes-16!")
    (model / "a" / "w.bin").write_bytes(b"inside-bytes-16!")
    (model / "link").symlink_to(root)
    location = "/".join(parts).replace("//", "/")
    path = model / "m.onnx"
    path.write_bytes(_onnx_with("initializer", location))
    flagged = any(f.id == "AISEC-DEP-007" for f in scan_file(path).findings)
    outcome = real_load("onnx", path, root)
    if outcome.startswith("["):
        data = json.loads(outcome)[0]
        if "OUTSIDE" in data:
            assert flagged, location
        elif "inside" in data:
            assert not flagged, location
    elif "should be file inside" in outcome or "absolute" in outcome or "symlink" in outcome:
        # onnx's own path checks refused it as leaving the folder
        assert flagged, (location, outcome)


_DTYPES = [
    "<f4", ">f8", "|u1", "<i8", "|b1", "<c16", "<U7", "|S5", "<M8[ns]", "<m8[s]", "|V16", "O",
    [("w", "<f4"), ("o", "O")], [("a", "<i4"), ("b", ("<f8", (2, 2)))], ("<f4", (3,)),
    [("nested", [("x", "O")])], "<f2",
]  # fmt: skip


@pytest.mark.parametrize("version", [(1, 0), (2, 0), (3, 0)])
@pytest.mark.parametrize("dtype", _DTYPES, ids=str)
def test_npy_header_without_numpy_never_clears_what_numpy_would_unpickle(
    dtype: Any, version: tuple[int, int]
) -> None:
    """The numpy-free reader (the core install's) agrees with numpy's ``hasobject`` or
    refuses to decide; it never says "no objects" where numpy would unpickle."""
    from numpy.lib import format as npformat

    from aisec.deployment.scan._formats import _npy_has_object_without_numpy

    dt = np.dtype(dtype)
    buf = io.BytesIO()
    npformat.write_array(buf, np.zeros(2, dt), version=version, allow_pickle=True)
    raw = buf.getvalue()
    start, fmt = (10, "<H") if version[0] == 1 else (12, "<I")
    header = raw[: start + struct.unpack_from(fmt, raw, 8)[0]]
    try:
        decided = _npy_has_object_without_numpy(header, version[0])
    except ValueError:
        assert not isinstance(dtype, str)  # only structured and sub-array dtypes are refused
        return
    assert decided == dt.hasobject
