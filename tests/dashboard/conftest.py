"""A store with evidence from several stages, and the dashboard app over it."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.types import ASGIApp

from aisec.core.evidence import ArtifactRef, EvidenceStore, SigningKey, Statement, predicate_type
from aisec.core.findings import Finding, Mappings, Severity, Subject
from aisec.dashboard import create_app


def digest(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


DATA = digest("dataset")
MODEL = digest("model")
PROMPT = digest("prompt")
XSS = "<script>document.title='pwned'</script>"


def populate(store: EvidenceStore, key: SigningKey) -> None:
    store.record(
        Statement(
            (ArtifactRef("patients.csv", DATA),),
            predicate_type("data", "audit"),
            {
                "risk": {"overall": 0.4},
                "sources": [
                    {"name": "hospital-a", "risk": 0.1, "ci": [0.05, 0.2]},
                    {"name": "forum", "risk": 0.7, "ci": [0.55, 0.8]},
                ],
            },
        ),
        key,
    )
    store.record(
        Statement(
            (ArtifactRef("model", MODEL),),
            predicate_type("core", "artifact"),
            {"stage": "training", "derived_from": [DATA]},
        ),
        key,
    )
    finding = Finding(
        id="AISEC-DEP-001",
        stage="deployment",
        severity=Severity.CRITICAL,
        title=f"Pickle calls os.system {XSS}",
        detail="GLOBAL posix.system reached by REDUCE",
        subject=Subject("model/pytorch_model.bin", MODEL),
        remediation="Convert to SafeTensors",
        mappings=Mappings(atlas=("AML.T0011.000",), owasp_llm=("LLM03",)),
    )
    store.record(
        Statement(
            (ArtifactRef("pytorch_model.bin", MODEL),),
            predicate_type("deployment", "model-scan"),
            {"verdict": "unsafe", "findings": [finding.to_json()]},
        ),
        key,
    )
    store.record(
        Statement(
            (ArtifactRef("model", MODEL), ArtifactRef("system.txt", PROMPT)),
            predicate_type("evaluation", "redteam"),
            {
                "model_digest": MODEL,
                "system_prompt_digest": PROMPT,
                "confidence": 0.95,
                "categories": {
                    "LLM07": {"attempts": 40, "successes": 12, "rate": 0.3, "ci": [0.17, 0.46]},
                    "LLM01": {"attempts": 59, "successes": 0, "rate": 0.0, "ci": [0.0, 0.05]},
                },
            },
        ),
        key,
    )


def add_inventory(store: EvidenceStore, key: SigningKey) -> None:
    """A discovery naming one registered system whose model has evidence, and one shadow."""
    store.record(
        Statement(
            (ArtifactRef("inventory.json", digest("inventory")),),
            predicate_type("monitoring", "inventory"),
            {
                "systems": [
                    {
                        "id": "sys-1",
                        "name": "model",
                        "kind": "self-hosted-model",
                        "registered": True,
                        "registry_id": "mlflow:model",
                        "owner": "ml-team",
                    },
                    {
                        "id": "sys-2",
                        "name": "Anthropic API",
                        "kind": "hosted-api-use",
                        "registered": False,
                        "provider": "anthropic",
                    },
                ]
            },
        ),
        key,
    )


@pytest.fixture
def store(tmp_path: Path, signing_key: SigningKey) -> Iterator[EvidenceStore]:
    with EvidenceStore.open(f"sqlite:///{tmp_path / 'e.db'}") as s:
        populate(s, signing_key)
        add_inventory(s, signing_key)
        yield s


class Client:
    """A synchronous face on httpx's in-process ASGI transport (no sockets)."""

    def __init__(self, app: ASGIApp, *, follow_redirects: bool = True) -> None:
        self._loop = asyncio.new_event_loop()
        self._client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://127.0.0.1",
            follow_redirects=follow_redirects,
        )
        self.cookies = self._client.cookies

    def request(self, method: str, url: str, **kw: Any) -> httpx.Response:
        return self._loop.run_until_complete(self._client.request(method, url, **kw))

    def get(self, url: str, **kw: Any) -> httpx.Response:
        return self.request("GET", url, **kw)

    def post(self, url: str, **kw: Any) -> httpx.Response:
        return self.request("POST", url, **kw)

    def close(self) -> None:
        self._loop.run_until_complete(self._client.aclose())
        self._loop.close()


@pytest.fixture
def make_client() -> Iterator[Any]:
    """Build clients over any app; each is closed at the end of the test."""
    made: list[Client] = []

    def make(app: ASGIApp, *, follow_redirects: bool = True) -> Client:
        made.append(Client(app, follow_redirects=follow_redirects))
        return made[-1]

    yield make
    for c in made:
        c.close()


@pytest.fixture
def client(store: EvidenceStore, make_client: Any) -> Client:
    return make_client(create_app(store))  # type: ignore[no-any-return]


@pytest.fixture
def sample() -> dict[str, str]:
    """The digests and the hostile title the sample evidence uses."""
    return {"data": DATA, "model": MODEL, "prompt": PROMPT, "xss": XSS}
