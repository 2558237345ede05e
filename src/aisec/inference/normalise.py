"""Request normalisation: every proxied body is checked here before any policy reads it.

The gateway's limits and hardening are only as good as its reading of the request. An
OpenAI-compatible server accepts more than the OpenAI schema (vLLM's ``prompt_logprobs``,
TGI's ``details``, llama.cpp's ``n_probs``, SGLang's ``return_logprob``), and a policy that
reads ``body.get("stream") is True`` while the server reads ``"true"`` as true is a bypass.
So the parameters that decide how much work and what output a request gets are type-checked
here (a wrong type is a 400, never a guess), the nesting depth and size of the body are
bounded. (Every logprob-like extension is stripped by the route's input filters, in
``harden.check_request``.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from aisec.inference import _json
from aisec.inference.config import RouteConfig, RouteKind
from aisec.inference.harden import Refusal

__all__ = [
    "MAX_CHOICES",
    "MAX_DEPTH",
    "MAX_NODES",
    "Normalised",
    "normalise",
    "parse_body",
]

#: Deepest JSON nesting a request may have. Chat requests need about 6 levels (messages,
#: content parts, tool-call arguments as objects); the default leaves ample room and keeps a
#: hostile body far from the interpreter's recursion limit.
MAX_DEPTH = 64
#: Most JSON values (objects, arrays, scalars) in one request body.
MAX_NODES = 200_000
#: Most completions one request may ask for (``n`` and ``best_of``).
MAX_CHOICES = 16

_STRUCTURAL = re.compile(rb'[\[\]{}"\\]')
_TOKEN_FIELDS = ("max_tokens", "max_completion_tokens")
_GENERATING = (RouteKind.OPENAI_CHAT, RouteKind.OPENAI_COMPLETIONS)


@dataclass(slots=True)
class Normalised:
    """What policy needs from a checked request."""

    body: dict[str, Any]
    stream: bool = False
    #: completions the upstream will generate (``max(n, best_of)``)
    choices: int = 1
    max_tokens: int | None = None


def parse_body(raw: bytes, *, max_depth: int = MAX_DEPTH) -> dict[str, Any] | Refusal:
    """The request body as a JSON object, or the refusal that says what is wrong with it.

    Depth is checked on the bytes before parsing, so a deeply nested body never reaches the
    recursive parser.
    """
    if _too_deep(raw, max_depth):
        return Refusal(400, f"request body is nested deeper than {max_depth} levels")
    try:
        body = _json.loads(raw)
    except (ValueError, RecursionError):
        return Refusal(400, "request body is not valid JSON")
    if not isinstance(body, dict):
        return Refusal(400, "request body must be a JSON object")
    if _count_nodes(body) > MAX_NODES:
        return Refusal(413, f"request body has more than {MAX_NODES} JSON values")
    return body


def _too_deep(raw: bytes, limit: int) -> bool:
    # The json module has no depth limit (a 100,000-deep array makes it raise RecursionError),
    # so depth is read off the bytes. A body with no more opening brackets than the limit
    # cannot be deeper (two C-speed counts: nearly every request ends here); otherwise only the
    # structural bytes are visited, outside strings.
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    depth = 0
    in_string = False
    skip = -1  # the byte after a backslash inside a string is escaped, whatever it is
    for m in _STRUCTURAL.finditer(raw):
        at, byte = m.start(), m.group()
        if at == skip:
            continue
        if in_string:
            if byte == b"\\":
                skip = at + 1
            elif byte == b'"':
                in_string = False
        elif byte == b'"':
            in_string = True
        elif byte in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        elif byte in (b"]", b"}"):
            depth -= 1
    return False


def _count_nodes(value: Any) -> int:
    count = 0
    stack = [value]
    while stack:
        item = stack.pop()
        count += 1
        if count > MAX_NODES:
            break
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return count


def _int_field(body: dict[str, Any], name: str, low: int, high: int) -> int | Refusal | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        return Refusal(400, f"'{name}' must be an integer, got {type(value).__name__}")
    if not low <= value <= high:
        return Refusal(400, f"'{name}' must be between {low} and {high}, got {value}")
    return value


def normalise(body: dict[str, Any], route: RouteConfig) -> Normalised | Refusal:
    """Check the parameters that decide the work and the output; return what policy reads.

    Stripping what the route strips is the input filters' job (:func:`~aisec.inference.harden.
    check_request`), which runs next on the checked body.
    """
    out = Normalised(body)
    stream = body.get("stream")
    if stream is not None and not isinstance(stream, bool):
        return Refusal(400, f"'stream' must be true or false, got {type(stream).__name__}")
    out.stream = stream is True
    if route.kind not in _GENERATING:
        return out
    choices = 1
    for name in ("n", "best_of"):
        got = _int_field(body, name, 1, MAX_CHOICES)
        if isinstance(got, Refusal):
            return got
        choices = max(choices, got or 1)
    out.choices = choices
    for name in _TOKEN_FIELDS:
        got = _int_field(body, name, 1, 10_000_000)
        if isinstance(got, Refusal):
            return got
        if got is not None:
            out.max_tokens = got if out.max_tokens is None else min(out.max_tokens, got)
    return out
