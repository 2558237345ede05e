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
from typing import Any

from aisec.core.digest import digest_file
from aisec.monitoring._catalog import AiCatalog
from aisec.monitoring._model import Decision, Observation, Skipped

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


def _model_format(path: Path, catalog: AiCatalog | None = None) -> str | None:
    """The model format from magic bytes (and, for ONNX's bare protobuf, the extension).

    A pickle is a model only when the classes it names come from an ML library
    (:mod:`pickletools` lists them without unpickling); an HDF5 file only when it holds
    Keras model attributes. Anything else is data, however it is named.
    """
    try:
        with path.open("rb") as fh:
            head = fh.read(1 << 16)
    except OSError:
        return None
    if head.startswith(b"GGUF") and len(head) >= 8 and 1 <= struct.unpack("<I", head[4:8])[0] <= 3:
        return "gguf"
    if head.startswith(b"\x89HDF\r\n\x1a\n"):
        return "hdf5-keras" if b"model_config" in head or b"keras_version" in head else None
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
        mods = _pickle_modules(head)
        if catalog is None or catalog.pickle_is_model(mods):
            return "pickle"
        return None
    if suffix == ".onnx" and head[:1] == b"\x08":
        return "onnx"
    if head.startswith(b"TFL3", 4):
        return "tflite"
    return None


def _not_model(path: Path) -> str | None:
    """Why a file with a model-like extension is data, or ``None`` when it is not even that."""
    try:
        with path.open("rb") as fh:
            head = fh.read(1 << 16)
    except OSError:
        return None
    if head.startswith(b"\x89HDF\r\n\x1a\n"):
        return "HDF5 file without Keras model attributes (model_config/keras_version): a data table"
    if head[:1] == b"\x80":
        mods = sorted(_pickle_modules(head))[:6]
        return f"pickle of non-ML objects ({', '.join(mods) or 'no classes'}): data, not a model"
    return None


def _pickle_modules(data: bytes) -> set[str]:
    """Module names a pickle's GLOBAL / STACK_GLOBAL opcodes import (never unpickled)."""
    import pickletools

    mods: set[str] = set()
    strings: list[str] = []
    try:
        for op, arg, _ in pickletools.genops(data):
            if op.name in ("SHORT_BINUNICODE", "BINUNICODE", "UNICODE", "BINUNICODE8"):
                strings.append(str(arg))
            elif op.name == "GLOBAL" and isinstance(arg, str):
                mods.add(arg.split(" ", 1)[0])
            elif op.name == "STACK_GLOBAL" and len(strings) >= 2:
                mods.add(strings[-2])
    except Exception:
        return mods
    return mods


def _const(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and 0 < len(node.value) < 300:
        return node.value
    return None


#: one AI use in a source file: (line, category, id, detail) with category provider |
#: server | framework | ml | endpoint | loader
Hit = tuple[int, str, str, str]
_URL = re.compile(r"^(?:https?|wss?)://([^/:?#\s]+)(?::\d+)?")


def _python_hits(tree: ast.AST, catalog: AiCatalog) -> Iterator[Hit]:
    loaders = set(catalog.ml.loader_calls)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            mods = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [f"{node.module}.{a.name}" for a in node.names] + [node.module or ""]
            )
            for mod in mods:
                hit = catalog.python_module(mod)
                if hit is not None:
                    yield node.lineno, hit[0], hit[1], mod
                    break
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            m = _URL.match(node.value.strip())
            if m:
                yield getattr(node, "lineno", 0), "endpoint", m.group(1).lower(), node.value[:200]
        elif isinstance(node, ast.Call):
            func = node.func
            fname = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            args = [_const(a) for a in node.args]
            kws = {k.arg: _const(k.value) for k in node.keywords if k.arg}
            if fname in ("client", "resource") and args and args[0]:
                sid = catalog.boto3_service(args[0])
                if sid is not None:
                    region = kws.get("region_name") or ""
                    yield node.lineno, "provider", sid, f"boto3 {args[0]} {region}".strip()
            elif fname in loaders:
                model = next((kws[k] for k in _MODEL_KW if kws.get(k)), None)
                if model is None and fname != "pipeline":
                    model = args[0] if args else None
                if model:
                    yield node.lineno, "loader", model, f"{fname}({model!r})"


def _scan_source(path: Path, lang: str, catalog: AiCatalog) -> Iterator[Hit]:
    text = path.read_text("utf-8", errors="replace")
    if lang == "js":
        for m in _JS_IMPORT.finditer(text):
            hit = catalog.js_module(m.group(1))
            if hit is not None:
                yield text.count("\n", 0, m.start()) + 1, hit[0], hit[1], m.group(1)
        for m in re.finditer(r"""['"`]((?:https?)://[^'"`\s]{1,200})""", text):
            u = _URL.match(m.group(1))
            if u:
                yield text.count("\n", 0, m.start()) + 1, "endpoint", u.group(1).lower(), m.group(1)
        return
    if lang == "notebook":
        text = _notebook_source(text)
    yield from _python_hits(ast.parse(text, filename=str(path)), catalog)


_REQ = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def _manifest_hits(path: Path, catalog: AiCatalog) -> Iterator[Hit]:
    """Dependencies named by requirements files, pyproject, package.json, lockfiles, Dockerfiles."""
    name = path.name.lower()
    text = path.read_text("utf-8", errors="replace")
    deps: list[tuple[int, str, str]] = []  # (line, ecosystem, package)
    if (name.endswith(".txt") and "requirement" in name) or name in ("constraints.txt",):
        for i, ln in enumerate(text.splitlines(), 1):
            m = _REQ.match(ln.split("#", 1)[0])
            if m and not ln.lstrip().startswith("-"):
                deps.append((i, "pypi", m.group(1)))
    elif name in ("pyproject.toml", "poetry.lock", "uv.lock", "pdm.lock", "pipfile"):
        import tomllib

        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"TOML: {exc}") from exc
        pj = data.get("project")
        proj: dict[str, Any] = pj if isinstance(pj, dict) else {}
        reqs = list(proj.get("dependencies") or [])
        for extra in (proj.get("optional-dependencies") or {}).values():
            reqs += list(extra or [])
        poetry = (
            ((data.get("tool") or {}).get("poetry") or {})
            if isinstance(data.get("tool"), dict)
            else {}
        )
        reqs += list((poetry.get("dependencies") or {}).keys())
        reqs += list((data.get("packages") or {}).keys()) if name == "pipfile" else []
        for pkg in data.get("package") or []:  # lockfiles: [[package]] name = ...
            if isinstance(pkg, dict) and pkg.get("name"):
                reqs.append(str(pkg["name"]))
        for r in reqs:
            m = _REQ.match(str(r))
            if m:
                deps.append((0, "pypi", m.group(1)))
    elif name in ("package.json", "package-lock.json"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"JSON: {exc}") from exc
        if isinstance(data, dict):
            for section in (
                "dependencies",
                "devDependencies",
                "peerDependencies",
                "optionalDependencies",
            ):
                sec = data.get(section)
                deps.extend((0, "npm", str(pkg)) for pkg in (sec if isinstance(sec, dict) else {}))
            pkgs = data.get("packages")
            deps.extend(
                (0, "npm", key.rsplit("node_modules/", 1)[-1])
                for key in (pkgs if isinstance(pkgs, dict) else {})
                if "node_modules/" in key
            )
    elif name == "dockerfile" or name.startswith("dockerfile.") or name.endswith(".dockerfile"):
        for i, ln in enumerate(text.splitlines(), 1):
            s = ln.strip()
            if s.upper().startswith("FROM "):
                image = next((w for w in s.split()[1:] if not w.startswith("--")), "")
                srv = catalog.image_server(image)
                if srv:
                    yield i, "server", srv, f"FROM {image}"
            for m in re.finditer(r"\bpip3?\s+install\s+([^&;|]+)", s):
                for w in m.group(1).split():
                    if not w.startswith("-"):
                        mm = _REQ.match(w.strip("'\""))
                        if mm:
                            deps.append((i, "pypi", mm.group(1)))
            for m in re.finditer(r"--model[= ]+\"?([A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+)", s):
                yield i, "loader", m.group(1), f"model {m.group(1)} served by the image"
    seen: set[str] = set()
    for line, eco, pkg in deps:
        hit = catalog.package(pkg, ecosystem=eco)
        if hit is not None and pkg.lower() not in seen:
            seen.add(pkg.lower())
            yield line, hit[0], hit[1], f"{eco} dependency {pkg}"


def _is_manifest(path: Path) -> bool:
    n = path.name.lower()
    return (
        (n.endswith(".txt") and "requirement" in n)
        or n
        in (
            "pyproject.toml",
            "poetry.lock",
            "uv.lock",
            "pdm.lock",
            "pipfile",
            "package.json",
            "package-lock.json",
        )
        or n == "dockerfile"
        or n.startswith("dockerfile.")
        or n.endswith(".dockerfile")
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


def _codeowners(repo: Path) -> list[str]:
    """Owners the repository's CODEOWNERS gives its root (``*`` or ``/``), first rule wins."""
    for rel in ("CODEOWNERS", ".github/CODEOWNERS", "docs/CODEOWNERS", ".gitlab/CODEOWNERS"):
        f = repo / rel
        if f.is_file():
            owners: list[str] = []
            for ln in f.read_text("utf-8", errors="replace").splitlines()[:5000]:
                parts = ln.split("#", 1)[0].split()
                if len(parts) >= 2 and parts[0] in ("*", "/", "/*", "**"):
                    owners = parts[1:]
            return [o.lstrip("@") for o in owners]
    return []


def _model_key(name: str) -> str:
    """A model name reduced for matching (``doccls-bert v3`` == ``doccls_bert_v3``)."""
    base = name.rstrip("/").rsplit("/", 1)[-1]
    return re.sub(r"[^a-z0-9]", "", base.lower())


def scan_code(
    root: Path,
    files: list[Path],
    catalog: AiCatalog,
    *,
    git: bool = True,
    decisions: list[Decision] | None = None,
) -> tuple[list[Observation], list[Skipped]]:
    """Observations of AI SDKs, endpoints, model servers, model loading and model files.

    Evidence is grouped per repository (each top-level folder of ``root``, or ``root``
    itself when it is one repository) and per target: the endpoint a file calls (a URL
    literal the catalogue knows, or an internal host), else the SDK's provider, else
    ``self-hosted`` for models the code loads, serves or ships.
    """
    from aisec.monitoring._logs import host_keys, short_host

    obs: list[Observation] = []
    skipped: list[Skipped] = []
    single = (
        (root / ".git").exists() or not any(p.is_dir() for p in root.iterdir())
        if root.is_dir()
        else True
    )
    by_repo: dict[str, list[tuple[Path, Hit, str | None]]] = {}
    for f in files:
        rel = f.relative_to(root) if root.is_dir() else Path(f.name)
        repo = root.name if single or len(rel.parts) < 2 else rel.parts[0]
        lang = _CODE_EXT.get(f.suffix.lower())
        hits: list[Hit] = []
        fmt = None
        try:
            if lang is not None or _is_manifest(f):
                if f.stat().st_size > _MAX_SOURCE:
                    skipped.append(Skipped(str(f), f"source larger than {_MAX_SOURCE} bytes"))
                    continue
                hits = list(_scan_source(f, lang, catalog) if lang else _manifest_hits(f, catalog))
            else:
                fmt = _model_format(f, catalog)
                if fmt is None:
                    if decisions is not None and f.suffix.lower() in _MODEL_EXT:
                        why = _not_model(f)
                        if why:
                            decisions.append(
                                Decision(
                                    str(f.relative_to(root) if root.is_dir() else f),
                                    why,
                                    str(f),
                                    "code",
                                )
                            )
                    continue
                stem = (
                    f.parent.name
                    if f.stem.lower() in ("model", "pytorch_model", "weights")
                    else f.stem
                )
                digest = digest_file(f).split(":", 1)[-1]
                hits = [(0, "modelfile", stem, f"{fmt}|sha256:{digest}")]
        except (SyntaxError, ValueError, RecursionError, MemoryError, OSError, UnicodeError) as exc:
            skipped.append(
                Skipped(
                    str(f), f"cannot parse {lang or f.name}: {type(exc).__name__}: {str(exc)[:120]}"
                )
            )
            continue
        by_repo.setdefault(repo, []).extend((f, h, fmt) for h in hits)
    for repo, items in by_repo.items():
        repo_dir = root if single or not root.is_dir() else root / repo
        owners = _codeowners(repo_dir) if repo_dir.is_dir() else []
        authors = repo_owners(repo_dir) if git and repo_dir.is_dir() and not owners else []
        owner = next(iter(owners or authors), None)
        # a CODEOWNERS team (``@org/team``) names the code's team
        code_team = next((o.split("/", 1)[1] for o in owners if "/" in o and "@" not in o), None)
        # files that call a known endpoint attribute their SDK imports to it
        file_targets: dict[Path, list[tuple[str, str, str, tuple[str, ...], tuple[str, ...]]]] = {}
        for f, (_line, cat, ident, _detail), _ in items:
            if cat != "endpoint":
                continue
            hit = catalog.host_info(ident)
            if hit is not None and hit.category != "hub":
                strong, soft = host_keys(hit)
                file_targets.setdefault(f, []).append((hit.id, hit.name, hit.kind, strong, soft))
            elif hit is None and _internal(ident):
                name = short_host(ident)
                file_targets.setdefault(f, []).append(
                    (
                        "self-hosted",
                        f"model server {name}",
                        "self-hosted-model",
                        (f"host:{name}",),
                        (),
                    )
                )
        groups: dict[str, dict[str, Any]] = {}

        def add(
            gkey: str,
            f: Path,
            line: int,
            detail: str,
            groups: dict[str, dict[str, Any]] = groups,
            **meta: Any,
        ) -> None:
            g = groups.setdefault(gkey, {"rows": [], **meta})
            g["rows"].append((f, line, detail))
            for k in ("keys", "soft", "identifiers"):
                if k in meta:
                    g[k] = tuple(dict.fromkeys((*g.get(k, ()), *meta[k])))

        sdk_seen: set[str] = set()
        for f, (line, cat, ident, detail), fmt in items:
            if cat == "endpoint":
                continue
            targets = file_targets.get(f)
            if cat == "provider" and targets:
                for sid, name, kind, strong, soft in targets:
                    add(
                        f"t:{(strong or soft or (sid,))[0]}",
                        f,
                        line,
                        f"{detail} -> {sid}",
                        provider=sid,
                        name=name,
                        kind=kind,
                        keys=strong,
                        soft=soft,
                    )
                sdk_seen.add(ident)
                continue
            if cat == "provider":
                p = catalog.providers[ident]
                region = re.search(r"\b([a-z]{2}-[a-z]+-\d)\b", detail)
                soft = (
                    (f"region:{ident}:{region.group(1)}", f"prov:{ident}")
                    if region
                    else (f"prov:{ident}",)
                )
                if p.kind == "self-hosted-model":
                    add("self", f, line, detail, provider=ident, name=p.name, kind=p.kind)
                else:
                    add(
                        f"p:{ident}",
                        f,
                        line,
                        detail,
                        provider=ident,
                        name=p.name,
                        kind=p.kind,
                        soft=soft,
                    )
                sdk_seen.add(ident)
            elif cat in ("server", "loader", "modelfile", "ml", "framework"):
                mk = _model_key(ident) if cat in ("loader", "modelfile") else None
                file_digest = detail.split("|", 1)[1] if cat == "modelfile" else None
                add(
                    "self" if cat not in ("ml", "framework") else f"lib:{cat}",
                    f,
                    line,
                    f"{fmt} model file {ident}" if cat == "modelfile" else detail,
                    provider=ident if cat == "server" else "self-hosted",
                    name=f"self-hosted model in {repo}",
                    kind="self-hosted-model",
                    keys=(f"model:{mk}",) if mk else (),
                    identifiers=(ident, file_digest) if file_digest else (ident,),
                )
        # a dependency the sources already use with a known endpoint adds nothing new
        for gk in [k for k in groups if k.startswith("p:") and k[2:] in sdk_seen]:
            if all("dependency" in d for _, _, d in groups[gk]["rows"]) and any(
                k.startswith("t:") for k in groups
            ):
                del groups[gk]
        # self-hosted evidence and the internal model servers the repo calls are one system
        internal = [k for k in groups if k.startswith("t:host:")]
        if "self" in groups and internal:
            for k in internal:
                g = groups.pop(k)
                groups["self"]["rows"] += g["rows"]
                groups["self"]["keys"] = (*groups["self"].get("keys", ()), *g.get("keys", ()))
        if "self" in groups:  # the repo's own model server is the host its code calls
            hosts = [
                k
                for ts in file_targets.values()
                for sid, *_, strong, _ in ts
                if sid == "self-hosted"
                for k in strong
            ]
            groups["self"]["keys"] = tuple(dict.fromkeys((*groups["self"].get("keys", ()), *hosts)))
        libs = [groups.pop(k) for k in [k for k in groups if k.startswith("lib:")]]
        for gk, g in groups.items():
            rows = g["rows"] + ([r for lib in libs for r in lib["rows"]] if gk == "self" else [])
            keys = tuple(g.get("keys", ()))
            if gk == "self":
                keys = (*keys, f"tag:{repo.lower()}", f"repo:{repo.lower()}")
            for f, line, detail in rows[:_MAX_ROWS]:
                obs.append(
                    Observation(
                        key=f"code:{repo}:{gk}",
                        name=g.get("name") or repo,
                        kind=g.get("kind") or "self-hosted-model",
                        provider=g.get("provider") or "self-hosted",
                        source="code",
                        file=str(f),
                        location=f"line {line}" if line else "",
                        owner=owner,
                        team=code_team,
                        identifiers=(f"repos/{repo}", repo, *g.get("identifiers", ())),
                        keys=(f"code:{repo}:{gk}", *keys),
                        soft=tuple(g.get("soft", ())),
                        detail=f"{detail} in {repo}",
                    )
                )
    return obs, skipped


_MAX_ROWS = 20


def _internal(host: str) -> bool:
    h = host.split(":", 1)[0]
    return (
        "." not in h
        or h.endswith((".internal", ".local", ".lan", ".corp", ".intranet", ".svc"))
        or bool(re.fullmatch(r"(10|192\.168)\.[0-9.]+", h))
    )
