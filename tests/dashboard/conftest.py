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

from aisec.core.controls import ControlResult
from aisec.core.evidence import EvidenceStore, SigningKey
from aisec.core.findings import Finding, Mappings, Severity, Subject
from aisec.core.predicates import InputRef, Predicate, SubjectRef
from aisec.core.predicates.core import ArtifactInfo, ArtifactPredicate
from aisec.core.predicates.data import AuditPredicate, AuditRisk, AuditSource
from aisec.core.predicates.deployment import ScannedFile, ScanPredicate
from aisec.core.predicates.enums import ScanVerdict
from aisec.core.predicates.evaluation import CategoryResult, RedteamPredicate
from aisec.core.predicates.monitoring import InventoryPredicate, InventorySystem
from aisec.dashboard import create_app


def digest(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


DATA = digest("dataset")
MODEL = digest("model")
PROMPT = digest("prompt")
XSS = "<script>document.title='pwned'</script>"


def populate(store: EvidenceStore, key: SigningKey) -> None:
    def rec(predicate: Predicate) -> None:
        store.record(predicate.statement(), key)

    rec(
        AuditPredicate(
            result=ControlResult.FAIL,
            subjects=(SubjectRef(name="patients.csv", digest=DATA),),
            risk=AuditRisk(overall=0.4),
            sources=(
                AuditSource(name="hospital-a", risk=0.1, ci=(0.05, 0.2), rank=2, rows=100),
                AuditSource(name="forum", risk=0.7, ci=(0.55, 0.8), rank=1, rows=50),
            ),
        )
    )
    rec(
        ArtifactPredicate(
            result=ControlResult.RECORDED,
            subjects=(SubjectRef(name="model", digest=MODEL),),
            inputs=(InputRef(name="patients.csv", digest=DATA, role="source"),),
            artifacts=(ArtifactInfo(name="model", kind="file", digest=MODEL, files=1, bytes=10),),
            stage="training",
        )
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
    rec(
        ScanPredicate(
            result=ControlResult.FAIL,
            findings=(finding,),
            subjects=(SubjectRef(name="pytorch_model.bin", digest=MODEL),),
            verdict=ScanVerdict.UNSAFE,
            files=(
                ScannedFile(
                    path="pytorch_model.bin",
                    digest=MODEL,
                    format="pickle",
                    verdict=ScanVerdict.UNSAFE,
                    findings=1,
                ),
            ),
        )
    )
    rec(
        RedteamPredicate(
            result=ControlResult.FAIL,
            subjects=(
                SubjectRef(name="model", digest=MODEL),
                SubjectRef(name="system.txt", digest=PROMPT),
            ),
            model_digest=MODEL,
            system_prompt_digest=PROMPT,
            suite_digest=digest("suite"),
            transcripts_digest=digest("transcripts"),
            confidence=0.95,
            categories={
                "LLM07": CategoryResult(attempts=40, successes=12, rate=0.3, ci=(0.17, 0.46)),
                "LLM01": CategoryResult(attempts=59, successes=0, rate=0.0, ci=(0.0, 0.05)),
            },
        )
    )


def add_inventory(store: EvidenceStore, key: SigningKey) -> None:
    """A discovery naming one registered system whose model has evidence, and one shadow."""
    predicate = InventoryPredicate(
        result=ControlResult.FAIL,
        subjects=(SubjectRef(name="inventory.json", digest=digest("inventory")),),
        summary={"systems": 2, "registered": 1, "shadow": 1},
        catalog_version="test",
        systems=(
            InventorySystem(
                id="sys-1",
                name="model",
                kind="self-hosted-model",
                registered=True,
                registry_id="mlflow:model",
                owner="ml-team",
            ),
            InventorySystem(
                id="sys-2",
                name="Anthropic API",
                kind="hosted-api-use",
                registered=False,
                provider="anthropic",
            ),
        ),
    )
    store.record(predicate.statement(), key)


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


GATE_POLICY = """\
version: 1
signature:
  file: ../model.sig
  keys: [keys/release.pub]
formats:
  allow: [safetensors]
scan: {}
redteam:
  max-upper-bound: 0.05
triage:
  honour: [accepted-risk]
evidence:
  trusted-keys: [keys/evidence.pub]
"""


class GateWorld:
    """A signed, scanned model whose red-team run found a weakness over the gate's limit."""

    def __init__(self, root: Path, store: EvidenceStore) -> None:
        from aisec.core.digest import digest_file, digest_path
        from aisec.core.evidence import generate_keypair
        from aisec.deployment.signing import sign_model
        from aisec.evaluation._rules import RULE_FOR_CATEGORY

        release, _, _ = generate_keypair(root / "keys" / "release.key")
        self.key, _, _ = generate_keypair(root / "keys" / "evidence.key")
        self.model = root / "model"
        self.model.mkdir()
        (self.model / "model.safetensors").write_bytes(
            b"\x0e\x00\x00\x00\x00\x00\x00\x00" + b'{"a":"b"}     ' + b"\x00" * 16
        )
        sign_model(self.model, release, signature_path=root / "model.sig")
        self.policy = root / "gate-policy.yaml"
        self.policy.write_text(GATE_POLICY)
        self.store = store
        files = {p.name: digest_file(p) for p in self.model.iterdir()}
        self.digest = digest_path(self.model).digest
        scan = ScanPredicate(
            result=ControlResult.PASS,
            subjects=tuple(SubjectRef(name=n, digest=d) for n, d in files.items()),
            verdict=ScanVerdict.CLEAN,
            files=tuple(
                ScannedFile(path=n, digest=d, verdict=ScanVerdict.CLEAN) for n, d in files.items()
            ),
        )
        self.finding = RULE_FOR_CATEGORY["excessive-agency"].finding(
            "model",
            "9 of 40 attacks made the model call a tool",
            digest=self.digest,
            evidence={"category": "excessive-agency"},
        )
        redteam = RedteamPredicate(
            result=ControlResult.FAIL,
            findings=(self.finding,),
            subjects=(SubjectRef(name="model", digest=self.digest),),
            model_digest=self.digest,
            suite_digest=digest("suite"),
            transcripts_digest=digest("transcripts"),
            confidence=0.95,
            categories={
                "excessive-agency": CategoryResult(
                    attempts=40, successes=9, rate=0.22, ci=(0.11, 0.38)
                )
            },
        )
        for p in (scan, redteam):
            store.record(p.statement(), self.key)

    def allows(self, **kw: Any) -> bool:
        from aisec.deployment.gate import check_deployment
        from aisec.deployment.gate_policy import load_policy

        return check_deployment(self.model, load_policy(self.policy), self.store, **kw).allow


@pytest.fixture
def gate_world(tmp_path: Path) -> Iterator[GateWorld]:
    with EvidenceStore.open(f"sqlite:///{tmp_path / 'gate.db'}") as s:
        yield GateWorld(tmp_path, s)
