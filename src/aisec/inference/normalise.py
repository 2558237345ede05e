"""Request normalisation: every proxied body is checked here before any policy reads it.

The gateway's limits and hardening are only as good as its reading of the request. An
OpenAI-compatible server accepts more than the OpenAI schema (vLLM's ``prompt_logprobs``,
TGI's ``details``, llama.cpp's ``n_probs``, SGLang's ``return_logprob``), and a policy that
reads ``body.get("stream") is True`` while the server reads ``"true"`` as true is a bypass.
So the parameters that decide how much work and what output a request gets are type-checked
here (a wrong type is a 400, never a guess), the nesting depth and size of the body are
bounded, and every logprob-like extension is handled by one explicit per-route policy.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from aisec.inference.config import RouteConfig, RouteKind
from aisec.inference.harden import Refusal

__all__ = [
    "LOGPROB_FIELDS",
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

#: Fields by which OpenAI-compatible servers return token probabilities or logits. With
#: ``strip-logprobs`` on a route they are removed before the request goes upstream.
LOGPROB_FIELDS: tuple[str, ...] = (
    "logprobs",  # OpenAI (bool on chat, int on legacy completions)
    "top_logprobs",  # OpenAI chat
    "prompt_logprobs",  # vLLM
    "details",  # TGI: token details with logprobs
    "decoder_input_details",  # TGI: prompt token logprobs
    "top_n_tokens",  # TGI
    "n_probs",  # llama.cpp server
    "post_sampling_probs",  # llama.cpp server
    "return_logprob",  # SGLang
    "top_logprobs_num",  # SGLang
    "logprob_start_len",  # SGLang
    "return_text_in_logprobs",  # SGLang
    "return_tokens_as_token_ids",  # vLLM
)

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
    changes: list[str] = field(default_factory=list)


def parse_body(raw: bytes, *, max_depth: int = MAX_DEPTH) -> dict[str, Any] | Refusal:
    """The request body as a JSON object, or the refusal that says what is wrong with it.

    Depth is checked on the bytes before parsing, so a deeply nested body never reaches the
    recursive parser.
    """
    if _too_deep(raw, max_depth):
        return Refusal(400, f"request body is nested deeper than {max_depth} levels")
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):
        return Refusal(400, "request body is not valid JSON")
    if not isinstance(body, dict):
        return Refusal(400, "request body must be a JSON object")
    if _count_nodes(body) > MAX_NODES:
        return Refusal(413, f"request body has more than {MAX_NODES} JSON values")
    return body


def _too_deep(raw: bytes, limit: int) -> bool:
    # A scan of brackets outside strings: linear, no recursion; the json module itself gives
    # no depth limit, and a 100,000-deep array makes it raise RecursionError.
    depth = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > limit:
                return True
        elif byte in (0x5D, 0x7D):  # ] }
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
    """Check the parameters that decide the work and the output; strip what the route strips.

    Changes ``body`` in place (stripped fields) and returns it with what policy reads.
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
    if route.hardening.strip_logprobs:
        for name in LOGPROB_FIELDS:
            if name in body and body[name] not in (None, False, 0):
                out.changes.append(f"removed {name}")
            body.pop(name, None)
    return out
