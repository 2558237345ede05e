"""Input filters and output hardening, as pure functions over parsed JSON.

Requests: cap ``max_tokens``, refuse ``logit_bias``, refuse over-long prompts and prompts
matching deny patterns (prompt-injection heuristics). Responses: strip ``logprobs`` /
``top_logprobs``, round classifier scores, keep the top-k labels, redact secrets and PII
(card numbers only when they pass the Luhn check).
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from typing import Any

import regex

from aisec.inference.config import HardeningConfig, RouteConfig, RouteKind

__all__ = [
    "KNOWN_FIELDS",
    "LOGPROB_FIELDS",
    "Refusal",
    "check_request",
    "classifier_margin",
    "harden_response",
    "harden_sse_event",
    "logit_probe",
    "luhn_ok",
    "prompt_text",
    "redact",
]

_SECRETS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("aws-access-key", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("api-key", re.compile(r"\bsk-[A-Za-z0-9_-]{20,}\b")),
    ("github-token", re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b")),
    ("private-key", re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")),
    ("email", re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b")),
    ("us-ssn", re.compile(r"\b\d{3}-\d{2}-\d{4}\b")),
)
_CARD = re.compile(r"\b(?:\d[ -]?){12,18}\d\b")
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


@dataclass(frozen=True, slots=True)
class Refusal:
    status: int
    reason: str


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def redact(text: str) -> tuple[str, list[str]]:
    """Replace secrets and PII with ``[REDACTED:<kind>]``; return the text and the kinds."""
    kinds: list[str] = []
    for kind, pattern in _SECRETS:
        text, n = pattern.subn(f"[REDACTED:{kind}]", text)
        kinds += [kind] * n

    def card(m: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", m.group(0))
        if 13 <= len(digits) <= 19 and luhn_ok(digits):
            kinds.append("card-number")
            return "[REDACTED:card-number]"
        return m.group(0)

    return _CARD.sub(card, text), kinds


def _texts(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        out: list[str] = []
        for v in value:
            out += _texts(v)
        return out
    if isinstance(value, dict):
        if value.get("type") == "text" and isinstance(value.get("text"), str):
            return [value["text"]]
        return _texts(value.get("content"))
    return []


def prompt_text(body: dict[str, Any], route: RouteConfig) -> str:
    """The text an account sent, for filters and detectors (never executed)."""
    if route.kind is RouteKind.OPENAI_CHAT:
        return "\n".join(_texts(body.get("messages")))
    if route.kind is RouteKind.OPENAI_COMPLETIONS:
        return "\n".join(_texts(body.get("prompt")))
    if route.kind is RouteKind.OPENAI_EMBEDDINGS:
        return "\n".join(_texts(body.get("input")))
    return "\n".join(_texts(body.get(route.text_field)))


@functools.lru_cache(maxsize=256)
def _deny(pattern: str) -> Any:
    """A deny pattern compiled with ``regex`` in its re-compatible mode (V0), not ``re``: it
    releases the GIL while it matches (``concurrent=True``), so a long prompt filtered in a
    worker thread does not hold the event loop, and it searched a 4 MB prompt ~16x faster
    than ``re`` here (2 ms against 37)."""
    return regex.compile(pattern, regex.IGNORECASE | regex.V0)


# The request parameters of OpenAI's API reference per route kind (the fields a compatible
# server is expected to read). Anything else is a vendor extension or a probe: the route's
# ``unknown-fields`` policy decides (logprob-like extensions are stripped by strip-logprobs).
_SAMPLING = (
    "model", "frequency_penalty", "presence_penalty", "logit_bias", "logprobs", "max_tokens",
    "n", "seed", "stop", "stream", "stream_options", "temperature", "top_p", "user",
)  # fmt: skip
KNOWN_FIELDS: dict[RouteKind, frozenset[str]] = {
    RouteKind.OPENAI_CHAT: frozenset((
        *_SAMPLING, "messages", "top_logprobs", "max_completion_tokens", "response_format",
        "service_tier", "tools", "tool_choice", "parallel_tool_calls", "functions",
        "function_call", "modalities", "audio", "prediction", "reasoning_effort", "store",
        "metadata", "web_search_options", "verbosity", "prompt_cache_key", "safety_identifier",
    )),
    RouteKind.OPENAI_COMPLETIONS: frozenset((*_SAMPLING, "prompt", "best_of", "echo", "suffix")),
    RouteKind.OPENAI_EMBEDDINGS: frozenset(
        ("model", "input", "encoding_format", "dimensions", "user")
    ),
}  # fmt: skip


def _unknown_fields(body: dict[str, Any], route: RouteConfig) -> list[str]:
    known = KNOWN_FIELDS.get(route.kind) or frozenset(("model", route.text_field))
    allowed = set(route.hardening.allow_fields)
    return sorted(k for k in body if k not in known and k not in allowed)


def check_request(
    body: dict[str, Any], route: RouteConfig, text: str
) -> tuple[list[str], Refusal | None]:
    """Apply the route's input filters in place; return the changes made or a refusal."""
    h = route.hardening
    changes: list[str] = []
    if h.max_prompt_chars is not None and len(text) > h.max_prompt_chars:
        return changes, Refusal(413, f"prompt longer than {h.max_prompt_chars} characters")
    for pattern in h.deny_patterns:
        if _deny(pattern).search(text, concurrent=True):
            return changes, Refusal(400, f"prompt matches deny pattern {pattern!r}")
    if "logit_bias" in body and h.refuse_logit_bias:
        return changes, Refusal(400, "logit_bias is not allowed on this route")
    if h.strip_logprobs:
        for name in LOGPROB_FIELDS:
            if body.get(name) not in (None, False, 0):
                changes.append(f"removed {name}")
            body.pop(name, None)
    if h.unknown_fields != "pass":
        unknown = _unknown_fields(body, route)
        if unknown and h.unknown_fields == "refuse":
            names = ", ".join(unknown[:5]) + (" ..." if len(unknown) > 5 else "")
            return changes, Refusal(400, f"unknown request field(s) on this route: {names}")
        for name in unknown:
            body.pop(name)
            changes.append(f"removed unknown field {name}")
    if h.max_tokens is not None and route.kind in (
        RouteKind.OPENAI_CHAT,
        RouteKind.OPENAI_COMPLETIONS,
    ):
        for key in ("max_tokens", "max_completion_tokens"):
            asked = body.get(key)
            too_many = not isinstance(asked, int) or asked > h.max_tokens
            if too_many and (key == "max_tokens" or key in body):
                body[key] = h.max_tokens
                changes.append(f"{key} capped at {h.max_tokens}")
    return changes, None


def _walk(data: Any, path: str) -> tuple[Any, Any, Any]:
    """Follow a dotted path (``a.0.b``); return (parent, key, value) or Nones."""
    parent: Any = None
    key: Any = None
    cur = data
    for part in path.split("."):
        parent = cur
        if isinstance(cur, dict) and part in cur:
            key, cur = part, cur[part]
        elif isinstance(cur, list) and part.isdigit() and int(part) < len(cur):
            key, cur = int(part), cur[int(part)]
        else:
            return None, None, None
    return parent, key, cur


def _matches(data: Any, parts: list[str]) -> list[tuple[Any, Any]]:
    """Every (parent, key) a dotted path reaches; ``*`` is any one key or index, ``**`` any
    number of levels (none included). Iterative, so a deep reply cannot exhaust the stack."""
    found: list[tuple[Any, Any]] = []
    seen: set[tuple[int, int]] = set()
    stack: list[tuple[Any, Any, Any, int]] = [(None, None, data, 0)]
    while stack:
        parent, key, cur, i = stack.pop()
        if (id(cur), i) in seen:
            continue
        seen.add((id(cur), i))
        if i == len(parts):
            if parent is not None:
                found.append((parent, key))
            continue
        part = parts[i]
        children: list[tuple[Any, Any]] = []
        if isinstance(cur, dict):
            children = list(cur.items())
        elif isinstance(cur, list):
            children = list(enumerate(cur))
        if part == "**":
            stack.append((parent, key, cur, i + 1))  # zero levels
            stack += [(cur, k, v, i) for k, v in children]  # one more level, still in '**'
        elif part == "*":
            stack += [(cur, k, v, i + 1) for k, v in children]
        elif isinstance(cur, dict) and part in cur:
            stack.append((cur, part, cur[part], i + 1))
        elif isinstance(cur, list) and part.isdigit() and int(part) < len(cur):
            stack.append((cur, int(part), cur[int(part)], i + 1))
    return found


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _harden_fields(data: Any, route: RouteConfig, decimals: int | None, top_k: int | None) -> None:
    """Round every number the route's ``score-fields`` reach; top-k masks the number lists of
    named paths (not of ``**``, which would zero every list of the reply)."""
    for path in route.score_fields:
        k = None if path == "**" else top_k
        for parent, key in _matches(data, path.split(".")):
            value = parent[key]
            if isinstance(value, float) and decimals is not None:
                parent[key] = round(value, decimals)
            elif isinstance(value, list) and value and all(_is_number(v) for v in value):
                keep = set(range(len(value)))
                if k is not None:
                    keep = set(sorted(range(len(value)), key=lambda i: -value[i])[:k])
                parent[key] = [
                    (round(v, decimals) if decimals is not None and isinstance(v, float) else v)
                    if i in keep else 0
                    for i, v in enumerate(value)
                ]  # fmt: skip


def _score_list(value: Any) -> list[float] | None:
    if isinstance(value, list) and value:
        if all(isinstance(v, int | float) and not isinstance(v, bool) for v in value):
            return [float(v) for v in value]
        if all(isinstance(v, dict) and isinstance(v.get("score"), int | float) for v in value):
            return [float(v["score"]) for v in value]
    return None


def classifier_margin(data: Any, route: RouteConfig) -> float | None:
    """Top-1 minus top-2 score, read before hardening (for boundary-probing detection)."""
    if route.scores is None:
        return None
    scores = _score_list(_walk(data, route.scores)[2])
    if not scores:
        return None
    top = sorted(scores, reverse=True)
    return top[0] - (top[1] if len(top) > 1 else 0.0)


def _harden_scores(data: Any, route: RouteConfig, decimals: int | None, top_k: int | None) -> None:
    assert route.scores is not None  # noqa: S101 -- validated: classifier routes name scores
    parent, key, value = _walk(data, route.scores)
    if _score_list(value) is None:
        return
    labels_parent: Any = None
    labels_key: Any = None
    labels: Any = None
    if route.labels:
        labels_parent, labels_key, labels = _walk(data, route.labels)
    items = list(value)
    order = sorted(
        range(len(items)),
        key=lambda i: -(items[i]["score"] if isinstance(items[i], dict) else items[i]),
    )
    order = order[:top_k] if top_k is not None else list(range(len(items)))

    def rnd(x: float) -> float:
        return round(x, decimals) if decimals is not None else x

    new = []
    for i in order:
        it = items[i]
        new.append({**it, "score": rnd(it["score"])} if isinstance(it, dict) else rnd(it))
    parent[key] = new
    if isinstance(labels, list) and len(labels) == len(items) and labels_parent is not None:
        labels_parent[labels_key] = [labels[i] for i in order]


def harden_response(
    data: Any, route: RouteConfig, *, degrade: bool = False, degrade_decimals: int = 1
) -> list[str]:
    """Harden a parsed response in place; return what was changed."""
    h: HardeningConfig = route.hardening
    changes: list[str] = []
    strip = h.strip_logprobs or degrade
    if not isinstance(data, dict):
        return changes
    if route.kind is RouteKind.CLASSIFIER:
        decimals = h.round_decimals
        top_k = h.top_k
        if degrade:
            decimals = min(decimals, degrade_decimals) if decimals is not None else degrade_decimals
            top_k = 1
        if decimals is not None or top_k is not None:
            _harden_scores(data, route, decimals, top_k)
            _harden_fields(data, route, decimals, top_k)  # every other score-like field
            changes.append("scores hardened")
        return changes
    for choice in data.get("choices") or ():
        if not isinstance(choice, dict):
            continue
        if strip and choice.get("logprobs") is not None:
            choice["logprobs"] = None
            changes.append("logprobs stripped")
        if h.redact_secrets:
            msg = choice.get("message") or choice.get("delta")
            for holder, key in ((msg, "content"), (choice, "text")):
                if isinstance(holder, dict) and isinstance(holder.get(key), str):
                    holder[key], kinds = redact(holder[key])
                    changes += [f"redacted {k}" for k in kinds]
    return changes


def harden_sse_event(event: bytes, route: RouteConfig, *, degrade: bool) -> bytes:
    """Harden one ``data: {...}`` server-sent event of a streamed completion."""
    if not event.startswith(b"data:"):
        return event
    payload = event[5:].strip()
    if payload == b"[DONE]":
        return event
    try:
        data = json.loads(payload)
    except ValueError:
        return event
    if not harden_response(data, route, degrade=degrade):
        return event
    return b"data: " + json.dumps(data, separators=(",", ":")).encode()


def logit_probe(body: dict[str, Any]) -> tuple[str, ...] | None:
    """The request's logit_bias as sorted ``token:bias`` items when it also asks for logprobs."""
    bias = body.get("logit_bias")
    if not isinstance(bias, dict) or not bias:
        return None
    if not (body.get("logprobs") or body.get("top_logprobs")):
        return None
    return tuple(sorted(f"{k}:{v}" for k, v in bias.items()))
