"""Formats a model hub serves beside weights: benign files made by the real libraries are
clean, malicious ones are findings, and nothing in them is executed."""

from __future__ import annotations

import importlib.util
import io
import json
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest

from aisec.deployment import scan_file, scan_model

HAS = {m: importlib.util.find_spec(m) is not None for m in ("skops", "tensorboard")}


def _ids(path: Path) -> set[str]:
    return {f.id for f in scan_file(path).findings}


# ---------------------------------------------------------------- archives
def _tar(path: Path, members: list[tarfile.TarInfo], mode: str = "w") -> None:
    with tarfile.open(path, mode) as tar:
        for info in members:
            data = b"x" * info.size if info.isfile() else None
            tar.addfile(info, io.BytesIO(data) if data is not None else None)


def _info(
    name: str, kind: bytes = tarfile.REGTYPE, link: str = "", size: int = 1
) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = link
    info.size = size if kind == tarfile.REGTYPE else 0
    return info


@pytest.mark.parametrize(
    ("member", "why"),
    [
        (_info("../../etc/cron.d/x"), "climbs"),
        (_info("/etc/passwd"), "absolute"),
        (_info("ok/link", tarfile.SYMTYPE, "../../../etc/shadow"), "symbolic link"),
        (_info("abs-link", tarfile.SYMTYPE, "/etc/shadow"), "symbolic link"),
        (_info("hard", tarfile.LNKTYPE, "../outside"), "hard link"),
        (_info("dev", tarfile.CHRTYPE), "device"),
    ],
)
@pytest.mark.parametrize("mode", ["w", "w:gz"])
def test_tar_members_that_escape_are_findings(
    tmp_path: Path, member: tarfile.TarInfo, why: str, mode: str
) -> None:
    path = tmp_path / "model.tar"
    _tar(path, [_info("model/weights.bin"), member], mode)
    result = scan_file(path)
    hits = [f for f in result.findings if f.id == "AISEC-DEP-014"]
    assert hits and why in hits[0].detail, result.findings
    assert not (tmp_path / "etc").exists()


def test_benign_tar_with_internal_link_is_clean(tmp_path: Path) -> None:
    path = tmp_path / "model.tar"
    _tar(path, [_info("m/a.txt"), _info("m/b.txt", tarfile.SYMTYPE, "a.txt")])
    assert scan_file(path).findings == ()


def test_zip_members_that_escape_are_findings(tmp_path: Path) -> None:
    path = tmp_path / "m.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("ok.txt", "x")
        zf.writestr("../evil.txt", "x")
        zf.writestr("/abs.txt", "x")
        link = zipfile.ZipInfo("link")
        link.external_attr = 0o120777 << 16
        zf.writestr(link, "/etc/passwd")
    details = [f.detail for f in scan_file(path).findings if f.id == "AISEC-DEP-014"]
    assert len(details) == 3, details


# ---------------------------------------------------------------- Hugging Face
def test_hf_folder_made_by_transformers_is_clean(tmp_path: Path) -> None:
    pytest.importorskip("transformers")
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import BertConfig, PreTrainedTokenizerFast

    BertConfig(num_hidden_layers=1, hidden_size=8, num_attention_heads=2).save_pretrained(tmp_path)
    tok = Tokenizer(models.WordLevel({"[UNK]": 0, "hi": 1}, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]")
    fast.chat_template = (
        "{% for m in messages %}{{ m['role'] }}: {{ m['content'] | trim }}\n{% endfor %}"
        "{% if add_generation_prompt %}assistant:{% endif %}"
    )
    fast.save_pretrained(tmp_path)
    report = scan_model([tmp_path])
    assert report.findings == ()
    assert "hf-config" in {f.format for f in report.files}


def test_hf_auto_map_and_template_escapes_are_findings(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(
        json.dumps({"model_type": "x", "auto_map": {"AutoModel": "modeling_x.XModel"}})
    )
    (tmp_path / "tokenizer_config.json").write_text(
        json.dumps(
            {
                "chat_template": [
                    {"name": "default", "template": "{{ messages }}"},
                    {"name": "tool", "template": "{{ cycler.__init__.__globals__.os }}"},
                ]
            }
        )
    )
    (tmp_path / "chat_template.jinja").write_text(
        "{{ ''|attr('__cla' ~ 'ss__') }}{{ x['__glo' + 'bals__'] }}"
    )
    report = scan_model([tmp_path])
    by_file = {Path(f.path).name: {x.id for x in f.findings} for f in report.files}
    assert by_file["config.json"] == {"AISEC-DEP-016"}
    assert by_file["tokenizer_config.json"] == {"AISEC-DEP-009"}
    assert by_file["chat_template.jinja"] == {"AISEC-DEP-009"}


@pytest.mark.parametrize(
    "template",
    [
        "{{ ''.__class__ }}",
        "{{ ''|attr('__class__') }}",
        "{{ ''|attr('__cla' ~ 'ss__') }}",
        "{{ x[('__' ~ 'class__')] }}",
        "{% set n = '__class__' %}{{ ''|attr(n) }}",
        "{{ lipsum.__globals__ }}",
        "{{ range.__self__ }}",
        "{{ self._TemplateReference__context }}",
        "{{ ''['__cla''ss__'] }}",
    ],
)
def test_template_escapes_however_the_name_is_built(tmp_path: Path, template: str) -> None:
    path = tmp_path / "t.jinja"
    path.write_text(template)
    assert _ids(path) == {"AISEC-DEP-009"}, template


# ---------------------------------------------------------------- MLflow, NeMo
def test_mlflow_model_folders(tmp_path: Path) -> None:
    good = tmp_path / "good"
    good.mkdir()
    (good / "MLmodel").write_text(
        "flavors:\n  python_function:\n    loader_module: mlflow.sklearn\n"
        "    model_path: model.pkl\n  sklearn:\n    pickled_model: model.pkl\n"
    )
    assert scan_model([good]).findings == ()
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "MLmodel").write_text(
        "flavors:\n  python_function:\n    loader_module: my_loader\n    code: code\n"
        "    python_model: python_model.pkl\n"
    )
    details = [f.detail for f in scan_model([bad]).findings]
    assert len(details) == 3 and all("flavor" in d for d in details)


def test_nemo_archive_with_hydra_targets(tmp_path: Path) -> None:
    def nemo(path: Path, config: str) -> None:
        with tarfile.open(path, "w:gz") as tar:
            data = config.encode()
            info = tarfile.TarInfo("./model_config.yaml")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))

    good = tmp_path / "good.nemo"
    nemo(good, "target: x\nencoder:\n  _target_: nemo.collections.asr.modules.ConvASREncoder\n")
    assert scan_file(good).findings == ()
    bad = tmp_path / "bad.nemo"
    nemo(bad, "optim:\n  sched:\n    _target_: os.system\n    command: touch /tmp/x\n")
    result = scan_file(bad)
    assert [f.evidence.get("callable") for f in result.findings] == ["os.system"]


# ---------------------------------------------------------------- skops
@pytest.mark.skipif(not HAS["skops"], reason="skops is not installed")
def test_skops_files_made_by_skops(tmp_path: Path) -> None:
    import skops.io as sio
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x = np.random.default_rng(0).normal(size=(20, 3))
    y = (x[:, 0] > 0).astype(int)
    for i, model in enumerate(
        [
            make_pipeline(StandardScaler(), LogisticRegression()).fit(x, y),
            RandomForestClassifier(n_estimators=2).fit(x, y),
        ]
    ):
        path = tmp_path / f"m{i}.skops"
        sio.dump(model, path)
        result = scan_file(path)
        assert result.format == "skops" and result.findings == (), result.findings
    # a schema that names a type outside the allowlist and an operator node
    src = tmp_path / "m0.skops"
    bad = tmp_path / "bad.skops"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(bad, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "schema.json":
                schema = json.loads(data)
                schema["content"]["extra"] = {
                    "__class__": "system",
                    "__module__": "os",
                    "__loader__": "FunctionNode",
                    "content": {},
                }
                schema["content"]["op"] = {
                    "__class__": "attrgetter",
                    "__module__": "operator",
                    "__loader__": "OperatorFuncNode",
                }
                data = json.dumps(schema).encode()
            zout.writestr(info, data)
    assert {f.evidence.get("callable") for f in scan_file(bad).findings} == {
        "os.system",
        "operator.attrgetter",
    }


# ---------------------------------------------------------------- TensorFlow
@pytest.mark.skipif(not HAS["tensorboard"], reason="tensorboard (TF protos) is not installed")
def test_tensorflow_graphs(tmp_path: Path) -> None:
    from tensorboard.compat.proto import graph_pb2, meta_graph_pb2

    def graph(*ops: str) -> graph_pb2.GraphDef:
        g = graph_pb2.GraphDef()
        for i, op in enumerate(ops):
            node = g.node.add()
            node.name, node.op = f"n{i}", op
        return g

    plain = tmp_path / "frozen.pb"
    plain.write_bytes(graph("Placeholder", "MatMul", "Relu", "Const").SerializeToString())
    assert scan_file(plain).findings == ()
    evil = tmp_path / "evil.pb"
    evil.write_bytes(graph("Const", "ReadFile", "PyFunc").SerializeToString())
    assert {f.evidence["callable"] for f in scan_file(evil).findings} == {"ReadFile", "PyFunc"}
    # a SavedModel: the op hides in a function of the graph's library
    meta = meta_graph_pb2.MetaGraphDef()
    meta.graph_def.CopyFrom(graph("Const"))
    fn = meta.graph_def.library.function.add()
    fn.signature.name = "f"
    node = fn.node_def.add()
    node.name, node.op = "w", "WriteFile"
    folder = tmp_path / "saved"
    folder.mkdir()
    wrapper = b"\x08\x01" + b"\x12" + _varint(meta.ByteSize()) + meta.SerializeToString()
    (folder / "saved_model.pb").write_bytes(wrapper)
    result = scan_model([folder])
    assert [f.evidence["callable"] for f in result.findings] == ["WriteFile"]
    # an op TensorFlow's registry does not list as safe: could not be verified, never clean
    odd = tmp_path / "odd.pb"
    odd.write_bytes(graph("Placeholder", "MyCustomOp", "Relu").SerializeToString())
    result = scan_file(odd)
    assert result.verdict == "unverified"
    assert "MyCustomOp" in result.findings[0].detail
    # a SavedModel as TensorFlow writes one: variables, calls into its library, control flow
    meta = meta_graph_pb2.MetaGraphDef()
    meta.graph_def.CopyFrom(
        graph("Placeholder", "VarHandleOp", "ReadVariableOp", "StatefulPartitionedCall", "NoOp")
    )
    fn = meta.graph_def.library.function.add()
    fn.signature.name = "__inference_call_42"
    for i, op in enumerate(("MatMul", "BiasAdd", "Relu", "Softmax", "If", "Identity")):
        node = fn.node_def.add()
        node.name, node.op = f"f{i}", op
    node = meta.graph_def.node.add()
    node.name, node.op = "call", "__inference_call_42"  # a node calling the function by name
    good = tmp_path / "good"
    good.mkdir()
    (good / "saved_model.pb").write_bytes(
        b"\x08\x01" + b"\x12" + _varint(meta.ByteSize()) + meta.SerializeToString()
    )
    assert scan_model([good]).findings == ()
    (tmp_path / "junk.pb").write_bytes(b"\xff\xff\xff garbage")
    assert scan_file(tmp_path / "junk.pb").verdict == "unverified"


@pytest.mark.skipif(not HAS["tensorboard"], reason="tensorboard (TF protos) is not installed")
def test_a_saved_models_own_saver_may_checkpoint_but_nothing_else(tmp_path: Path) -> None:
    """TF2 writes SaveV2/RestoreV2 into __inference__traced_save/restore functions that its
    saver_def names; TF1 into a save/ subgraph. Those are how variables load, not findings;
    the same ops in a serving function, or a saver that a signature exposes, are."""
    from tensorboard.compat.proto import meta_graph_pb2

    def saved(meta: meta_graph_pb2.MetaGraphDef, name: str) -> Path:
        folder = tmp_path / name
        folder.mkdir()
        body = meta.SerializeToString()
        (folder / "saved_model.pb").write_bytes(b"\x08\x01\x12" + _varint(len(body)) + body)
        return folder

    def tf2(checkpoint_in_serving: bool = False) -> meta_graph_pb2.MetaGraphDef:
        meta = meta_graph_pb2.MetaGraphDef()
        g = meta.graph_def
        for name, op, fn in (("saver_filename", "Placeholder", None),
                             ("StatefulPartitionedCall_1", "StatefulPartitionedCall", "save"),
                             ("StatefulPartitionedCall_2", "StatefulPartitionedCall", "restore"),
                             ("serve", "StatefulPartitionedCall", "serving")):  # fmt: skip
            node = g.node.add()
            node.name, node.op = name, op
            if fn:
                node.attr["f"].func.name = f"__inference_{fn}_7"
                node.input.append("saver_filename")
        bodies = {"save": ("StringJoin", "ShardedFilename", "SaveV2", "MergeV2Checkpoints"),
                  "restore": ("RestoreV2", "AssignVariableOp", "Identity"),
                  "serving": ("MatMul", "Relu") + (("ReadFile", "SaveV2") if
                                                   checkpoint_in_serving else ())}  # fmt: skip
        for fn, ops in bodies.items():
            f = g.library.function.add()
            f.signature.name = f"__inference_{fn}_7"
            for i, op in enumerate(ops):
                nd = f.node_def.add()
                nd.name, nd.op = f"{fn}{i}", op
        meta.saver_def.filename_tensor_name = "saver_filename:0"
        meta.saver_def.save_tensor_name = "StatefulPartitionedCall_1:0"
        meta.saver_def.restore_op_name = "StatefulPartitionedCall_2"
        return meta

    assert scan_model([saved(tf2(), "tf2")]).findings == ()
    bad = scan_model([saved(tf2(checkpoint_in_serving=True), "tf2-bad")])
    assert sorted(f.evidence["callable"] for f in bad.findings) == ["ReadFile", "SaveV2"]
    # a saver exposed through a signature: nothing of it is exempt
    exposed = tf2()
    exposed.signature_def["leak"].outputs["out"].name = "StatefulPartitionedCall_1:0"
    calls = {f.evidence["callable"] for f in scan_model([saved(exposed, "exposed")]).findings}
    assert {"SaveV2", "RestoreV2", "MergeV2Checkpoints", "ShardedFilename"} <= calls
    # TF1: the save/ subgraph, found by walking back from restore_all and the save tensor
    meta = meta_graph_pb2.MetaGraphDef()
    for name, op, inputs in (("x", "Placeholder", ()), ("w", "VariableV2", ()),
                             ("y", "MatMul", ("x", "w")), ("save/Const", "Const", ()),
                             ("save/SaveV2", "SaveV2", ("save/Const", "w")),
                             ("save/control_dependency", "Identity",
                              ("save/Const", "^save/SaveV2")),
                             ("save/RestoreV2", "RestoreV2", ("save/Const",)),
                             ("save/Assign", "Assign", ("w", "save/RestoreV2")),
                             ("save/restore_all", "NoOp", ("^save/Assign",))):  # fmt: skip
        node = meta.graph_def.node.add()
        node.name, node.op = name, op
        node.input.extend(inputs)
    meta.saver_def.filename_tensor_name = "save/Const:0"
    meta.saver_def.save_tensor_name = "save/control_dependency:0"
    meta.saver_def.restore_op_name = "save/restore_all"
    assert scan_model([saved(meta, "tf1")]).findings == ()


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


# ---------------------------------------------------------------- Keras
@pytest.fixture(scope="module")
def keras_files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numpy 2 deprecation notices from inside keras
        return _keras_files(tmp_path_factory.mktemp("keras"))


def _keras_files(tmp_path: Path) -> list[Path]:
    import os

    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    inp = keras.Input((4,))
    x = keras.layers.Dense(3, activation="relu")(inp)
    x = keras.layers.Normalization()(x)
    out = keras.layers.Dense(1, activation="sigmoid")(x)
    functional = keras.Model(inp, out)
    seq = keras.Sequential(
        [keras.Input((8,)), keras.layers.Dense(4), keras.layers.Dropout(0.1), keras.layers.Dense(2)]
    )
    seq.compile(optimizer="adam", loss="mse")
    paths = []
    for name, model in (("functional", functional), ("sequential", seq)):
        path = tmp_path / f"{name}.keras"
        model.save(path)
        paths.append(path)
    return paths


def _edit_keras(src: Path, dest: Path, layer: dict[str, object]) -> None:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "config.json":
                config = json.loads(data)
                config["config"]["layers"].append(layer)
                data = json.dumps(config).encode()
            zout.writestr(info, data)


@pytest.mark.parametrize(
    "layer",
    [
        {"module": "builtins", "class_name": "function", "config": "exec"},
        {"module": "keras.src.utils.file_utils", "class_name": "function", "config": "get_file"},
        {"module": "keras.utils", "class_name": "get_file", "config": {"origin": "http://x"}},
        {"module": "keras.layers", "class_name": "TFSMLayer", "config": {"filepath": "/x"}},
        {
            "module": "keras.layers",
            "class_name": "StringLookup",
            "config": {"vocabulary": "/etc/passwd"},
        },
        {"module": "mypkg.layers", "class_name": "Evil", "config": {}},
        {"module": "keras.layers", "class_name": "Lambda", "config": {"function": "x"}},
    ],
)
def test_keras_references_outside_the_safe_set(
    tmp_path: Path, layer: dict[str, object], keras_files: list[Path]
) -> None:
    src = keras_files[0]
    bad = tmp_path / "bad.keras"
    _edit_keras(src, bad, layer)
    assert scan_file(bad).verdict == "unsafe", layer


def test_keras_files_made_by_keras_are_clean(keras_files: list[Path]) -> None:
    for path in keras_files:
        assert scan_file(path).findings == (), path
