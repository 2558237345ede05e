"""What a TorchScript archive's code can do: the operators it calls.

``torch.jit.load`` compiles the archive's ``code/`` files with the TorchScript compiler (they
are TorchScript, a typed subset of Python syntax, never run by the Python interpreter) and
unpickles ``data.pkl`` / ``constants.pkl`` with its C++ unpickler, which resolves
``__torch__.*`` names to the archive's own compiled classes instead of importing modules.
So the archive's reach is the set of operators its code calls: standard ``aten``/``prim``
operators compute on tensors; operators of other namespaces need a native library loaded
into the process; a few built-in operators read or write files.

The code is parsed with the stdlib ``ast`` (TorchScript's serialized form is Python syntax)
and never compiled or executed.
"""

from __future__ import annotations

import ast

__all__ = ["STANDARD_NAMESPACES", "TorchScriptCalls", "torchscript_calls"]

#: Operator namespaces that ship inside libtorch itself.
STANDARD_NAMESPACES = frozenset(
    {"aten", "prim", "quantized", "_quantized", "prepacked", "profiler", "quantized_decomposed"}
)
#: Built-in operators that reach the file system (the rest of aten computes on tensors).
FILE_OPS = frozenset({"aten::from_file", "aten::save", "aten::_nested_from_file"})


class TorchScriptCalls:
    """The operators one code file calls, by qualified name (``aten::relu``)."""

    def __init__(self) -> None:
        self.ops: set[str] = set()

    @property
    def custom(self) -> list[str]:
        return sorted(op for op in self.ops if op.split("::")[0] not in STANDARD_NAMESPACES)

    @property
    def file_ops(self) -> list[str]:
        return sorted(op for op in self.ops if op in FILE_OPS)


def _dotted(node: ast.expr) -> str | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def torchscript_calls(source: str, calls: TorchScriptCalls | None = None) -> TorchScriptCalls:
    """Collect the operators ``source`` calls. Raises SyntaxError / ValueError if it is not
    TorchScript's serialized form (Python syntax)."""
    out = calls or TorchScriptCalls()
    tree = ast.parse(source, mode="exec")
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = _dotted(node.func)
        if name is None:
            continue
        parts = name.split(".")
        if parts[0] == "torch" and parts[1:2] == ["ops"] and len(parts) >= 4:
            out.ops.add(f"{parts[2]}::{parts[3]}")
        elif parts[0] == "ops" and len(parts) >= 3:
            out.ops.add(f"{parts[1]}::{parts[2]}")
        elif parts[0] == "torch" and len(parts) == 2:
            out.ops.add(f"aten::{parts[1]}")
        elif parts[0] == "torch" and len(parts) == 3 and parts[1] in ("nn", "_C"):
            out.ops.add(f"aten::{parts[2]}")
    return out
