"""The finding rules of the model scanner: ids, titles, severities and framework mappings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aisec.core.controls import Rule
from aisec.core.findings import Finding, Mappings, Region, Severity

__all__ = ["RULES", "make_finding"]

_SUPPLY = ("AML.T0010", "AML.T0010.003", "AML.T0011.000")
# loading a model file is running the publisher's code: a supply-chain control (SAIF 1) and
# the MAP/MANAGE duty to know third-party components (NIST AI RMF MAP 4.1, MANAGE 3.1)
_SAIF = ("SAIF-1",)
_NIST = ("MAP 4.1", "MANAGE 3.1")


def _rule(
    num: int,
    severity: Severity,
    title: str,
    remediation: str,
    *,
    rationale: str,
    atlas: tuple[str, ...] = _SUPPLY,
    owasp: tuple[str, ...] = ("LLM03",),
) -> Rule:
    return Rule(
        id=f"AISEC-DEP-{num:03d}",
        stage="deployment",
        severity=severity,
        title=title,
        remediation=remediation,
        mappings=Mappings(atlas=atlas, owasp_llm=owasp, saif=_SAIF, nist_ai_rmf=_NIST),
        rationale=rationale,
    )


_CONVERT = (
    "Do not load this file. Obtain the weights as SafeTensors from a trusted source, or "
    "convert only after the finding is understood (`aisec model convert` refuses anything "
    "that is not tensor data)."
)

DANGEROUS_CALLABLE = _rule(
    1,
    Severity.CRITICAL,
    "Pickle calls a callable that can execute code or reach the system",
    _CONVERT,
    rationale=(
        "A pickle that calls os.system, exec or a network function runs the attacker's code the "
        "moment the model is loaded."
    ),
)
UNSAFE_CALLABLE = _rule(
    2,
    Severity.HIGH,
    "Pickle reaches a callable outside the allowlist of safe reconstructors",
    _CONVERT,
    rationale=(
        "Any callable outside the reconstructors a framework needs may be a gadget; unknown means"
        " unsafe to load."
    ),
)
UNVERIFIED = _rule(
    3,
    Severity.HIGH,
    "File could not be verified safe",
    "Treat the file as unsafe: it is truncated, malformed, over a resource bound, or in a "
    "form the scanner cannot read fully. Re-export it from its source as SafeTensors.",
    rationale=(
        "A file the scanner cannot read fully may hide what a loader would execute; it is never "
        "reported clean."
    ),
)
ARCHIVE_EVASION = _rule(
    4,
    Severity.HIGH,
    "Archive structure that loaders and scanners read differently",
    "Rebuild the archive from its source; a checkpoint whose zip headers disagree, whose CRC "
    "is wrong or whose entries overlap was tampered with or built to evade scanners.",
    rationale=(
        "Archives that parse differently in the scanner and the loader are how scanner bypasses "
        "smuggle pickles."
    ),
)
KERAS_LAMBDA = _rule(
    5,
    Severity.CRITICAL,
    "Keras model contains a Lambda layer (serialized Python code)",
    "Replace the Lambda layer with a registered layer class; load with safe_mode=True.",
    rationale=(
        "A Lambda layer stores Python bytecode that Keras runs when the model is loaded without "
        "safe mode."
    ),
)
KERAS_CUSTOM = _rule(
    6,
    Severity.HIGH,
    "Keras model refers to a custom object (code outside Keras)",
    "Review the custom class and load only with the reviewed class registered explicitly.",
    rationale="A custom object makes the loader import and run code outside Keras.",
)
ONNX_EXTERNAL = _rule(
    7,
    Severity.HIGH,
    "ONNX external data path leaves the model folder",
    "Reject the model: external-data locations must be relative paths inside the model folder.",
    rationale=(
        "External-data paths outside the model folder let a model read arbitrary files when it is"
        " loaded."
    ),
)
ONNX_CUSTOM_OP = _rule(
    8,
    Severity.MEDIUM,
    "ONNX graph uses a custom operator domain (needs native code to run)",
    "Load only with a reviewed custom-op library; prefer models using the standard domains.",
    rationale=(
        "Custom operator domains need native libraries that run with the serving process's rights."
    ),
)
GGUF_TEMPLATE = _rule(
    9,
    Severity.CRITICAL,
    "Chat template (GGUF or tokenizer config) reaches outside the Jinja sandbox",
    "Replace the chat_template metadata with a reviewed template before serving the model.",
    owasp=("LLM03", "LLM04"),
    rationale=(
        "A chat template that escapes the Jinja sandbox runs code on the inference server for "
        "every request."
    ),
)
SAFETENSORS_HEADER = _rule(
    10,
    Severity.HIGH,
    "SafeTensors header is inconsistent with the file",
    "Re-export the file; loaders disagree on headers with overlapping or out-of-range "
    "offsets, dtype/shape sizes that do not match, or data hidden after the tensors.",
    owasp=("LLM03", "LLM04"),
    rationale=(
        "An inconsistent header makes loaders disagree about the tensors, hiding data or crashing"
        " the server."
    ),
)
GLOBAL_MUTATION = _rule(
    11,
    Severity.HIGH,
    "Pickle changes the state of an imported object (BUILD on a global)",
    _CONVERT,
    rationale=(
        "BUILD on an imported object rewrites library state at load time, a way to plant code for"
        " later."
    ),
)

TORCHSCRIPT_CUSTOM_OP = _rule(
    12,
    Severity.MEDIUM,
    "TorchScript code calls an operator outside libtorch (needs a native library)",
    "Load only with a reviewed operator library; prefer a model that uses standard operators.",
    rationale=(
        "An operator namespace outside libtorch runs native code that the archive does not "
        "contain and the scanner cannot read."
    ),
)
TORCHSCRIPT_FILE_OP = _rule(
    13,
    Severity.HIGH,
    "TorchScript code calls an operator that reads or writes files",
    _CONVERT,
    rationale="A TorchScript model that reads or writes files reaches outside its tensors.",
)
ARCHIVE_MEMBER_ESCAPE = _rule(
    14,
    Severity.HIGH,
    "Archive member escapes the extraction folder (.., absolute path, link, device)",
    "Do not extract the archive; rebuild it from its source with plain relative members.",
    rationale=(
        "Members with '..' or absolute names, links that point outside and device files "
        "overwrite or read files outside the folder the archive is unpacked into."
    ),
)
TF_GRAPH_OP = _rule(
    15,
    Severity.HIGH,
    "TensorFlow graph uses an operation that reaches files, Python or the network",
    "Do not load or serve the graph; re-export it without the listed operations.",
    rationale=(
        "TensorFlow graphs run their operations on load or serving: ReadFile, WriteFile, "
        "PyFunc and friends read files, write files or run Python."
    ),
)
REMOTE_CODE = _rule(
    16,
    Severity.HIGH,
    "Model folder makes its loader import and run code (auto_map, loader_module, _target_)",
    "Review the named code and load it only from a pinned, reviewed revision; never with "
    "trust_remote_code for an unreviewed model.",
    rationale=(
        "Hugging Face auto_map with trust_remote_code, MLflow loader modules and code paths, "
        "and Hydra _target_ in NeMo configs import and run Python when the model is loaded."
    ),
)
SKOPS_TYPE = _rule(
    17,
    Severity.HIGH,
    "skops file names a type outside the allowlist",
    "Load only with trusted types reviewed by hand (skops.io.get_untrusted_types).",
    rationale=(
        "skops reconstructs the types its schema names; a type outside the allowlist, or an "
        "operator/attrgetter/methodcaller node, can run code when the model is loaded."
    ),
)

RULES: tuple[Rule, ...] = (
    DANGEROUS_CALLABLE,
    UNSAFE_CALLABLE,
    UNVERIFIED,
    ARCHIVE_EVASION,
    KERAS_LAMBDA,
    KERAS_CUSTOM,
    ONNX_EXTERNAL,
    ONNX_CUSTOM_OP,
    GGUF_TEMPLATE,
    SAFETENSORS_HEADER,
    GLOBAL_MUTATION,
    TORCHSCRIPT_CUSTOM_OP,
    TORCHSCRIPT_FILE_OP,
    ARCHIVE_MEMBER_ESCAPE,
    TF_GRAPH_OP,
    REMOTE_CODE,
    SKOPS_TYPE,
)


def make_finding(
    rule: Rule,
    path: str,
    detail: str,
    *,
    member: str | None = None,
    offset: int | None = None,
    callable_name: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Finding:
    """A finding of ``rule`` about ``path`` (and, inside it, ``member`` at byte ``offset``)."""
    evidence: dict[str, Any] = {}
    if member is not None:
        evidence["member"] = member
    if offset is not None:
        evidence["offset"] = offset
    if callable_name is not None:
        evidence["callable"] = callable_name
    if extra:
        evidence.update(extra)
    where = (
        path + (f" [{member}]" if member else "") + (f" @{offset}" if offset is not None else "")
    )
    region = None
    if member is not None or offset is not None:
        region = Region(byte_offset=offset, member=member)
    return rule.finding(path, f"{where}: {detail}", evidence=evidence, region=region)
