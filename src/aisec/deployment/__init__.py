"""Stage 4, deployment: scan model files, convert them to SafeTensors, sign, gate."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from aisec.deployment.convert import ConvertResult, convert_statement, convert_to_safetensors
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

if TYPE_CHECKING:
    from aisec.deployment.gate import (
        GATE_PREDICATE,
        FileVerdict,
        GateDecision,
        Reason,
        check_deployment,
        gate_statement,
    )
    from aisec.deployment.gate_policy import GatePolicy, LoadedPolicy, load_policy, parse_policy
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

# Signing and the gate pull in pydantic policies and the evidence store; a scan or a
# conversion should not pay for them, so those names load on first use.
_LAZY = {
    "GATE_PREDICATE": "gate",
    "FileVerdict": "gate",
    "GateDecision": "gate",
    "Reason": "gate",
    "check_deployment": "gate",
    "gate_statement": "gate",
    "GatePolicy": "gate_policy",
    "LoadedPolicy": "gate_policy",
    "load_policy": "gate_policy",
    "parse_policy": "gate_policy",
    "DEFAULT_IGNORE_PATHS": "signing",
    "MODEL_SIGNATURE_PREDICATE": "signing",
    "ModelSignature": "signing",
    "SignatureCheck": "signing",
    "hash_model": "signing",
    "sign_model": "signing",
    "signature_statement": "signing",
    "verify_model": "signing",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"aisec.deployment.{module}"), name)


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
