"""A built-in mock upstream (aiohttp.web) for the simulator, the tests and the benchmark.

OpenAI-shaped chat completions (with optional logprobs and SSE streaming), completions,
embeddings, and a two-class sentiment classifier whose scores depend on the balance of
positive and negative words, so that mixing both kinds of words lands near its boundary.
Deterministic; binds 127.0.0.1 on an ephemeral port.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import re
from typing import Any

from aiohttp import web

__all__ = ["NEGATIVE", "POSITIVE", "MockUpstream"]

POSITIVE = frozenset(
    [
        "good",
        "great",
        "excellent",
        "love",
        "happy",
        "wonderful",
        "fine",
        "nice",
        "superb",
        "pleasant",
    ]
)
NEGATIVE = frozenset(
    ["bad", "awful", "terrible", "hate", "sad", "horrible", "poor", "nasty", "dreadful", "broken"]
)
_WORD = re.compile(r"[a-z]+")


def _text(body: dict[str, Any]) -> str:
    msgs = body.get("messages")
    if isinstance(msgs, list) and msgs and isinstance(msgs[-1], dict):
        return str(msgs[-1].get("content", ""))
    for key in ("prompt", "input", "text"):
        if key in body:
            return str(body[key])
    return ""


def _logprobs(text: str) -> dict[str, Any]:
    return {
        "content": [
            {
                "token": tok,
                "logprob": -0.05 * (i + 1),
                "top_logprobs": [{"token": tok, "logprob": -0.05}, {"token": "x", "logprob": -3.2}],
            }
            for i, tok in enumerate(text.split()[:4])
        ]
    }


class MockUpstream:
    """Start with ``async with MockUpstream() as mock: mock.url``."""

    def __init__(self, *, stream_gate: asyncio.Event | None = None) -> None:
        self.stream_gate = stream_gate
        self.requests = 0
        self.last_body: dict[str, Any] = {}
        self._runner: web.AppRunner | None = None
        self.url = ""

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_post("/v1/completions", self._completions)
        app.router.add_post("/v1/embeddings", self._embeddings)
        app.router.add_post("/classify", self._classify)
        return app

    async def __aenter__(self) -> MockUpstream:
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None  # noqa: S101 -- started just above
        port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _body(self, request: web.Request) -> dict[str, Any]:
        self.requests += 1
        body = await request.json()
        self.last_body = body if isinstance(body, dict) else {}
        return self.last_body

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        body = await self._body(request)
        text = "echo: " + _text(body)[:200]
        if body.get("stream"):
            return await self._stream(request, text, body)
        choice: dict[str, Any] = {
            "index": 0,
            "message": {"role": "assistant", "content": text},
            "finish_reason": "stop",
            "logprobs": _logprobs(text) if body.get("logprobs") else None,
        }
        return web.json_response(
            {
                "id": "chatcmpl-mock",
                "object": "chat.completion",
                "model": body.get("model", "mock"),
                "choices": [choice],
                "usage": {"prompt_tokens": len(text) // 4, "completion_tokens": 4},
            }
        )

    async def _stream(
        self, request: web.Request, text: str, body: dict[str, Any]
    ) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await resp.prepare(request)
        words = text.split() or [""]
        for i, word in enumerate(words[:8]):
            delta = {"content": word + " "}
            chunk = {
                "object": "chat.completion.chunk",
                "choices": [
                    {
                        "index": 0,
                        "delta": delta,
                        "logprobs": _logprobs(word) if body.get("logprobs") else None,
                    }
                ],
            }
            await resp.write(b"data: " + json.dumps(chunk).encode() + b"\n\n")
            if i == 0 and self.stream_gate is not None:
                await asyncio.wait_for(self.stream_gate.wait(), timeout=10)
        await resp.write(b"data: [DONE]\n\n")
        await resp.write_eof()
        return resp

    async def _completions(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        text = "echo: " + _text(body)[:200]
        choice = {"index": 0, "text": text, "finish_reason": "stop"}
        choice["logprobs"] = {"tokens": text.split()[:3]} if body.get("logprobs") else None
        return web.json_response({"object": "text_completion", "choices": [choice]})

    async def _embeddings(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        digest = hashlib.sha256(_text(body).encode()).digest()
        vec = [round((b - 128) / 128, 4) for b in digest[:16]]
        return web.json_response({"object": "list", "data": [{"index": 0, "embedding": vec}]})

    async def _classify(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        words = _WORD.findall(str(body.get("text", "")).lower())
        x = sum(w in POSITIVE for w in words) - sum(w in NEGATIVE for w in words)
        jitter = (hashlib.sha256(" ".join(words).encode()).digest()[0] - 128) / 1024
        p = 1 / (1 + math.exp(-(2.5 * x + jitter)))
        return web.json_response(
            {"labels": ["negative", "positive"], "scores": [round(1 - p, 6), round(p, 6)]}
        )
