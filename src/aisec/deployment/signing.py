"""Sign and verify model folders, compatible with OpenSSF model signing (``model-signing`` 1.1.1).

* :func:`sign_model` hashes a folder through :func:`aisec.core.digest.digest_path` (files in
  parallel, large files in shards on every core when sharding) and writes a model-signing
  bundle (see :mod:`aisec.deployment.signing_bundle`).
* :func:`verify_model` checks the bundle's signature with the given public keys, then re-hashes
  the folder **the way the signature says it was made** (files or shards of the declared size,
  the declared ignore paths) and names every changed, added or removed file.

Ignore rules: the files that are not part of the model (``.git``, ``.github``,
``.gitattributes``, ``.gitignore`` by default, the signature file when it lies inside the
folder, and any ``--ignore`` path) are recorded in the signed predicate's ``ignore_paths``,
exactly as model-signing does. A verifier ignores only what the signature lists (plus the
signature file itself); the list cannot be extended without breaking the signature, and an
ignore path that is empty, ``.``, absolute or climbs out with ``..`` (which would hide the whole
model) makes the signature invalid.

Symbolic links are refused when signing (as model-signing does by default).
"""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from aisec.core.digest import Manifest, ManifestEntry, digest_bytes, digest_path
from aisec.core.errors import InputError
from aisec.core.evidence import ArtifactRef, PublicKey, SigningKey, Statement, predicate_type
from aisec.deployment.signing_bundle import (
    Method,
    Resource,
    SignedManifest,
    build_bundle,
    parse_bundle,
    peek_manifest,
)

__all__ = [
    "DEFAULT_IGNORE_PATHS",
    "MODEL_SIGNATURE_PREDICATE",
    "ModelSignature",
    "SignatureCheck",
    "hash_model",
    "sign_model",
    "signature_statement",
    "verify_model",
]

#: What model-signing ignores by default (its ``ignore_git_paths``).
DEFAULT_IGNORE_PATHS = (".git", ".gitattributes", ".github", ".gitignore")
MODEL_SIGNATURE_PREDICATE = predicate_type("deployment", "model-signature")
_MAX_SIGNATURE_FILE = 256 * 1024 * 1024

Progress = Callable[[int], None]


@dataclass(frozen=True)
class ModelSignature:
    """The result of :func:`sign_model`."""

    model_dir: str
    signature_path: str
    signed: SignedManifest
    manifest: Manifest  # aisec manifest of the signed files (sharded when the signature is)
    keyid: str
    signature_digest: str

    @property
    def model_digest(self) -> str:
        return self.manifest.digest


@dataclass(frozen=True)
class SignatureCheck:
    """The result of :func:`verify_model`: ``valid`` with every reason it is not."""

    model_dir: str
    signature_path: str
    valid: bool
    reasons: tuple[str, ...]
    manifest: Manifest  # what is on disk, hashed the way the signature says
    signed: SignedManifest | None  # None when no key verified the signature
    keyid: str | None
    signature_digest: str
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    ignored: tuple[str, ...] = field(default=())

    @property
    def model_digest(self) -> str:
        return self.manifest.digest


# --- ignore rules ------------------------------------------------------------------------------


def _check_ignore_path(p: str) -> str | None:
    """The reason ``p`` is not an acceptable ignore path, or None."""
    if not p or p.startswith("/") or "\\" in p or "\x00" in p:
        return f"ignore path {p!r} must be a relative POSIX path"
    parts = PurePosixPath(p).parts
    if not parts or any(part in ("", ".", "..") for part in p.split("/")):
        return f"ignore path {p!r} would hide the whole model or climb out of it"
    return None


def _resolve_ignore(model_dir: Path, paths: Iterable[str | os.PathLike[str]]) -> list[str]:
    """Relative POSIX forms of ``paths`` that lie inside ``model_dir`` (others are dropped).

    Relative paths are taken from the current directory, as model-signing's CLI does.
    """
    root = model_dir.resolve()
    out = []
    for p in paths:
        candidate = Path(p)
        full = (candidate if candidate.is_absolute() else Path.cwd() / candidate).resolve()
        try:
            rel = full.relative_to(root).as_posix()
        except ValueError:
            continue
        if rel not in (".", ""):
            out.append(rel)
    return out


def _ignored(rel: str, ignore: Sequence[str]) -> bool:
    return any(rel == p or rel.startswith(p.rstrip("/") + "/") for p in ignore)


# --- hashing -----------------------------------------------------------------------------------


def _walk(root: Path, ignore: Sequence[str]) -> tuple[list[tuple[str, Path, int]], list[str]]:
    """(relative path, path, size) of every regular file not ignored; and what was ignored."""
    files: list[tuple[str, Path, int]] = []
    ignored: list[str] = []
    stack = [("", root)]
    while stack:
        rel_dir, abs_dir = stack.pop()
        try:
            children = sorted(os.scandir(abs_dir), key=lambda e: e.name)
        except OSError as exc:
            raise InputError(f"{abs_dir}: cannot list ({exc.strerror})", path=abs_dir) from exc
        for child in children:
            rel = f"{rel_dir}/{child.name}" if rel_dir else child.name
            try:
                rel.encode()
            except UnicodeEncodeError:
                raise InputError(f"{child.path!r}: name is not valid UTF-8", path=root) from None
            if _ignored(rel, ignore):
                ignored.append(rel)
                continue
            st = child.stat(follow_symlinks=False)
            if stat.S_ISLNK(st.st_mode):
                raise InputError(
                    f"{child.path}: is a symbolic link; model signatures cover regular files "
                    "only (replace it by the file or ignore it)",
                    path=child.path,
                )
            if stat.S_ISDIR(st.st_mode):
                stack.append((rel, Path(child.path)))
            elif stat.S_ISREG(st.st_mode):
                files.append((rel, Path(child.path), st.st_size))
            else:
                raise InputError(f"{child.path}: is not a regular file or folder", path=child.path)
    return files, sorted(ignored)


def _locked(progress: Progress | None) -> Progress | None:
    if progress is None:
        return None
    lock = threading.Lock()

    def call(n: int) -> None:
        with lock:
            progress(n)

    return call


def hash_model(
    model_dir: str | os.PathLike[str],
    *,
    ignore: Sequence[str] = DEFAULT_IGNORE_PATHS,
    shard_size: int | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
) -> tuple[Manifest, tuple[str, ...]]:
    """The aisec manifest of the model's files (not ignored), and the paths ignored.

    Each file goes through :func:`digest_path`: in file mode the files are spread over
    ``workers`` threads, largest first; in shard mode each file larger than one shard is
    hashed shard-parallel on all workers, and the small ones are spread over the threads.
    With nothing ignored, the digest equals ``digest_path(model_dir, shard_size=...)``.
    """
    root = Path(model_dir)
    try:
        st = root.stat()
    except OSError as exc:
        raise InputError(f"{root}: {exc.strerror or exc}", path=root) from exc
    if not stat.S_ISDIR(st.st_mode):
        raise InputError(f"{root}: is not a folder; sign the folder that holds the model")
    n = workers or os.cpu_count() or 1
    files, ignored = _walk(root, ignore)
    files.sort(key=lambda f: -f[2])
    prog = _locked(progress)
    big = [f for f in files if shard_size is not None and f[2] > shard_size]
    small = [f for f in files if f not in big]
    results: dict[str, Manifest] = {
        rel: digest_path(path, shard_size=shard_size, workers=n, progress=prog)
        for rel, path, _ in big
    }

    def one(item: tuple[str, Path, int]) -> tuple[str, Manifest]:
        return item[0], digest_path(item[1], shard_size=shard_size, workers=1, progress=prog)

    with ThreadPoolExecutor(max_workers=n, thread_name_prefix="aisec-sign") as pool:
        results.update(pool.map(one, small))
    entries = [
        ManifestEntry(rel, e.size, e.digest, e.start, e.end)
        for rel, m in results.items()
        for e in m.entries
    ]
    return Manifest(str(root), "directory", tuple(entries), shard_size), tuple(ignored)


def _sort_key(name_start: tuple[str, int]) -> tuple[tuple[str, ...], int]:
    # model-signing sorts by PurePosixPath (component-wise), then shard start
    return PurePosixPath(name_start[0]).parts, name_start[1]


def _resources(manifest: Manifest, method: Method) -> tuple[Resource, ...]:
    items = []
    for e in manifest.entries:
        if method == "shards":
            if e.size == 0:  # model-signing lists no shard for an empty file
                continue
            items.append(((e.path, e.start or 0), Resource(e.label, e.digest[7:])))
        else:
            items.append(((e.path, 0), Resource(e.path, e.digest[7:])))
    items.sort(key=lambda it: _sort_key(it[0]))
    return tuple(r for _, r in items)


def _model_name(root: Path) -> str:
    return root.name or root.resolve().name


# --- sign and verify ---------------------------------------------------------------------------


def sign_model(
    model_dir: str | os.PathLike[str],
    key: SigningKey,
    *,
    signature_path: str | os.PathLike[str],
    shard_size: int | None = None,
    ignore_paths: Sequence[str | os.PathLike[str]] = (),
    ignore_git_paths: bool = True,
    workers: int | None = None,
    progress: Progress | None = None,
) -> ModelSignature:
    """Hash ``model_dir`` and write a model-signing bundle to ``signature_path``.

    ``shard_size`` selects shard serialisation (model-signing's default shard is 1 GB);
    ``ignore_paths`` (relative to the current directory, or absolute) are left out and
    recorded in the signed predicate, with the git paths unless ``ignore_git_paths=False``
    and the signature file itself when it lies inside the folder.
    """
    root = Path(model_dir)
    sig_path = Path(signature_path)
    extra = _resolve_ignore(root, [*ignore_paths, sig_path])
    ignore = sorted({*(DEFAULT_IGNORE_PATHS if ignore_git_paths else ()), *extra})
    for p in ignore:
        problem = _check_ignore_path(p)
        if problem:
            raise InputError(problem)
    manifest, _ = hash_model(
        root, ignore=ignore, shard_size=shard_size, workers=workers, progress=progress
    )
    method: Method = "shards" if shard_size else "files"
    signed = SignedManifest(
        model_name=_model_name(root),
        method=method,
        resources=_resources(manifest, method),
        shard_size=shard_size,
        ignore_paths=tuple(ignore),
    )
    raw = build_bundle(signed, key)
    try:
        sig_path.write_bytes(raw)
    except OSError as exc:
        raise InputError(f"cannot write {sig_path}: {exc.strerror}", path=sig_path) from exc
    return ModelSignature(str(root), str(sig_path), signed, manifest, key.keyid, digest_bytes(raw))


def _read_signature(path: Path) -> bytes:
    try:
        size = path.stat().st_size
        if size > _MAX_SIGNATURE_FILE:
            raise InputError(f"{path}: {size} bytes is too large for a signature", path=path)
        return path.read_bytes()
    except FileNotFoundError as exc:
        raise InputError(f"{path}: no such signature file", path=path) from exc
    except IsADirectoryError as exc:
        raise InputError(f"{path}: is a folder, not a signature file", path=path) from exc
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})", path=path) from exc


def verify_model(
    model_dir: str | os.PathLike[str],
    keys: Sequence[PublicKey],
    *,
    signature_path: str | os.PathLike[str],
    workers: int | None = None,
    progress: Progress | None = None,
) -> SignatureCheck:
    """Check the signature at ``signature_path`` against ``keys`` and the folder on disk.

    Raises ``InputError``/``FormatError`` when a file cannot be read or is not a model
    signature; returns ``valid=False`` with reasons when it is not signed by one of ``keys``
    or the folder differs from what was signed.
    """
    if not keys:
        raise InputError("give at least one public key to verify the model signature with")
    root = Path(model_dir)
    sig_path = Path(signature_path)
    raw = _read_signature(sig_path)
    sig_digest = digest_bytes(raw)
    source = str(sig_path)
    verified = parse_bundle(raw, keys, source=source)
    sig_inside = _resolve_ignore(root, [sig_path])
    if verified is None:
        claimed = peek_manifest(raw, source=source)
        ignore = sorted({*claimed.ignore_paths, *sig_inside})
        ignore = [p for p in ignore if _check_ignore_path(p) is None]
        manifest, ignored = hash_model(
            root, ignore=ignore, shard_size=claimed.shard_size, workers=workers, progress=progress
        )
        ids = ", ".join(k.keyid[:16] for k in keys)
        return SignatureCheck(
            model_dir=str(root),
            signature_path=source,
            valid=False,
            reasons=(f"{source}: not signed by the trusted key(s) {ids}",),
            manifest=manifest,
            signed=None,
            keyid=None,
            signature_digest=sig_digest,
            ignored=ignored,
        )
    signed = verified.manifest
    reasons = [p for p in map(_check_ignore_path, signed.ignore_paths) if p]
    ignore = sorted({*signed.ignore_paths, *sig_inside})
    ignore = [p for p in ignore if _check_ignore_path(p) is None]
    manifest, ignored = hash_model(
        root, ignore=ignore, shard_size=signed.shard_size, workers=workers, progress=progress
    )
    expected = {r.name: r.digest for r in signed.resources}
    actual = {r.name: r.digest for r in _resources(manifest, signed.method)}
    if len(expected) != len(signed.resources):
        reasons.append(f"{source}: the signature lists an item twice")
    exp_paths = _by_path(signed.resources, signed.method)
    act_paths = _by_path(_resources(manifest, signed.method), signed.method)
    added = tuple(sorted(act_paths.keys() - exp_paths.keys()))
    removed = tuple(sorted(exp_paths.keys() - act_paths.keys()))
    changed = tuple(
        sorted(p for p in exp_paths.keys() & act_paths.keys() if exp_paths[p] != act_paths[p])
    )
    reasons += [f"{p}: added after signing (not in the signature)" for p in added]
    reasons += [f"{p}: signed but missing" for p in removed]
    reasons += [f"{p}: changed after signing (digest differs)" for p in changed]
    if expected != actual and not (added or removed or changed):
        reasons.append("the folder does not match the signed manifest")
    return SignatureCheck(
        model_dir=str(root),
        signature_path=source,
        valid=not reasons,
        reasons=tuple(reasons),
        manifest=manifest,
        signed=signed,
        keyid=verified.key.keyid,
        signature_digest=sig_digest,
        added=added,
        removed=removed,
        changed=changed,
        ignored=ignored,
    )


def _by_path(
    resources: Iterable[Resource], method: Method
) -> dict[str, tuple[tuple[str, str], ...]]:
    """Resources grouped by file path (a file's shards together), to name changed files."""
    out: dict[str, list[tuple[str, str]]] = {}
    for r in resources:
        path = r.name.rsplit(":", 2)[0] if method == "shards" else r.name
        out.setdefault(path, []).append((r.name, r.digest))
    return {p: tuple(sorted(v)) for p, v in out.items()}


def signature_statement(
    result: ModelSignature | SignatureCheck, *, action: Literal["sign", "verify"]
) -> Statement:
    """The ``deployment/model-signature:v1`` attestation of a sign or verify run."""
    signed = result.signed
    name = signed.model_name if signed else Path(result.model_dir).resolve().name
    subjects = [ArtifactRef(name or "model", result.model_digest)]
    if signed is not None and signed.root_digest != result.model_digest:
        subjects.append(ArtifactRef(f"{name} (model-signing root)", signed.root_digest))
    valid = True if isinstance(result, ModelSignature) else result.valid
    predicate: dict[str, Any] = {
        "action": action,
        "valid": valid,
        "keyid": result.keyid,
        "signature_digest": result.signature_digest,
        "files": [{"path": e.label, "digest": e.digest} for e in result.manifest.entries],
        "serialization": "shards" if result.manifest.shard_size else "files",
        "shard_size": result.manifest.shard_size,
        "ignore_paths": list(signed.ignore_paths) if signed else [],
        "format": "openssf-model-signing/v1.0",
    }
    if isinstance(result, SignatureCheck):
        predicate["reasons"] = list(result.reasons)
    return Statement(tuple(subjects), MODEL_SIGNATURE_PREDICATE, predicate)
