"""Predicates of stage 4, deployment: scans, conversions, signatures and gate decisions."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from aisec.core.controls import ControlResult
from aisec.core.predicates._base import Digest, Predicate, _Model
from aisec.core.predicates.enums import GateDecisionKind, ScanVerdict

__all__ = [
    "ConvertPredicate",
    "ConvertedFile",
    "GateDecisionKind",
    "GatePredicate",
    "GateReasonInfo",
    "ModelFileInfo",
    "ScanPredicate",
    "ScanVerdict",
    "ScannedFile",
    "SignaturePredicate",
    "SignedFile",
]


class ScannedFile(_Model):
    path: str
    digest: Digest | None = None
    format: str | None = None
    verdict: ScanVerdict
    findings: int = 0


class ScanPredicate(Predicate):
    """A scan of model files (subjects: every file looked at, by digest)."""

    STAGE: ClassVar[str] = "deployment"
    CONTROL: ClassVar[str] = "model-scan"
    VERSION: ClassVar[int] = 2
    LEGACY: ClassVar[tuple[int, ...]] = (1,)

    verdict: ScanVerdict
    files: tuple[ScannedFile, ...]

    def file(self, digest: str) -> ScannedFile | None:
        """The entry of the file with ``digest``, if the scan covered it."""
        return next((f for f in self.files if f.digest == digest), None)

    @classmethod
    def upgrade(cls, version: int, data: dict[str, Any]) -> dict[str, Any]:
        return {**data, "result": ScanVerdict(data["verdict"]).result.value}


class ConvertedFile(_Model):
    path: str
    digest: Digest
    format: str


class ConvertPredicate(Predicate):
    """A conversion to SafeTensors: the subject is the output, ``inputs`` the source."""

    STAGE: ClassVar[str] = "deployment"
    CONTROL: ClassVar[str] = "convert"
    VERSION: ClassVar[int] = 2
    LEGACY: ClassVar[tuple[int, ...]] = (1,)

    source: ConvertedFile
    output: ConvertedFile
    tensors: int

    @classmethod
    def upgrade(cls, version: int, data: dict[str, Any]) -> dict[str, Any]:
        src = data["source"]
        return {
            **data,
            "result": ControlResult.PASS.value,
            "inputs": [{"name": src["path"], "digest": src["digest"], "role": "source"}],
        }


class SignedFile(_Model):
    path: str
    digest: Digest


class SignaturePredicate(Predicate):
    """An OpenSSF model signature made or verified (subject: the model's digest)."""

    STAGE: ClassVar[str] = "deployment"
    CONTROL: ClassVar[str] = "model-signature"
    VERSION: ClassVar[int] = 2
    LEGACY: ClassVar[tuple[int, ...]] = (1,)

    action: Literal["sign", "verify"]
    valid: bool
    keyid: str | None = None
    signature_digest: Digest | None = None
    files: tuple[SignedFile, ...] = ()
    serialization: Literal["files", "shards"]
    shard_size: int | None = None
    ignore_paths: tuple[str, ...] = ()
    format: str
    reasons: tuple[str, ...] = ()

    @classmethod
    def upgrade(cls, version: int, data: dict[str, Any]) -> dict[str, Any]:
        ok = bool(data.get("valid"))
        return {**data, "result": (ControlResult.PASS if ok else ControlResult.FAIL).value}


class GateReasonInfo(_Model):
    check: str
    ok: bool
    message: str
    path: str | None = None
    triage: tuple[int, ...] = ()  # entries of the triage decisions that accepted a failure


class ModelFileInfo(_Model):
    path: str
    digest: str
    format: str


class GatePredicate(Predicate):
    """A deploy-gate decision about one model folder (the subject); ``inputs`` name the
    policy and every attestation the decision read."""

    STAGE: ClassVar[str] = "deployment"
    CONTROL: ClassVar[str] = "gate"
    VERSION: ClassVar[int] = 2
    LEGACY: ClassVar[tuple[int, ...]] = (1,)

    decision: GateDecisionKind
    reasons: tuple[GateReasonInfo, ...]
    policy_digest: Digest | None = None
    files: tuple[ModelFileInfo, ...] = ()

    @classmethod
    def upgrade(cls, version: int, data: dict[str, Any]) -> dict[str, Any]:
        allow = data.get("decision") == "allow"
        return {**data, "result": (ControlResult.PASS if allow else ControlResult.FAIL).value}
