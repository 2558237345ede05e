"""Every public function that takes a path takes it as ``str`` or any ``os.PathLike``.

A notebook passes ``"models/x.pkl"``; a library passes its own path object. Each case below
calls one public function three ways — a ``pathlib.Path``, a ``str`` and a PathLike that is
not a ``Path`` (only ``__fspath__``) — in three fresh folders and compares what comes back.
A last test reads the signatures: no public function may ask for a bare ``Path`` again.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from aisec.core.digest import digest_file, digest_path
from aisec.core.evidence import EvidenceStore, generate_keypair, load_public_key, load_signing_key
from aisec.core.frameworks import import_atlas, load_catalog
from aisec.data import (
    audit_dataset,
    load_record_file,
    load_schema,
    record_from_croissant,
    record_to_croissant,
    register_source,
)
from aisec.deployment import (
    check_deployment,
    convert_to_safetensors,
    hash_model,
    load_policy,
    scan_file,
    scan_model,
    sign_model,
    verify_model,
)
from aisec.evaluation import load_suite
from aisec.inference import load_config
from aisec.monitoring import detect_format, iter_files, load_ai_catalog

ROOT = Path(__file__).resolve().parents[1]


class FsPath:
    """A PathLike that is not a pathlib.Path: only ``os.fspath`` can read it."""

    def __init__(self, path: Path) -> None:
        self._path = str(path)

    def __fspath__(self) -> str:
        return self._path


KINDS: dict[str, Callable[[Path], Any]] = {"str": str, "pathlike": FsPath}

RECORD = {
    "name": "forum",
    "origin": "https://forum.example/symptoms",
    "owner": "public",
    "licence": "unknown",
    "collection_method": "web scrape",
}


def _atlas_text() -> str:
    """The small ATLAS document the catalogue tests import (one source for both)."""
    tree = ast.parse((ROOT / "tests" / "core" / "test_frameworks.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "SMALL_ATLAS":
            return str(ast.literal_eval(node.value))
    raise AssertionError("SMALL_ATLAS not found")


def _model(folder: Path) -> Path:
    folder.mkdir(parents=True)
    header = json.dumps({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}).encode()
    (folder / "model.safetensors").write_bytes(
        len(header).to_bytes(8, "little") + header + bytes(8)
    )
    (folder / "config.json").write_text('{"layers": 1}')
    return folder


# each case: (folder, as_path) -> a value that must not depend on how the path was given
def _digest(tmp: Path, p: Callable[[Path], Any]) -> object:
    model = _model(tmp / "m")
    return digest_file(p(model / "config.json")), digest_path(p(model)).digest


def _keys(tmp: Path, p: Callable[[Path], Any]) -> object:
    key, private, public = generate_keypair(p(tmp / "k" / "release.key"))
    loaded = load_signing_key(p(private))
    assert loaded.public.keyid == key.public.keyid
    return load_public_key(p(public)).keyid == key.public.keyid, private.name, public.name


def _store(tmp: Path, p: Callable[[Path], Any]) -> object:
    with EvidenceStore.open(f"sqlite:///{tmp / 'e.db'}", witness_dir=p(tmp / "w")) as store:
        return len(store.heads())


def _catalog(tmp: Path, p: Callable[[Path], Any]) -> object:
    (tmp / "ATLAS.yaml").write_text(_atlas_text())
    result = import_atlas(p(tmp / "ATLAS.yaml"), home=p(tmp / "home"))
    overlay = load_catalog(home=p(tmp / "home")).atlas_overlay
    assert overlay is not None
    return result.version, result.techniques, overlay.version


def _monitoring(tmp: Path, p: Callable[[Path], Any]) -> object:
    (tmp / "logs").mkdir()
    (tmp / "logs" / "a.jsonl").write_text('{"host": "api.openai.com"}\n')
    names = [f.name for f in iter_files([p(tmp / "logs")])]
    (tmp / "extra.yaml").write_text("version: '1'\n")
    catalogue = load_ai_catalog(p(tmp / "extra.yaml"))
    return detect_format(p(tmp / "logs" / "a.jsonl")), names, catalogue.version


def _data(tmp: Path, p: Callable[[Path], Any]) -> object:
    csv = tmp / "d.csv"
    csv.write_text("a,label\n" + "".join(f"{i},{i % 2}\n" for i in range(40)))
    (tmp / "schema.yaml").write_text("columns: {a: {type: int}, label: {type: int}}\n")
    (tmp / "record.yaml").write_text(json.dumps(RECORD))
    schema = load_schema(p(tmp / "schema.yaml"))
    record = load_record_file(p(tmp / "record.yaml"))
    report = audit_dataset(p(csv), label="label", reference=p(csv), schema=schema)
    signing, _, _ = generate_keypair(tmp / "k.key")
    with EvidenceStore.open(f"sqlite:///{tmp / 'e.db'}") as store:
        version, _ = register_source(store, signing, p(csv), record)
    (tmp / "croissant.json").write_text(json.dumps(record_to_croissant(version)))
    again = record_from_croissant(p(tmp / "croissant.json"))
    return sorted(report), report["dataset"]["rows"], again == record, version.digest


def _configs(tmp: Path, p: Callable[[Path], Any]) -> object:
    _, config_digest = load_config(p(ROOT / "examples" / "guard.yaml"))
    suite = load_suite(p(ROOT / "src" / "aisec" / "evaluation" / "data" / "suite_default.yaml"))
    (tmp / "policy.yaml").write_text("version: 1\nformats:\n  allow: [safetensors]\n")
    policy = load_policy(p(tmp / "policy.yaml"))
    with EvidenceStore.open(f"sqlite:///{tmp / 'e.db'}") as store:
        decision = check_deployment(p(_model(tmp / "m")), policy, store)
    return config_digest, suite.digest, policy.digest, decision.allow, len(decision.reasons)


def _scan(tmp: Path, p: Callable[[Path], Any]) -> object:
    model = _model(tmp / "m")
    (model / "bad.pkl").write_bytes(b"cos\nsystem\n(S'true'\ntR.")
    one = scan_file(p(model / "bad.pkl"))
    alone = scan_model(p(model))
    listed = scan_model([p(model)])
    assert [r.path for r in alone.files] == [r.path for r in listed.files]
    return one.verdict, [(Path(r.path).name, r.verdict) for r in alone.files]


def _sign(tmp: Path, p: Callable[[Path], Any]) -> object:
    model = _model(tmp / "m")
    key, _, _ = generate_keypair(tmp / "k.key")
    manifest, _ = hash_model(p(model))
    sign_model(p(model), key, signature_path=p(tmp / "model.sig"))
    check = verify_model(p(model), [key.public], signature_path=p(tmp / "model.sig"))
    np.save(tmp / "w.npy", np.ones(3, dtype=np.float32))
    converted = convert_to_safetensors(p(tmp / "w.npy"), p(tmp / "w.safetensors"))
    assert (tmp / "w.safetensors").is_file()
    return manifest.digest, check.valid, type(converted).__name__


CASES = {
    "digest": _digest,
    "keys": _keys,
    "store": _store,
    "catalog": _catalog,
    "monitoring": _monitoring,
    "data": _data,
    "configs": _configs,
    "scan": _scan,
    "sign": _sign,
}


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("case", list(CASES))
def test_path_parameters_take_str_and_pathlike(tmp_path: Path, case: str, kind: str) -> None:
    (tmp_path / "ref").mkdir()
    (tmp_path / kind).mkdir()
    expected = CASES[case](tmp_path / "ref", Path)
    assert CASES[case](tmp_path / kind, KINDS[kind]) == expected


PUBLIC = [
    "aisec.core.digest",
    "aisec.core.evidence",
    "aisec.core.frameworks",
    "aisec.data",
    "aisec.monitoring",
    "aisec.evaluation",
    "aisec.inference",
    "aisec.deployment",
]


def _public_callables() -> list[tuple[str, Callable[..., Any]]]:
    found: list[tuple[str, Callable[..., Any]]] = []
    for name in PUBLIC:
        module = importlib.import_module(name)
        for member in module.__all__:
            obj = getattr(module, member)
            if inspect.isfunction(obj):
                found.append((f"{name}.{member}", obj))
            elif inspect.isclass(obj):
                for attr, value in vars(obj).items():
                    func = getattr(value, "__func__", value)
                    if not attr.startswith("_") and inspect.isfunction(func):
                        found.append((f"{name}.{member}.{attr}", func))
    return found


def test_no_public_function_asks_for_a_bare_path() -> None:
    bare = []
    for qualname, func in _public_callables():
        for param in inspect.signature(func).parameters.values():
            note = str(param.annotation)
            plain = note.replace("PathLike", "").replace("StrPath", "")
            if "Path" in plain and "PathLike" not in note:
                bare.append(f"{qualname}({param.name}: {note})")
    assert not bare, bare
