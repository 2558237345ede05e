"""in-toto Statement v1 inside a DSSE envelope.

DSSE is small enough to implement from its specification: the signature covers the
pre-authentication encoding ``PAE(type, body) = "DSSEv1" SP len(type) SP type SP
len(body) SP body`` (lengths in ASCII decimal). Interop with securesystemslib's DSSE is
checked in the tests.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aisec.core.errors import FormatError, SignatureError
from aisec.core.evidence.keys import PublicKey, SigningKey

__all__ = [
    "PAYLOAD_TYPE",
    "STATEMENT_TYPE",
    "ArtifactRef",
    "Envelope",
    "Signature",
    "Statement",
    "pae",
    "predicate_type",
    "sign_statement",
]

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PAYLOAD_TYPE = "application/vnd.in-toto+json"
_PREDICATE_RE = re.compile(r"^urn:aisec:predicate:([a-z]+)/([a-z0-9-]+):v(\d+)$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
MAX_ENVELOPE_BYTES = 16 * 1024 * 1024


def predicate_type(stage: str, control: str, version: int = 1) -> str:
    """``urn:aisec:predicate:<stage>/<control>:v<N>``; documented in docs/predicates.md."""
    value = f"urn:aisec:predicate:{stage}/{control}:v{version}"
    if not _PREDICATE_RE.match(value):
        raise ValueError(f"not a valid aisec predicate type: {value}")
    return value


def pae(payload_type: str, payload: bytes) -> bytes:
    t = payload_type.encode()
    return b"DSSEv1 %d %b %d %b" % (len(t), t, len(payload), payload)


def canonical_json(obj: Any) -> bytes:
    """The bytes we sign: sorted keys, no insignificant whitespace, UTF-8."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(frozen=True, slots=True)
class ArtifactRef:
    """An in-toto subject: a name and its sha256 digest (``sha256:<hex>``)."""

    name: str
    digest: str

    def __post_init__(self) -> None:
        algo, _, hexd = self.digest.partition(":")
        if algo != "sha256" or not _HEX64.match(hexd):
            raise ValueError(f"subject digest must be sha256:<64 hex>, got {self.digest!r}")

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "digest": {"sha256": self.digest.partition(":")[2]}}


@dataclass(frozen=True, slots=True)
class Statement:
    subjects: tuple[ArtifactRef, ...]
    predicate_type: str
    predicate: Mapping[str, Any] = field(default_factory=dict)

    @property
    def stage(self) -> str:
        m = _PREDICATE_RE.match(self.predicate_type)
        return m.group(1) if m else "external"

    @property
    def control(self) -> str:
        m = _PREDICATE_RE.match(self.predicate_type)
        return m.group(2) if m else self.predicate_type

    def to_json(self) -> dict[str, Any]:
        return {
            "_type": STATEMENT_TYPE,
            "subject": [s.to_json() for s in self.subjects],
            "predicateType": self.predicate_type,
            "predicate": dict(self.predicate),
        }

    def to_bytes(self) -> bytes:
        return canonical_json(self.to_json())

    @classmethod
    def from_json(cls, data: Any) -> Statement:
        if not isinstance(data, dict):
            raise FormatError("in-toto statement must be a JSON object")
        if data.get("_type") != STATEMENT_TYPE:
            raise FormatError(f"statement _type must be {STATEMENT_TYPE!r}")
        subjects_raw = data.get("subject")
        if not isinstance(subjects_raw, list) or not subjects_raw:
            raise FormatError("statement needs a non-empty subject list")
        subjects = []
        for s in subjects_raw:
            if not isinstance(s, dict) or not isinstance(s.get("digest"), dict):
                raise FormatError("each subject needs a name and a digest object")
            hexd = s["digest"].get("sha256")
            if not isinstance(hexd, str) or not _HEX64.match(hexd):
                raise FormatError("each subject needs a sha256 digest of 64 hex digits")
            subjects.append(ArtifactRef(name=str(s.get("name", "")), digest=f"sha256:{hexd}"))
        ptype = data.get("predicateType")
        if not isinstance(ptype, str) or not ptype:
            raise FormatError("statement needs a predicateType")
        predicate = data.get("predicate", {})
        if not isinstance(predicate, dict):
            raise FormatError("statement predicate must be a JSON object")
        return cls(subjects=tuple(subjects), predicate_type=ptype, predicate=predicate)


@dataclass(frozen=True, slots=True)
class Signature:
    keyid: str
    sig: bytes


@dataclass(frozen=True, slots=True)
class Envelope:
    """A DSSE envelope. ``payload`` holds the exact signed bytes."""

    payload: bytes
    payload_type: str
    signatures: tuple[Signature, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "payload": base64.b64encode(self.payload).decode(),
            "payloadType": self.payload_type,
            "signatures": [
                {"keyid": s.keyid, "sig": base64.b64encode(s.sig).decode()} for s in self.signatures
            ],
        }

    def to_bytes(self) -> bytes:
        """Canonical encoding; the Merkle leaf is computed over these bytes."""
        return canonical_json(self.to_json())

    @classmethod
    def from_json(cls, data: Any) -> Envelope:
        if not isinstance(data, dict):
            raise FormatError("DSSE envelope must be a JSON object")
        try:
            payload = base64.b64decode(data["payload"], validate=True)
            ptype = data["payloadType"]
            sigs_raw = data["signatures"]
            if not isinstance(ptype, str) or not isinstance(sigs_raw, list):
                raise TypeError
            sigs = tuple(
                Signature(
                    keyid=str(s.get("keyid", "")),
                    sig=base64.b64decode(s["sig"], validate=True),
                )
                for s in sigs_raw
            )
        except (KeyError, TypeError, AttributeError, binascii.Error, ValueError) as exc:
            raise FormatError(
                "malformed DSSE envelope: needs payload (base64), payloadType and "
                "signatures [{keyid, sig (base64)}]"
            ) from exc
        if not sigs:
            raise FormatError("DSSE envelope carries no signature")
        return cls(payload=payload, payload_type=ptype, signatures=sigs)

    @classmethod
    def from_bytes(cls, raw: bytes) -> Envelope:
        if len(raw) > MAX_ENVELOPE_BYTES:
            raise FormatError(f"DSSE envelope of {len(raw)} bytes is over the 16 MiB limit")
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError) as exc:
            raise FormatError(f"DSSE envelope is not valid JSON ({exc})") from exc
        return cls.from_json(data)

    def statement(self) -> Statement:
        if self.payload_type != PAYLOAD_TYPE:
            raise FormatError(f"payloadType {self.payload_type!r} is not {PAYLOAD_TYPE!r}")
        try:
            data = json.loads(self.payload)
        except (ValueError, RecursionError) as exc:
            raise FormatError(f"envelope payload is not valid JSON ({exc})") from exc
        return Statement.from_json(data)

    def verified_keyids(self, keys: Sequence[PublicKey]) -> list[str]:
        """Key ids among ``keys`` with a valid signature over this envelope."""
        message = pae(self.payload_type, self.payload)
        by_id = {k.keyid: k for k in keys}
        good = []
        for s in self.signatures:
            candidates = [by_id[s.keyid]] if s.keyid in by_id else list(keys)
            for key in candidates:
                if key.verify(s.sig, message):
                    good.append(key.keyid)
                    break
        return good

    def verify(self, keys: Sequence[PublicKey]) -> Statement:
        """The statement, if at least one signature verifies with ``keys``."""
        if not self.verified_keyids(keys):
            names = ", ".join(k.keyid[:16] for k in keys) or "none"
            raise SignatureError(f"no valid signature on the envelope from key(s) {names}")
        return self.statement()


def sign_statement(statement: Statement, key: SigningKey) -> Envelope:
    payload = statement.to_bytes()
    sig = key.sign(pae(PAYLOAD_TYPE, payload))
    return Envelope(
        payload=payload, payload_type=PAYLOAD_TYPE, signatures=(Signature(key.keyid, sig),)
    )
