"""Helpers: a real mock upstream and a real gateway (uvicorn) on 127.0.0.1, in one loop."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from aisec.cli import cli
from aisec.cli.guard import guard_group
from aisec.inference import GatewayServer, MockUpstream, load_config

KEYS = {
    "alice": "sk-test-alice-0123456789abcdef",
    "bob": "sk-test-bob-0123456789abcdef",
    "mallory": "sk-test-mallory-0123456789abcdef",
}


def config_dict(upstream: str, **extra: Any) -> dict[str, Any]:
    cfg: dict[str, Any] = {
        "upstream": upstream,
        "routes": [
            {
                "path": "/v1/chat/completions",
                "kind": "openai-chat",
                "hardening": {
                    "strip-logprobs": True,
                    "max-tokens": 64,
                    "redact-secrets": True,
                    "deny-patterns": ["ignore (all )?previous instructions"],
                },
            },
            {"path": "/v1/completions", "kind": "openai-completions"},
            {"path": "/v1/embeddings", "kind": "openai-embeddings"},
            {
                "path": "/classify",
                "kind": "classifier",
                "scores": "scores",
                "labels": "labels",
                "hardening": {"round-decimals": 2, "top-k": 1},
            },
        ],
        "accounts": [{"name": n, "api-key": k} for n, k in KEYS.items()],
        "audit-log": "audit.jsonl",
        "admin-token": "admin-token-0123456789",
    }
    cfg.update(extra)
    return cfg


def write_config(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


@contextlib.asynccontextmanager
async def running(
    tmp_path: Path, stream_gate: Any = None, **extra: Any
) -> AsyncIterator[tuple[MockUpstream, GatewayServer, aiohttp.ClientSession]]:
    async with MockUpstream(stream_gate=stream_gate) as mock:
        data = config_dict(mock.url, **extra)
        data["audit-log"] = str(tmp_path / "audit.jsonl")
        cfg, digest = load_config(write_config(tmp_path / "guard.yaml", data))
        async with GatewayServer(cfg, digest) as gw, aiohttp.ClientSession() as http:
            yield mock, gw, http


def auth(name: str) -> dict[str, str]:
    return {"authorization": f"Bearer {KEYS[name]}"}


def chat(text: str, **extra: Any) -> dict[str, Any]:
    return {"model": "m", "messages": [{"role": "user", "content": text}], **extra}


@pytest.fixture
def guard_cli() -> Iterator[None]:
    """Register ``aisec guard`` for the test when the lead has not registered it yet."""
    added = "guard" not in cli.commands or cli.commands["guard"] is not guard_group
    previous = cli.commands.get("guard")
    if added:
        cli.add_command(guard_group)
    yield
    if added:
        if previous is not None:
            cli.add_command(previous, "guard")
        else:
            cli.commands.pop("guard", None)
