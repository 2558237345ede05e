"""Stage 4, deployment: scan model files, convert them to SafeTensors, sign, gate."""

from __future__ import annotations

from aisec.deployment.convert import ConvertResult, convert_statement, convert_to_safetensors
from aisec.deployment.gate import (
    GATE_PREDICATE,
    FileVerdict,
    GateDecision,
    Reason,
    check_deployment,
    gate_statement,
)
from aisec.deployment.gate_policy import GatePolicy, LoadedPolicy, load_policy, parse_policy
from aisec.deployment.scan import (
    RULES,
    SAFE_CALLABLES,
    FileResult,
    Rule,
    ScanReport,
    scan_file,
    scan_model,
    scan_statement,
)
from aisec.deployment.signing import (
    DEFAULT_IGNORE_PATHS,
    MODEL_SIGNATURE_PREDICATE,
    ModelSignature,
    SignatureCheck,
    hash_model,
    sign_model,
    signature_statement,
    verify_model,
)

__all__ = [
    "DEFAULT_IGNORE_PATHS",
    "GATE_PREDICATE",
    "MODEL_SIGNATURE_PREDICATE",
    "RULES",
    "SAFE_CALLABLES",
    "ConvertResult",
    "FileResult",
    "FileVerdict",
    "GateDecision",
    "GatePolicy",
    "LoadedPolicy",
    "ModelSignature",
    "Reason",
    "Rule",
    "ScanReport",
    "SignatureCheck",
    "check_deployment",
    "convert_statement",
    "convert_to_safetensors",
    "gate_statement",
    "hash_model",
    "load_policy",
    "parse_policy",
    "scan_file",
    "scan_model",
    "scan_statement",
    "sign_model",
    "signature_statement",
    "verify_model",
]
