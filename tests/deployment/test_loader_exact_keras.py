"""Differential test for Keras 3 ``.keras`` files: Keras' own loader decides.

Models are built and saved by the real ``keras`` library (a functional model, a Sequential
one, a functional model nested in a Sequential). Hypothesis then rewrites their
``config.json`` (and ``metadata.json``) to put class and function references in every place
Keras deserializes: extra layers, a layer's activation, initializers, regularizers, the dtype
policy, ``inbound_nodes`` kwargs, the compile config — pointing at Lambda bytecode, modules
outside Keras (``os``, ``subprocess``, ``builtins``, ``numpy``), Keras utilities and layers that
read files. Each batch of files goes to ONE sandboxed child (no network where ``unshare``
works, CPU/memory limits, a scratch working folder, ``KERAS_BACKEND=torch`` on the CPU) that
runs ``keras.saving.load_model(path, safe_mode=True)`` and then ``safe_mode=False`` (each in a
fork of one warmed-up process) and one inference call on zeros, under an audit hook. Whenever
the loader ran payload code (the marker file appears), started a process, imported a module
that loading the untouched model does not import, or opened a file in the working folder,
the scanner must not have called the file clean. Files saved by Keras itself must come back clean.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import marshal
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
import sandbox
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aisec.deployment import scan_file

# Keras is imported only in child processes: imported into the test process (torch backend)
# it left that process unable to collect the evaluation tests that import ART afterwards
pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("keras") is None, reason="Keras (the loader under test) is missing"
)
_ENV = {**os.environ, "KERAS_BACKEND": os.environ.get("KERAS_BACKEND", "torch")}


_PREFIX = sandbox.prefix()
_MARKER = "MARKER"  # relative: the child runs in the batch folder


_limits = sandbox.limits(120, 6 << 30)  # the child's, set before exec


# The child: loads every file in both modes, reports what the loader did, one JSON line.
_CHILD = r"""
import json, os, sys, warnings
warnings.simplefilter("ignore")
import keras
events = []
watch = [False]
here = os.getcwd()

def hook(name, args):
    if not watch[0]:
        return
    if name == "import":
        events.append(("import", str(args[0]).split(".")[0]))
    elif name == "open" and isinstance(args[0], str):
        p = os.path.abspath(args[0])
        if p.startswith(here + os.sep):
            events.append(("open", os.path.basename(p)))
    elif name in ("subprocess.Popen", "os.system", "os.posix_spawn", "os.exec", "socket.connect"):
        events.append((name, str(args[0])[:80]))

sys.addaudithook(hook)

def _load(path, safe):
    if os.path.exists("MARKER"):
        os.remove("MARKER")
    before = set(m.split(".")[0] for m in sys.modules)
    watch[0] = True
    try:
        model = keras.saving.load_model(path, safe_mode=safe)
        outcome = "loaded"
        try:  # what a user does next: one inference call (a payload may wait for it)
            import numpy
            shape = [d or 1 for d in model.inputs[0].shape]
            model(numpy.zeros(shape, "float32"))
        except Exception:
            pass
    except BaseException as exc:
        outcome = type(exc).__name__
    finally:
        watch[0] = False
    new = sorted(set(m.split(".")[0] for m in sys.modules) - before)
    return {"outcome": outcome, "marker": os.path.exists("MARKER"), "events": events,
            "new_modules": new}

def load(path, safe):
    # each load in a forked copy of this warmed-up process: a failed load leaves Keras
    # state behind that changes what the next load runs
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            data = json.dumps(_load(path, safe)).encode()
        except BaseException as exc:
            data = json.dumps({"outcome": "child " + type(exc).__name__, "marker": False,
                               "events": [], "new_modules": []}).encode()
        os.write(w, data)
        os._exit(0)
    os.close(w)
    chunks = []
    while True:
        chunk = os.read(r, 1 << 16)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(r)
    os.waitpid(pid, 0)
    return json.loads(b"".join(chunks) or b'{"outcome": "crashed", "marker": false, '
                      b'"events": [], "new_modules": []}')

baseline = load(sys.argv[1], True)  # warms up what loading an untouched model imports
out = {}
for path in sys.argv[2:]:
    out[path] = [load(path, True), load(path, False)]
print(json.dumps({"baseline": baseline, "files": out}))
"""


def _run_batch(work: Path, benign: Path, paths: list[Path]) -> dict[str, Any]:
    proc = subprocess.run(
        [*_PREFIX, sys.executable, "-I", "-c", _CHILD, str(benign), *map(str, paths)],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={"PATH": "/usr/bin:/bin", "HOME": str(work), "KERAS_BACKEND": "torch"},
        preexec_fn=_limits,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


# ----------------------------------------------------------------- models saved by Keras
_SAVE = """
import sys, warnings
from pathlib import Path
import keras
out = Path(sys.argv[1])
with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # numpy 2 deprecation notices from inside keras
    inp = keras.Input((4,))
    x = keras.layers.Dense(3, activation="relu", kernel_regularizer="l2")(inp)
    x = keras.layers.LayerNormalization()(x)
    functional = keras.Model(inp, keras.layers.Dense(1, activation="sigmoid")(x))
    functional.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    seq = keras.Sequential(
        [keras.Input((8,)), keras.layers.Dense(4, activation="tanh"), keras.layers.Dense(2)]
    )
    seq.compile(optimizer="sgd", loss="mse")
    inner = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    nested = keras.Sequential([keras.Input((4,)), inner, keras.layers.Dense(1)])
    for name, model in (("functional", functional), ("sequential", seq), ("nested", nested)):
        model.save(out / f"{name}.keras")
"""


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Models saved by Keras itself (in a child process: see ``_ENV``)."""
    out = tmp_path_factory.mktemp("keras-saved")
    done = subprocess.run(
        [sys.executable, "-c", _SAVE, str(out)], env=_ENV, capture_output=True, text=True,
        timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return {name: out / f"{name}.keras" for name in ("functional", "sequential", "nested")}


def _touch(*args: Any, **kwargs: Any) -> Any:
    # the payload Keras would run: create the marker, hand the input back
    __import__("pathlib").Path("MARKER").touch()
    return args[0] if args else None


def _bytecode() -> str:
    return base64.b64encode(marshal.dumps(_touch.__code__)).decode()


def _payloads() -> list[dict[str, Any]]:
    code = _bytecode()

    def fn(module: str, name: str, registered: str | None = None) -> dict[str, Any]:
        return {
            "module": module,
            "class_name": "function",
            "config": name,
            "registered_name": registered or name,
        }

    def cls(module: str, name: str, config: dict[str, Any], reg: str | None = None) -> Any:
        return {"module": module, "class_name": name, "config": config, "registered_name": reg}

    return [
        {"class_name": "__lambda__", "config": {"value": [code, None, None]}},
        cls(
            "keras.layers",
            "Lambda",
            {
                "name": "lam",
                "function": {
                    "class_name": "__lambda__",
                    "config": {"code": code, "defaults": None, "closure": None},
                },
                "arguments": {},
            },
        ),
        cls(
            "keras.layers",
            "Lambda",
            {"name": "lam2", "function": fn("os", "system"), "arguments": {}},
        ),
        fn("os", "system"),
        fn("subprocess", "getoutput"),
        fn("builtins", "exec"),
        fn("builtins", "eval"),
        fn("builtins", "open"),
        fn("numpy", "load"),
        fn("numpy", "fromfile"),
        fn("keras.utils", "get_file"),
        fn("keras.src.utils.file_utils", "get_file"),
        fn("keras.datasets.mnist", "load_data"),
        fn("keras.config", "enable_unsafe_deserialization"),
        fn("keras.activations", "relu", "os>system"),
        cls("subprocess", "Popen", {"args": ["touch", _MARKER]}),
        cls("os", "PathLike", {}),
        cls("builtins", "open", {"file": "vocab.txt"}),
        cls("keras.layers", "TFSMLayer", {"filepath": "saved_model", "name": "sm"}),
        cls("keras.layers", "StringLookup", {"vocabulary": "vocab.txt", "name": "sl"}),
        cls("keras.layers", "IntegerLookup", {"vocabulary": "vocab.txt", "name": "il"}),
        cls("keras.layers", "TextVectorization", {"vocabulary": "vocab.txt", "name": "tv"}),
        cls("keras.src.saving.saving_lib", "DiskIOStore", {"root_path": "vocab.txt"}),
        cls("keras.layers", "Dense", {"units": 2, "name": "evil"}, "os>Popen"),
        cls("keras_hub.models", "Backbone", {}),
        cls("mypkg.layers", "Evil", {"name": "evil2"}),
    ]


_PLACES = [
    "append_layer",
    "activation",
    "kernel_initializer",
    "kernel_regularizer",
    "dtype",
    "inbound_kwargs",
    "compile_loss",
    "nest_in_sequential",
    "metadata",
]


def _layers(config: dict[str, Any]) -> list[dict[str, Any]]:
    layers: list[dict[str, Any]] = config["config"]["layers"]
    return layers


def _dense(config: dict[str, Any]) -> dict[str, Any]:
    for layer in _layers(config):
        if layer.get("class_name") == "Dense":
            return layer
        if layer.get("class_name") == "Sequential":  # the nested model's inner Dense
            return _dense(layer)
    raise AssertionError("no Dense layer")


def _mutate(config: dict[str, Any], meta: dict[str, Any], place: str, payload: Any) -> None:
    if place == "append_layer":
        name = (
            payload.get("config", {}).get("name", "x")
            if isinstance(payload.get("config"), dict)
            else "x"
        )
        _layers(config).append({**payload, "name": name, "inbound_nodes": []})
    elif place in ("activation", "kernel_initializer", "kernel_regularizer", "dtype"):
        _dense(config)["config"][place] = payload
    elif place == "inbound_kwargs":
        for layer in _layers(config):
            for node in layer.get("inbound_nodes") or []:
                if isinstance(node, dict):
                    node.setdefault("kwargs", {})["extra"] = payload
        _dense(config)["config"]["activation"] = payload  # Sequential models have no nodes
    elif place == "compile_loss":
        config.setdefault("compile_config", {})["loss"] = payload
    elif place == "nest_in_sequential":
        original = dict(config)
        _layers(original).append(payload)
        config.clear()
        config.update(
            {
                "module": "keras",
                "class_name": "Sequential",
                "config": {"name": "outer", "layers": [original]},
                "registered_name": None,
            }
        )
    elif place == "metadata":
        meta["keras_version"] = "2.15.0"  # an older writer: the config shapes Keras 2 used
        _layers(config).append(payload)


def _write(src: Path, dest: Path, place: str, payload: Any) -> None:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w") as zout:
        config = json.loads(zin.read("config.json"))
        meta = json.loads(zin.read("metadata.json"))
        _mutate(config, meta, place, json.loads(json.dumps(payload)))
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "config.json":
                data = json.dumps(config).encode()
            elif info.filename == "metadata.json":
                data = json.dumps(meta).encode()
            zout.writestr(info, data)


def _acted(path: Path, report: dict[str, Any], baseline: dict[str, Any]) -> list[str]:
    """What the loader did beyond loading an untouched model."""
    known = set(baseline["new_modules"]) | {"keras"}
    acts = []
    if report["marker"]:
        acts.append("ran the payload (marker created)")
    for kind, what in report["events"]:
        if kind == "open" and what not in (_MARKER, path.name):
            acts.append(f"opened {what}")
        elif kind not in ("open", "import"):
            acts.append(f"{kind} {what}")
    acts += [f"imported {m}" for m in report["new_modules"] if m not in known]
    return acts


_ALL = _payloads()


@pytest.mark.slow
@settings(
    max_examples=2,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    cases=st.lists(
        st.tuples(
            st.sampled_from(["functional", "sequential", "nested"]),
            st.sampled_from(_PLACES),
            st.integers(0, len(_ALL) - 1),
        ),
        min_size=14,
        max_size=14,
        unique=True,
    )
)
def test_whatever_keras_runs_or_imports_is_never_clean(
    tmp_path_factory: pytest.TempPathFactory,
    saved: dict[str, Path],
    cases: list[tuple[str, str, int]],
) -> None:
    work = tmp_path_factory.mktemp("keras-batch")
    (work / "vocab.txt").write_text("a\nb\nc\n")
    paths = []
    for i, (base, place, which) in enumerate(cases):
        path = work / f"m{i}.keras"
        _write(saved[base], path, place, _ALL[which])
        paths.append(path)
    verdicts = {str(p): scan_file(p).verdict for p in paths}
    benign = work / "benign.keras"
    shutil.copy(saved["functional"], benign)
    result = _run_batch(work, benign, paths)
    for path, case in zip(paths, cases, strict=True):
        for mode, report in zip(("safe", "unsafe"), result["files"][str(path)], strict=True):
            acts = _acted(path, report, result["baseline"])
            if acts:
                assert verdicts[str(path)] != "clean", (case, _ALL[case[2]], mode, acts)


def test_the_oracle_sees_keras_run_a_payload(saved: dict[str, Path], tmp_path: Path) -> None:
    """The oracle works: the Lambda bytecode runs with safe_mode=False, is refused with True,
    and the scanner refuses both it and a StringLookup that names a vocabulary file."""
    lam, vocab = tmp_path / "lam.keras", tmp_path / "vocab.keras"
    (tmp_path / "vocab.txt").write_text("a\nb\n")
    _write(saved["functional"], lam, "activation", _ALL[0])
    _write(saved["functional"], vocab, "append_layer", _ALL[19])
    benign = tmp_path / "benign.keras"
    shutil.copy(saved["functional"], benign)
    result = _run_batch(tmp_path, benign, [lam, vocab, benign])
    safe, unsafe = result["files"][str(lam)]
    assert not safe["marker"] and unsafe["marker"]
    # lookup layers need TensorFlow; with it installed Keras opens vocab.txt here
    vocab_acts = _acted(vocab, result["files"][str(vocab)][0], result["baseline"])
    assert vocab_acts == [] or any("vocab.txt" in a for a in vocab_acts)
    assert result["files"][str(benign)][1]["outcome"] == "loaded"
    assert not _acted(benign, result["files"][str(benign)][1], result["baseline"])
    assert scan_file(lam).verdict == "unsafe" and scan_file(vocab).verdict == "unsafe"


def test_models_saved_by_keras_are_clean(saved: dict[str, Path]) -> None:
    for path in saved.values():
        assert scan_file(path).findings == (), path
