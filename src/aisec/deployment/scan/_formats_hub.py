"""What a model hub serves beside weights: the files whose loaders import or run code.

* Hugging Face folders: ``config.json`` / ``tokenizer_config.json`` ``auto_map`` (custom code
  that ``trust_remote_code`` imports) and chat templates (``chat_template`` in the tokenizer
  config, ``chat_template.json``, ``*.jinja``), parsed with jinja2's own parser.
* MLflow ``MLmodel``: a pyfunc ``loader_module`` outside MLflow, ``code`` paths put on
  ``sys.path``.
* Hydra / NeMo configs (``*.yaml`` inside ``.nemo`` archives and model folders): every
  ``_target_`` is imported and called by ``hydra.utils.instantiate``.
* skops ``schema.json``: every type the schema names, checked against the pickle allowlist;
  operator / attrgetter / methodcaller nodes.
* TensorFlow ``saved_model.pb`` / ``.pb`` graphs: an op allowlist (``tf_ops.txt``, generated
  from TensorFlow's op registry): operations that read or write files, run Python or reach the
  network are findings, any other op off the list makes the graph unverified; parsed with
  TensorFlow's own protobuf definitions as TensorBoard ships them
  (``tensorboard.compat.proto``), never by importing TensorFlow.
"""

from __future__ import annotations

import functools
import json
from typing import TYPE_CHECKING, Any

from aisec.deployment.scan import _rules as rules
from aisec.deployment.scan._policy import classify_callable, is_dangerous
from aisec.deployment.scan._zip import Buffer

if TYPE_CHECKING:
    from aisec.deployment.scan._formats import BlobScanner

__all__ = ["HUB_SCANNERS", "sniff_hub"]

MAX_CONFIG = 64 * 1024 * 1024
_TEMPLATE_NAMES = ("chat_template.jinja",)


def sniff_hub(name: str) -> str | None:
    """Formats recognised by their file name (their content is plain JSON/YAML/text)."""
    base = name.rsplit("/", 1)[-1]
    lower = base.lower()
    if base in ("config.json", "tokenizer_config.json", "processor_config.json"):
        return "hf-config"
    if base == "chat_template.json":
        return "hf-chat-template"
    if lower.endswith(".jinja") or base in _TEMPLATE_NAMES:
        return "jinja-template"
    if base == "MLmodel":
        return "mlflow"
    if lower.endswith((".yaml", ".yml")):
        return "hydra-config"
    if base == "saved_model.pb" or lower.endswith(".pb"):
        return "tf-graph"
    return None


def _text(s: BlobScanner, buf: Buffer, member: str | None, what: str) -> str | None:
    if len(buf) > MAX_CONFIG:
        s.unverified(f"{what} larger than {MAX_CONFIG} bytes", member)
        return None
    try:
        return buf[: len(buf)].decode("utf-8")
    except UnicodeDecodeError:
        s.unverified(f"{what} is not UTF-8 text", member)
        return None


def _json(s: BlobScanner, buf: Buffer, member: str | None, what: str) -> Any:
    text = _text(s, buf, member, what)
    if text is None:
        return None
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        s.unverified(f"{what} is not valid JSON", member)
        return None


# ---------------------------------------------------------------- chat templates
def _template(s: BlobScanner, source: str, member: str | None, key: str) -> None:
    from aisec.deployment.scan._formats_ml import TemplateUnreadableError, template_problems

    try:
        problems = template_problems(source)
    except TemplateUnreadableError as exc:
        s.unverified(f"{key}: {exc}", member)
        return
    for problem in problems:
        s.add(rules.GGUF_TEMPLATE, f"{key}: {problem}", member)


def _templates_in(value: Any) -> list[tuple[str, str]]:
    """``chat_template`` as a string, or a list of ``{"name", "template"}``."""
    if isinstance(value, str):
        return [("chat_template", value)]
    if isinstance(value, list):
        return [
            (f"chat_template[{item.get('name', i)}]", item["template"])
            for i, item in enumerate(value)
            if isinstance(item, dict) and isinstance(item.get("template"), str)
        ]
    return []


def scan_hf_config(s: BlobScanner, buf: Buffer, member: str | None, name: str) -> None:
    config = _json(s, buf, member, name)
    if not isinstance(config, dict):
        return
    auto_map = config.get("auto_map")
    if auto_map:
        refs = auto_map.values() if isinstance(auto_map, dict) else [auto_map]
        shown = ", ".join(sorted({json.dumps(r) if not isinstance(r, str) else r for r in refs}))
        s.add(
            rules.REMOTE_CODE,
            f"auto_map names custom code that trust_remote_code imports: {shown}",
            member,
        )
    for key, source in _templates_in(config.get("chat_template")):
        _template(s, source, member, key)


def scan_hf_chat_template(s: BlobScanner, buf: Buffer, member: str | None, name: str) -> None:
    data = _json(s, buf, member, name)
    if isinstance(data, dict):
        for key, source in _templates_in(data.get("chat_template")):
            _template(s, source, member, key)


def scan_jinja(s: BlobScanner, buf: Buffer, member: str | None, name: str) -> None:
    text = _text(s, buf, member, name)
    if text is not None:
        _template(s, text, member, name)


# ---------------------------------------------------------------- MLflow
def scan_mlmodel(s: BlobScanner, buf: Buffer, member: str | None, name: str) -> None:
    text = _text(s, buf, member, name)
    if text is None:
        return
    import yaml  # here, not at the top: importing PyYAML costs a one-file scan ~15 ms

    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError:
        s.unverified("MLmodel is not valid YAML", member)
        return
    flavors = doc.get("flavors") if isinstance(doc, dict) else None
    if not isinstance(flavors, dict):
        return
    for flavor, conf in flavors.items():
        if not isinstance(conf, dict):
            continue
        loader = conf.get("loader_module")
        if isinstance(loader, str) and not loader.startswith("mlflow."):
            s.add(
                rules.REMOTE_CODE,
                f"flavor {flavor!r}: loader_module {loader!r} is imported by mlflow.pyfunc",
                member,
            )
        code = conf.get("code")
        if code:
            s.add(
                rules.REMOTE_CODE,
                f"flavor {flavor!r}: code path {code!r} is put on sys.path and imported",
                member,
            )
        if conf.get("python_model"):
            s.add(
                rules.REMOTE_CODE,
                f"flavor {flavor!r}: python_model {conf['python_model']!r} is a cloudpickled "
                "Python class that mlflow.pyfunc unpickles",
                member,
            )


# ---------------------------------------------------------------- Hydra / NeMo
_TARGET_PREFIXES = ("nemo.", "torch.nn.", "torch.optim.", "omegaconf.", "megatron.core.")


def scan_hydra(s: BlobScanner, buf: Buffer, member: str | None, name: str) -> None:
    text = _text(s, buf, member, name)
    if text is None:
        return
    import yaml

    try:
        docs = list(yaml.safe_load_all(text))
    except yaml.YAMLError:
        return  # not a config a loader reads (YAML that does not parse is not instantiated)
    stack: list[tuple[Any, int]] = [(d, 0) for d in docs]
    while stack:
        node, depth = stack.pop()
        if depth > 200:
            s.unverified("config nested deeper than 200 levels", member)
            return
        if isinstance(node, dict):
            for key in ("_target_", "_partial_target_"):
                target = node.get(key)
                if isinstance(target, str):
                    module, _, attr = target.rpartition(".")
                    if is_dangerous(module, attr) or not target.startswith(_TARGET_PREFIXES):
                        s.add(
                            rules.REMOTE_CODE,
                            f"{key} {target!r} is imported and called by hydra instantiate",
                            member,
                            None,
                            target,
                        )
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)


# ---------------------------------------------------------------- skops
_SKOPS_OPERATOR_LOADERS = frozenset({"OperatorFuncNode", "MethodNode"})


def scan_skops_schema(s: BlobScanner, buf: Buffer, member: str | None, name: str) -> None:
    schema = _json(s, buf, member, name)
    stack: list[tuple[Any, int]] = [(schema, 0)]
    seen: set[tuple[str, str, str]] = set()
    while stack:
        node, depth = stack.pop()
        if depth > 500:
            s.unverified("skops schema nested deeper than 500 levels", member)
            return
        if isinstance(node, dict):
            cls, module = node.get("__class__"), node.get("__module__")
            loader = str(node.get("__loader__", ""))
            if isinstance(cls, str) and isinstance(module, str):
                key = (module, cls, loader)
                if key not in seen:
                    seen.add(key)
                    _skops_type(s, module, cls, loader, member)
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)


def _skops_type(s: BlobScanner, module: str, cls: str, loader: str, member: str | None) -> None:
    name = f"{module}.{cls}"
    if loader in _SKOPS_OPERATOR_LOADERS or module in ("operator", "_operator"):
        s.add(rules.SKOPS_TYPE, f"{loader or 'node'} {name}: calls a function", member, None, name)
        return
    verdict = classify_callable(module, cls)
    if verdict == "safe" or (module, cls) in _SKOPS_BUILTINS:
        return
    s.add(
        rules.SKOPS_TYPE,
        f"{loader or 'node'} names {name}, outside the allowlist",
        member,
        None,
        name,
    )


#: skops' own nodes for plain values (a dict, a JSON scalar): data, not callables.
_SKOPS_BUILTINS = frozenset(
    {
        *(
            ("builtins", n)
            for n in ("NoneType", "str", "int", "float", "bool", "dict", "list", "tuple")
        ),
        # numpy scalar types (skops stores a dtype's scalar type by name)
        *(
            ("numpy", n)
            for n in (
                "bool",
                "bool_",
                "int8",
                "int16",
                "int32",
                "int64",
                "uint8",
                "uint16",
                "uint32",
                "uint64",
                "intp",
                "uintp",
                "float16",
                "float32",
                "float64",
                "longdouble",
                "complex64",
                "complex128",
                "str_",
                "bytes_",
                "void",
                "datetime64",
                "timedelta64",
            )
        ),
    }
)


# ---------------------------------------------------------------- TensorFlow
#: Operations that read or write files, run Python, or reach the network. The list follows
#: TensorFlow's op registry (tf.raw_ops); everything else computes on tensors.
TF_DENIED_OPS = frozenset(
    {
        # Python
        "PyFunc",
        "PyFuncStateless",
        "EagerPyFunc",
        # files
        "ReadFile",
        "WriteFile",
        "MatchingFiles",
        "ImmutableConst",
        "Save",
        "SaveV2",
        "SaveSlices",
        "Restore",
        "RestoreV2",
        "RestoreSlice",
        "MergeV2Checkpoints",
        "ShardedFilename",
        "WholeFileReader",
        "WholeFileReaderV2",
        "TextLineReader",
        "TextLineReaderV2",
        "TFRecordReader",
        "TFRecordReaderV2",
        "FixedLengthRecordReader",
        "FixedLengthRecordReaderV2",
        "LMDBReader",
        "TFRecordDataset",
        "TFRecordDatasetV2",
        "TextLineDataset",
        "FixedLengthRecordDataset",
        "FixedLengthRecordDatasetV2",
        "CSVDataset",
        "CSVDatasetV2",
        "ExperimentalCSVDataset",
        "LMDBDataset",
        "ExperimentalLMDBDataset",
        "SqlDataset",
        "ExperimentalSqlDataset",
        "LoadDataset",
        "SaveDataset",
        "SaveDatasetV2",
        "SnapshotDataset",
        "SnapshotDatasetV2",
        "InitializeTableFromTextFile",
        "InitializeTableFromTextFileV2",
        "LoadAndRemapMatrix",
        "CreateSummaryFileWriter",
        "CreateSummaryDbWriter",
        "WriteFileAsync",
        "PrintV2",
        "DecodeProtoV2",
        "EncodeProto",
        # network
        "DebugIdentity",
        "DebugIdentityV2",
        "DebugIdentityV3",
        "DebugNanCount",
        "DebugNumericSummary",
        "DebugNumericSummaryV2",
        "_Send",
        "_Recv",
        "_HostSend",
        "_HostRecv",
        "CollectiveReduce",
        "CollectiveGather",
        "CollectiveBcastSend",
        "CollectiveBcastRecv",
        "RpcClient",
        "RpcCall",
        "RpcServer",
        "RpcServerStart",
        "RpcServerRegister",
        "DataServiceDataset",
        "DataServiceDatasetV2",
        "DataServiceDatasetV3",
        "DataServiceDatasetV4",
        "RegisterDataset",
        "RegisterDatasetV2",
    }
)


@functools.cache
def tf_safe_ops() -> frozenset[str]:
    """The allowlist: ``tf_ops.txt`` (generated from TensorFlow's op registry by
    scripts/gen_tf_ops.py) without the deny list."""
    from importlib import resources  # ~5 ms to import: only when the data file is read

    text = resources.files("aisec.deployment.scan").joinpath("tf_ops.txt").read_text("utf-8")
    names = {line.strip() for line in text.splitlines()}
    return frozenset(n for n in names if n and not n.startswith("#")) - TF_DENIED_OPS


def _wire_fields(buf: bytes) -> list[tuple[int, int, Any]]:
    from aisec.deployment.scan._formats_ml import _fields

    return _fields(buf)


#: Checkpoint ops: a SavedModel's own saver runs them to restore its variables from the
#: model's ``variables/`` folder (and to save them), with a path the loader supplies. Inside
#: the saver (what ``saver_def`` names, and the functions it calls) they are expected; anywhere
#: else (a serving function, a plain graph) they read or write files the model chooses.
TF_CHECKPOINT_OPS = frozenset(
    {"SaveV2", "RestoreV2", "MergeV2Checkpoints", "ShardedFilename", "Save", "Restore",
     "SaveSlices", "RestoreSlice"}
)  # fmt: skip


def _node_functions(node: Any, library: set[str]) -> set[str]:
    """The library functions a node calls: by op name, or through func-valued attributes
    (``StatefulPartitionedCall.f``, ``If.then_branch``, lists of functions)."""
    out = {node.op} & library
    for value in node.attr.values():
        if value.HasField("func"):
            out.add(value.func.name)
        out.update(f.name for f in value.list.func)
    return out & library


def _saver_scope(meta: Any, graph: Any, library: dict[str, Any]) -> tuple[set[str], set[str]]:
    """The graph nodes and library functions that belong to the meta graph's saver only."""
    saver = meta.saver_def if meta is not None and meta.HasField("saver_def") else None
    if saver is None:
        return set(), set()
    roots = {n.split(":")[0].lstrip("^") for n in (saver.restore_op_name, saver.save_tensor_name)}
    by_name = {node.name: node for node in graph.node}
    nodes: set[str] = set()
    stack = [r for r in roots if r]
    while stack:  # TF1: the save/restore subgraph, walked back along inputs
        name = stack.pop()
        if name in nodes or name not in by_name:
            continue
        nodes.add(name)
        stack += [i.split(":")[0].lstrip("^") for i in by_name[name].input]
    names = set(library)
    fns: set[str] = set()
    todo = [f for n in nodes for f in _node_functions(by_name[n], names)]
    while todo:  # TF2: the __inference__traced_save/restore functions and what they call
        fn = todo.pop()
        if fn in fns:
            continue
        fns.add(fn)
        todo += [f for nd in library[fn].node_def for f in _node_functions(nd, names)]
    # a saver that a signature or the object graph can also run is no longer the saver alone:
    # then none of it is exempt
    exposed = {t.name.split(":")[0] for sig in meta.signature_def.values()
               for t in (*sig.inputs.values(), *sig.outputs.values())}  # fmt: skip
    exposed_fns = set(meta.object_graph_def.concrete_functions)
    if exposed & nodes or exposed_fns & fns:
        return set(), set()
    return nodes, fns


def tf_graph_ops(data: bytes, saved_model: bool) -> tuple[set[str], set[str]]:
    """The op names of the graph and its function library (SavedModel: every meta graph):
    those outside the saver, and those the saver alone runs (:func:`_saver_scope`).

    Raises ValueError (or the protobuf DecodeError, a subclass of Exception) if unreadable;
    ImportError if TensorBoard's copy of the TF protos is missing.
    """
    import importlib

    # TensorFlow's own protobuf definitions, compiled and shipped by TensorBoard (untyped)
    graph_pb2: Any = importlib.import_module("tensorboard.compat.proto.graph_pb2")
    meta_graph_pb2: Any = importlib.import_module("tensorboard.compat.proto.meta_graph_pb2")

    metas: list[tuple[Any, Any]] = []
    if saved_model:
        # SavedModel { int64 schema_version = 1; repeated MetaGraphDef meta_graphs = 2; }:
        # a two-field wrapper TensorBoard does not ship, read with the wire reader
        for num, wire, value in _wire_fields(data):
            if num == 2 and wire == 2:
                meta = meta_graph_pb2.MetaGraphDef.FromString(value)
                metas.append((meta, meta.graph_def))
    else:
        metas.append((None, graph_pb2.GraphDef.FromString(data)))
    ops: set[str] = set()
    saver_ops: set[str] = set()
    functions: set[str] = set()
    for meta, graph in metas:
        library = {fn.signature.name: fn for fn in graph.library.function}
        functions.update(library)
        saver_nodes, saver_fns = _saver_scope(meta, graph, library)
        for node in graph.node:
            (saver_ops if node.name in saver_nodes else ops).add(node.op)
        for name, fn in library.items():
            (saver_ops if name in saver_fns else ops).update(node.op for node in fn.node_def)
    # a node may call a function of the library by its name: that body is read above
    return ops - functions, saver_ops - functions


def scan_tf_graph(s: BlobScanner, buf: Buffer, member: str | None, name: str) -> None:
    if len(buf) > 2 * 1024 * 1024 * 1024:
        s.unverified("protobuf larger than 2 GiB", member)
        return
    saved = name.rsplit("/", 1)[-1] == "saved_model.pb"
    try:
        ops, saver_ops = tf_graph_ops(buf[: len(buf)], saved)
    except ImportError:
        s.unverified("TensorFlow graph not checked: install tensorboard (its TF protos)", member)
        return
    except Exception as exc:  # protobuf's DecodeError and friends: never cleared
        s.unverified(f"TensorFlow graph does not parse: {exc}", member)
        return
    for op in sorted(ops & TF_DENIED_OPS):
        s.add(rules.TF_GRAPH_OP, f"graph uses {op}", member, None, op)
    # the saver's own checkpoint ops are expected; any other denied op in it is a finding
    for op in sorted((saver_ops - TF_CHECKPOINT_OPS) & TF_DENIED_OPS):
        s.add(rules.TF_GRAPH_OP, f"graph's saver uses {op}", member, None, op)
    unknown = sorted((ops | saver_ops) - TF_DENIED_OPS - tf_safe_ops())
    if unknown:
        shown = ", ".join(unknown[:20]) + (
            f" and {len(unknown) - 20} more" if len(unknown) > 20 else ""
        )
        s.unverified(f"TensorFlow graph uses ops outside the allowlist: {shown}", member)
    s.calls.update(f"tf::{op}" for op in ops | saver_ops)


HUB_SCANNERS = {
    "hf-config": scan_hf_config,
    "hf-chat-template": scan_hf_chat_template,
    "jinja-template": scan_jinja,
    "mlflow": scan_mlmodel,
    "hydra-config": scan_hydra,
    "skops-schema": scan_skops_schema,
    "tf-graph": scan_tf_graph,
}
