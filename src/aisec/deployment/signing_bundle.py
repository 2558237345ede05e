"""The OpenSSF model-signing signature format (``model-signing`` 1.1.1, key-based), byte for byte.

A signature file is a Sigstore bundle (media type v0.3, JSON) holding a DSSE envelope whose
payload is an in-toto Statement v1::

    {"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
     "verificationMaterial": {"publicKey": {"hint": <hex sha256 of the PEM public key>},
                              "tlogEntries": []},
     "dsseEnvelope": {"payload": <base64 statement>, "payloadType": "application/vnd.in-toto+json",
                      "signatures": [{"sig": <base64 DER ECDSA over PAE>, "keyid": ""}]}}

    statement = {"_type": "https://in-toto.io/Statement/v1",
                 "subject": [{"name": <folder name>, "digest": {"sha256": <root>}}],
                 "predicateType": "https://model_signing/signature/v1.0",
                 "predicate": {"serialization": {"method": "files"|"shards", "hash_type": "sha256",
                                                 ["shard_size": N,] "allow_symlinks": false,
                                                 ["ignore_paths": [...]]},
                               "resources": [{"name", "digest", "algorithm": "sha256"}, ...]}}

``root`` is SHA-256 over the raw 32-byte digests of the resources in the order listed; the signer
lists them sorted by path components (then shard start), as ``model-signing`` does. A shard's
name is ``path:start:end``; empty files have no shard.

Hand-written on purpose: the bundle has four fields, and the libraries that model it
(``sigstore-models``, ``sigstore-protobuf-specs``) would add pydantic-generated trees and
protobuf to the runtime for what is a few dictionary look-ups; interop is proven by tests
against ``model-signing`` itself. The DSSE PAE and the keys are the core's.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

from cryptography.hazmat.primitives.asymmetric import ec

from aisec.core.errors import FormatError, KeyFileError
from aisec.core.evidence import PAYLOAD_TYPE, STATEMENT_TYPE, PublicKey, SigningKey
from aisec.core.evidence.attestation import pae

__all__ = [
    "BUNDLE_MEDIA_TYPE",
    "MODEL_SIGNING_PREDICATE",
    "Method",
    "Resource",
    "SignedManifest",
    "VerifiedBundle",
    "build_bundle",
    "key_hint",
    "parse_bundle",
    "peek_manifest",
]

BUNDLE_MEDIA_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json"
MODEL_SIGNING_PREDICATE = "https://model_signing/signature/v1.0"
_OLD_PREDICATE = "https://model_signing/Digests/v0.1"
MAX_SIGNATURE_BYTES = 256 * 1024 * 1024  # a manifest of ~1M shards still fits

Method: TypeAlias = Literal["files", "shards"]


@dataclass(frozen=True)
class Resource:
    """One signed item: a file (``name`` = relative path) or a shard (``path:start:end``)."""

    name: str
    digest: str  # 64 lowercase hex


@dataclass(frozen=True)
class SignedManifest:
    """What a signature says: how the model was serialised and every item's digest."""

    model_name: str
    method: Method
    resources: tuple[Resource, ...]
    shard_size: int | None = None
    allow_symlinks: bool = False
    ignore_paths: tuple[str, ...] = ()

    @property
    def root_digest(self) -> str:
        """``sha256:`` + SHA-256 over the resources' raw digests in listed order."""
        h = hashlib.sha256()
        for r in self.resources:
            h.update(bytes.fromhex(r.digest))
        return "sha256:" + h.hexdigest()

    @property
    def algorithm(self) -> str:
        """A resource's algorithm name: model-signing marks shard digests with the shard size."""
        return "sha256" if self.method == "files" else f"sha256-sharded-{self.shard_size}"

    def serialization(self) -> dict[str, Any]:
        out: dict[str, Any] = {"method": self.method, "hash_type": "sha256"}
        if self.method == "shards":
            out["shard_size"] = self.shard_size
        out["allow_symlinks"] = self.allow_symlinks
        if self.ignore_paths:
            out["ignore_paths"] = list(self.ignore_paths)
        return out

    def statement(self) -> dict[str, Any]:
        return {
            "_type": STATEMENT_TYPE,
            "subject": [
                {"name": self.model_name, "digest": {"sha256": self.root_digest[7:]}},
            ],
            "predicateType": MODEL_SIGNING_PREDICATE,
            "predicate": {
                "serialization": self.serialization(),
                "resources": [
                    {"name": r.name, "digest": r.digest, "algorithm": self.algorithm}
                    for r in self.resources
                ],
            },
        }


@dataclass(frozen=True)
class VerifiedBundle:
    """A bundle whose DSSE signature checked out with ``key``."""

    manifest: SignedManifest
    key: PublicKey


def key_hint(key: PublicKey) -> str:
    """model-signing's key identifier: hex SHA-256 of the PEM SubjectPublicKeyInfo."""
    return hashlib.sha256(key.pem()).hexdigest()


def _require_p256(key: PublicKey | SigningKey) -> None:
    pub = key.public if isinstance(key, SigningKey) else key
    if not isinstance(pub.key, ec.EllipticCurvePublicKey):
        raise KeyFileError(
            "OpenSSF model signatures need an EC P-256 key (aisec keys generate, or "
            "openssl ecparam -name prime256v1 -genkey); this key is Ed25519"
        )


def build_bundle(manifest: SignedManifest, key: SigningKey) -> bytes:
    """Sign ``manifest`` into the JSON bytes of a model-signing bundle."""
    _require_p256(key)
    payload = json.dumps(manifest.statement(), indent=2).encode()
    sig = key.sign(pae(PAYLOAD_TYPE, payload))
    bundle = {
        "mediaType": BUNDLE_MEDIA_TYPE,
        "verificationMaterial": {"publicKey": {"hint": key_hint(key.public)}, "tlogEntries": []},
        "dsseEnvelope": {
            "payload": base64.b64encode(payload).decode(),
            "payloadType": PAYLOAD_TYPE,
            "signatures": [{"sig": base64.b64encode(sig).decode(), "keyid": ""}],
        },
    }
    return json.dumps(bundle, indent=2).encode() + b"\n"


@dataclass(frozen=True)
class _Bundle:
    hint: str | None
    payload: bytes
    payload_type: str
    sigs: tuple[bytes, ...]


def _read_bundle(raw: bytes, source: str) -> _Bundle:
    if len(raw) > MAX_SIGNATURE_BYTES:
        raise FormatError(f"{source}: {len(raw)} bytes is too large for a model signature")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise FormatError(f"{source}: not a model signature (not JSON: {exc})") from exc
    if not isinstance(data, dict) or "dsseEnvelope" not in data:
        raise FormatError(f"{source}: not a Sigstore bundle with a DSSE envelope")
    if data.get("mediaType") != BUNDLE_MEDIA_TYPE:
        raise FormatError(
            f"{source}: bundle media type {str(data.get('mediaType'))[:80]!r} is not "
            f"{BUNDLE_MEDIA_TYPE!r}"
        )
    try:
        material = data.get("verificationMaterial") or {}
        hint = (material.get("publicKey") or {}).get("hint")
        env = data["dsseEnvelope"]
        payload = base64.b64decode(env["payload"], validate=True)
        sigs = tuple(base64.b64decode(s["sig"], validate=True) for s in env["signatures"])
        payload_type = env["payloadType"]
        if not isinstance(payload_type, str) or (hint is not None and not isinstance(hint, str)):
            raise TypeError("bad field type")
    except (KeyError, TypeError, AttributeError, binascii.Error, ValueError) as exc:
        raise FormatError(
            f"{source}: malformed DSSE envelope in the bundle ({type(exc).__name__}: {exc})"
        ) from exc
    if not sigs:
        raise FormatError(f"{source}: the bundle carries no signature")
    return _Bundle(hint or None, payload, payload_type, sigs)


def _shard_size(value: object, source: str) -> int:
    # model-signing writes the predicate through protobuf's Struct, so 1000 comes back as 1000.0
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise FormatError(f"{source}: bad shard size {value!r}")
    return value


def _parse_statement(payload: bytes, source: str) -> SignedManifest:
    try:
        st = json.loads(payload)
        if st.get("_type") != STATEMENT_TYPE:
            raise FormatError(f"{source}: payload is not an in-toto Statement v1")
        ptype = st.get("predicateType")
        if ptype == _OLD_PREDICATE:
            raise FormatError(
                f"{source}: pre-1.0 model-signing signature ({_OLD_PREDICATE}); re-sign it"
            )
        if ptype != MODEL_SIGNING_PREDICATE:
            raise FormatError(f"{source}: predicate type {str(ptype)[:80]!r} is not a model one")
        subjects = st["subject"]
        if not isinstance(subjects, list) or len(subjects) != 1:
            raise FormatError(f"{source}: a model signature has exactly one subject")
        name = str(subjects[0].get("name", ""))
        stated_root = subjects[0]["digest"]["sha256"]
        ser = st["predicate"]["serialization"]
        method = ser["method"]
        if method not in ("files", "shards"):
            raise FormatError(f"{source}: unknown serialization method {str(method)[:40]!r}")
        if ser.get("hash_type") != "sha256":
            raise FormatError(
                f"{source}: hash type {str(ser.get('hash_type'))[:20]!r} is not supported "
                "(aisec verifies sha256 model signatures)"
            )
        shard_size = _shard_size(ser.get("shard_size"), source) if method == "shards" else None
        ignore = ser.get("ignore_paths", [])
        if not isinstance(ignore, list) or not all(isinstance(p, str) for p in ignore):
            raise FormatError(f"{source}: ignore_paths must be a list of paths")
        resources = []
        algorithm = "sha256" if method == "files" else f"sha256-sharded-{shard_size}"
        for item in st["predicate"]["resources"]:
            if item.get("algorithm") != algorithm:
                raise FormatError(f"{source}: resource algorithm must be {algorithm}")
            digest, rname = item["digest"], item["name"]
            if not isinstance(rname, str) or not isinstance(digest, str):
                raise FormatError(f"{source}: resource name and digest must be text")
            bytes.fromhex(digest)
            if len(digest) != 64:
                raise FormatError(f"{source}: resource digest of {rname!r} is not sha256")
            resources.append(Resource(rname, digest.lower()))
    except FormatError:
        raise
    except (KeyError, TypeError, AttributeError, ValueError, RecursionError) as exc:
        raise FormatError(
            f"{source}: malformed model-signing statement ({type(exc).__name__}: {exc})"
        ) from exc
    manifest = SignedManifest(
        model_name=name,
        method=method,
        resources=tuple(resources),
        shard_size=shard_size,
        allow_symlinks=bool(ser.get("allow_symlinks", False)),
        ignore_paths=tuple(ignore),
    )
    if not isinstance(stated_root, str) or manifest.root_digest != "sha256:" + stated_root.lower():
        raise FormatError(
            f"{source}: inconsistent manifest: the subject digest does not match the resources"
        )
    return manifest


def parse_bundle(raw: bytes, keys: Sequence[PublicKey], *, source: str) -> VerifiedBundle | None:
    """The signed manifest if a signature verifies with one of ``keys``, else ``None``.

    Raises :class:`FormatError` when ``raw`` is not a model-signing bundle at all; a bundle
    that is well formed but not signed by any of ``keys`` returns ``None``.
    """
    for k in keys:
        _require_p256(k)
    bundle = _read_bundle(raw, source)
    if bundle.payload_type != PAYLOAD_TYPE:
        kind = bundle.payload_type[:60]
        raise FormatError(f"{source}: DSSE payload type {kind!r} is not in-toto")
    message = pae(PAYLOAD_TYPE, bundle.payload)
    for key in keys:
        if bundle.hint is not None and bundle.hint != key_hint(key):
            continue
        # model-signing checks the first signature only; so do we
        if key.verify(bundle.sigs[0], message):
            return VerifiedBundle(_parse_statement(bundle.payload, source), key)
    return None


def peek_manifest(raw: bytes, *, source: str) -> SignedManifest:
    """The manifest a bundle claims, WITHOUT checking its signature (for messages only)."""
    return _parse_statement(_read_bundle(raw, source).payload, source)
