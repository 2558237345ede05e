"""Output tokens, counted from what the upstream actually sent.

A request's token budget is charged before the call with what it may produce
(``max(n, best_of) * max_tokens``, 256 when unset). An upstream can send more than that: no
``max_tokens`` and a long answer, or a server that ignores the cap. What it sends beyond the
advance is charged after the fact (:meth:`aisec.inference.ratelimit.Limiter.charge`), from the
reply's ``usage.completion_tokens`` when the server reports it, else from the characters of the
generated text (4 per token, the same estimate the advance uses for prompts). Streams are
metered as they flow, event by event, so that a long stream counts against the account while
it is still running, not only when it ends.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["CHARS_PER_TOKEN", "StreamMeter", "output_tokens"]

CHARS_PER_TOKEN = 4
MAX_EVENT_BYTES = 1024 * 1024  # an event longer than this is passed on, not metered


def _text_chars(choices: Any) -> int:
    """Characters of generated text in ``choices`` (chat messages, deltas, completions)."""
    if not isinstance(choices, list):
        return 0
    total = 0
    for choice in choices:
        if not isinstance(choice, dict):
            continue
        for part in (choice.get("message"), choice.get("delta")):
            if isinstance(part, dict):
                content = part.get("content")
                if isinstance(content, str):
                    total += len(content)
                reasoning = part.get("reasoning_content")  # vLLM/DeepSeek reasoning models
                if isinstance(reasoning, str):
                    total += len(reasoning)
        text = choice.get("text")
        if isinstance(text, str):
            total += len(text)
    return total


def _usage(data: dict[str, Any]) -> int | None:
    usage = data.get("usage")
    if isinstance(usage, dict):
        value = usage.get("completion_tokens")
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
    return None


def output_tokens(data: Any) -> int:
    """Output tokens of one JSON reply: the server's own count, or an estimate from its text."""
    if not isinstance(data, dict):
        return 0
    reported = _usage(data)
    if reported is not None:
        return reported
    return -(-_text_chars(data.get("choices")) // CHARS_PER_TOKEN)


class StreamMeter:
    """Output tokens of an SSE stream so far; :meth:`feed` takes the bytes as they come."""

    def __init__(self) -> None:
        self._buf = b""
        self._chars = 0
        self._reported: int | None = None

    @property
    def tokens(self) -> int:
        if self._reported is not None:  # a final usage chunk (stream_options.include_usage)
            return max(self._reported, -(-self._chars // CHARS_PER_TOKEN))
        return -(-self._chars // CHARS_PER_TOKEN)

    def feed(self, chunk: bytes) -> None:
        self._buf += chunk
        *events, self._buf = self._buf.split(b"\n\n")
        for event in events:
            self._event(event)
        if len(self._buf) > MAX_EVENT_BYTES:
            self._buf = b""

    def close(self) -> None:
        if self._buf.strip():
            self._event(self._buf)
        self._buf = b""

    def _event(self, event: bytes) -> None:
        for line in event.split(b"\n"):
            if not line.startswith(b"data:"):
                continue
            payload = line[5:].strip()
            if not payload or payload == b"[DONE]":
                continue
            try:
                data = json.loads(payload)
            except (ValueError, RecursionError):
                continue  # not ours to judge: the client gets the event as it came
            if isinstance(data, dict):
                self._chars += _text_chars(data.get("choices"))
                reported = _usage(data)
                if reported is not None:
                    self._reported = reported
