"""Code evidence: AI SDK imports and model-loading calls, notebooks, and model files.

Python and notebooks are parsed with :mod:`ast` (never imported or run); JS/TS imports are
found with a regular expression (no JS parser in the standard library, and imports are all
we need); model files are recognised by their magic bytes. Repository owners come from
``git log`` run read-only as a subprocess on the user's repository.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import struct
import subprocess
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from aisec.core.digest import digest_file
from aisec.monitoring._catalog import AiCatalog
from aisec.monitoring._model import Observation, Skipped

__all__ = ["LOADER_CALLS", "repo_owners", "scan_code"]

#: Calls whose string argument names a model that the code loads and runs itself.
LOADER_CALLS: frozenset[str] = frozenset(
    {
        "from_pretrained",
        "pipeline",
        "SentenceTransformer",
        "CrossEncoder",
        "hf_hub_download",
        "snapshot_download",
        "Llama",
        "LLM",
        "load_model",
    }
)
_MODEL_KW = ("model", "model_name_or_path", "repo_id", "model_path", "model_id")
_AWS_CLIENTS = {
    "bedrock-runtime": "aws-bedrock",
    "bedrock": "aws-bedrock",
    "sagemaker-runtime": "aws-sagemaker",
}
_JS_IMPORT = re.compile(
    r"""(?:\bfrom\s+|\brequire\(\s*|\bimport\(\s*|\bimport\s+)['"]([^'"\n]{1,200})['"]"""
)
_CODE_EXT = {
    ".py": "python",
    ".ipynb": "notebook",
    ".js": "js",
    ".mjs": "js",
    ".cjs": "js",
    ".ts": "js",
    ".tsx": "js",
    ".jsx": "js",
}
_MAX_SOURCE = 5 << 20
_MODEL_EXT = {
    ".gguf",
    ".safetensors",
    ".onnx",
    ".pt",
    ".pth",
    ".bin",
    ".ckpt",
    ".h5",
    ".keras",
    ".pkl",
    ".joblib",
    ".tflite",
    ".mlmodel",
}


def _model_format(path: Path) -> str | None:
    """The model format from magic bytes (and, for ONNX's bare protobuf, the extension)."""
    try:
        with path.open("rb") as fh:
            head = fh.read(16)
    except OSError:
        return None
    if head.startswith(b"GGUF") and len(head) >= 8 and 1 <= struct.unpack("<I", head[4:8])[0] <= 3:
        return "gguf"
    if head.startswith(b"\x89HDF\r\n\x1a\n"):
        return "hdf5"
    if len(head) >= 9 and head[8:9] == b"{":
        size = struct.unpack("<Q", head[:8])[0]
        if 2 <= size < (100 << 20):
            return "safetensors"
    suffix = path.suffix.lower()
    if suffix not in _MODEL_EXT:
        return None
    if head.startswith(b"PK\x03\x04"):
        return "pytorch-zip"
    if head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        return "pickle"
    if suffix == ".onnx" and head[:1] == b"\x08":
        return "onnx"
    if head.startswith(b"TFL3", 4):
        return "tflite"
    return None


def _const(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and 0 < len(node.value) < 300:
        return node.value
    return None


def _python_hits(tree: ast.AST, catalog: AiCatalog) -> Iterator[tuple[int, str, str, str, str]]:
    """(line, key, name, kind, provider) for each AI use in a parsed module."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            mods = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [f"{node.module}.{a.name}" for a in node.names] + [node.module or ""]
            )
            for mod in mods:
                p = catalog.python_provider(mod)
                if p is not None:
                    yield node.lineno, p.id, p.name, p.kind, p.id
                    break
        elif isinstance(node, ast.Call):
            func = node.func
            fname = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            args = [_const(a) for a in node.args]
            kws = {k.arg: _const(k.value) for k in node.keywords if k.arg}
            if fname == "client" and args and args[0] in _AWS_CLIENTS:
                sid = _AWS_CLIENTS[args[0]]
                p = catalog.providers.get(sid)
                if p is not None:
                    yield node.lineno, p.id, p.name, p.kind, p.id
            elif fname in LOADER_CALLS:
                model = next((kws[k] for k in _MODEL_KW if kws.get(k)), None)
                if model is None and fname != "pipeline":
                    model = args[0] if args else None
                if model:
                    yield (
                        node.lineno,
                        f"model:{model.lower()}",
                        model,
                        "self-hosted-model",
                        ("huggingface-hub" if model.count("/") == 1 else "local"),
                    )


def _notebook_source(text: str) -> str:
    nb = json.loads(text)
    cells = nb.get("cells", []) if isinstance(nb, dict) else []
    lines: list[str] = []
    for cell in cells:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        src = cell.get("source", "")
        src = "".join(src) if isinstance(src, list) else str(src)
        # IPython magics and shell escapes are not Python; blank them, keep line numbers
        lines += ["" if ln.lstrip().startswith(("%", "!")) else ln for ln in src.splitlines()]
        lines.append("")
    return "\n".join(lines)


def _scan_source(
    path: Path, lang: str, catalog: AiCatalog
) -> Iterator[tuple[int, str, str, str, str]]:
    text = path.read_text("utf-8", errors="replace")
    if lang == "js":
        for m in _JS_IMPORT.finditer(text):
            p = catalog.js_provider(m.group(1))
            if p is not None:
                yield text.count("\n", 0, m.start()) + 1, p.id, p.name, p.kind, p.id
        return
    if lang == "notebook":
        text = _notebook_source(text)
    yield from _python_hits(ast.parse(text, filename=str(path)), catalog)


def _git() -> str:
    return shutil.which("git") or "git"


def repo_owners(path: Path, *, limit: int = 3) -> list[str]:
    """Top authors of ``path`` by ``git log`` (read-only; no hooks, no fsmonitor)."""
    root = path if path.is_dir() else path.parent
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0", "GIT_PAGER": "cat"}
    try:
        res = subprocess.run(  # noqa: S603 - fixed argv, no shell; git only reads the repo
            [
                _git(),
                "-c",
                "core.fsmonitor=false",
                "-C",
                str(root),
                "log",
                "-n",
                "200",
                "--format=%an <%ae>",
                "--",
                str(path),
            ],
            capture_output=True,
            text=True,
            timeout=20,
            env=env,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return []
    if res.returncode != 0:
        return []
    counts = Counter(ln for ln in res.stdout.splitlines() if ln.strip())
    return [a for a, _ in counts.most_common(limit)]


def scan_code(
    root: Path, files: list[Path], catalog: AiCatalog, *, git: bool = True
) -> tuple[list[Observation], list[Skipped]]:
    """Observations of AI SDKs, model loading and model files under ``root``."""
    obs: list[Observation] = []
    skipped: list[Skipped] = []
    for f in files:
        lang = _CODE_EXT.get(f.suffix.lower())
        hits: list[tuple[int, str, str, str, str]] = []
        fmt = None
        if lang is not None:
            try:
                if f.stat().st_size > _MAX_SOURCE:
                    skipped.append(Skipped(str(f), f"source larger than {_MAX_SOURCE} bytes"))
                    continue
                hits = list(_scan_source(f, lang, catalog))
            except (SyntaxError, ValueError, RecursionError, MemoryError, OSError) as exc:
                skipped.append(Skipped(str(f), f"cannot parse {lang}: {type(exc).__name__}"))
                continue
        else:
            fmt = _model_format(f)
            if fmt is None:
                continue
            digest = digest_file(f)
            hits = [(0, f"modelfile:{digest}", f.name, "self-hosted-model", "local")]
        owners = repo_owners(f) if git and hits else []
        for line, key, name, kind, provider in hits:
            ident = (name.lower(), f.stem.lower()) if fmt else (name.lower(),)
            obs.append(
                Observation(
                    key=key,
                    name=name,
                    kind=kind,
                    provider=provider,
                    source="code",
                    file=str(f),
                    location=f"line {line}" if line else fmt or "",
                    owner=owners[0] if owners else None,
                    identifiers=ident,
                    detail=(f"{fmt} model file" if fmt else f"{lang} in {root.name}"),
                )
            )
    return obs, skipped
