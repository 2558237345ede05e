"""Stage 4, deployment: scan model files, convert them to SafeTensors, sign, gate."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aisec.core._lazy import lazy_dir, lazy_exports

if TYPE_CHECKING:
    from aisec.deployment.convert import (
        ConvertResult,
        convert_predicate,
        convert_statement,
        convert_to_safetensors,
    )
    from aisec.deployment.gate import (
        GATE_PREDICATE,
        FileVerdict,
        GateDecision,
        Reason,
        check_deployment,
        gate_predicate,
        gate_statement,
    )
    from aisec.deployment.gate_policy import (
        GatePolicy,
        LoadedPolicy,
        load_policy,
        parse_policy,
    )
    from aisec.deployment.scan import (
        RULES,
        SAFE_CALLABLES,
        FileResult,
        ScanReport,
        scan_file,
        scan_model,
        scan_predicate,
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

# each part loads on first use: a scan does not pay for signing, the gate or the store,
# and the control registry imports the package for nothing
_EXPORTS = {
    "ConvertResult": "aisec.deployment.convert",
    "convert_predicate": "aisec.deployment.convert",
    "convert_statement": "aisec.deployment.convert",
    "convert_to_safetensors": "aisec.deployment.convert",
    "RULES": "aisec.deployment.scan",
    "SAFE_CALLABLES": "aisec.deployment.scan",
    "FileResult": "aisec.deployment.scan",
    "ScanReport": "aisec.deployment.scan",
    "scan_file": "aisec.deployment.scan",
    "scan_model": "aisec.deployment.scan",
    "scan_predicate": "aisec.deployment.scan",
    "scan_statement": "aisec.deployment.scan",
    "GATE_PREDICATE": "aisec.deployment.gate",
    "FileVerdict": "aisec.deployment.gate",
    "GateDecision": "aisec.deployment.gate",
    "Reason": "aisec.deployment.gate",
    "check_deployment": "aisec.deployment.gate",
    "gate_predicate": "aisec.deployment.gate",
    "gate_statement": "aisec.deployment.gate",
    "GatePolicy": "aisec.deployment.gate_policy",
    "LoadedPolicy": "aisec.deployment.gate_policy",
    "load_policy": "aisec.deployment.gate_policy",
    "parse_policy": "aisec.deployment.gate_policy",
    "DEFAULT_IGNORE_PATHS": "aisec.deployment.signing",
    "MODEL_SIGNATURE_PREDICATE": "aisec.deployment.signing",
    "ModelSignature": "aisec.deployment.signing",
    "SignatureCheck": "aisec.deployment.signing",
    "hash_model": "aisec.deployment.signing",
    "sign_model": "aisec.deployment.signing",
    "signature_statement": "aisec.deployment.signing",
    "verify_model": "aisec.deployment.signing",
}
__getattr__ = lazy_exports(__name__, _EXPORTS)

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
    "ScanReport",
    "SignatureCheck",
    "check_deployment",
    "convert_predicate",
    "convert_statement",
    "convert_to_safetensors",
    "gate_predicate",
    "gate_statement",
    "hash_model",
    "load_policy",
    "parse_policy",
    "scan_file",
    "scan_model",
    "scan_predicate",
    "scan_statement",
    "sign_model",
    "signature_statement",
    "verify_model",
]
__dir__ = lazy_dir(__all__)
