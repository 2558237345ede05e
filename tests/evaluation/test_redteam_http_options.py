"""HTTP targets: any header (value from the environment), timeout, rate, fail fast on
401/403 — against a local app on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from aisec.cli import main
from aisec.core.errors import InputError
from aisec.evaluation import DemoServer
from aisec.evaluation._targets import AuthRejectedError, _Pacer, parse_headers

KEY = "k-123-local"


def _app(seen: dict[str, Any]) -> Starlette:
    async def chat(request: Request) -> JSONResponse:
        if request.headers.get("x-api-key") != KEY:
            seen["rejected"] = seen.get("rejected", 0) + 1
            return JSONResponse({"error": "bad key"}, status_code=401)
        trial = request.headers.get("x-aisec-trial", "")
        if trial not in seen.setdefault("hung", set()) and trial.endswith("#0"):
            seen["hung"].add(trial)
            await asyncio.sleep(3)  # the first attempt of sample 0 hangs: --timeout cuts it
        seen["ok"] = seen.get("ok", 0) + 1
        return JSONResponse({"answer": "We open at nine."})

    return Starlette(routes=[Route("/chat", chat, methods=["POST"])])


@pytest.fixture
def api(tmp_path: Path) -> Any:
    seen: dict[str, Any] = {}
    template = tmp_path / "body.json"
    template.write_text(json.dumps({"question": "{{prompt}}"}))
    with DemoServer(app=_app(seen)) as url:
        yield url.removesuffix("/v1") + "/chat", template, seen


def _cli(url: str, template: Path, out: Path, *extra: str) -> int:
    return main(
        [
            "redteam",
            "run",
            "--target",
            "http",
            "--base-url",
            url,
            "--request-template",
            str(template),
            "--reply-path",
            "answer",
            "--samples",
            "1",
            "--no-record",
            "-f",
            "json",
            "-o",
            str(out),
            *extra,
        ]
    )


def test_header_from_env_and_timeout(
    api: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, template, seen = api
    monkeypatch.setenv("LOCAL_API_KEY", KEY)
    out = tmp_path / "r.json"
    code = _cli(url, template, out, "--header", "X-Api-Key: env:LOCAL_API_KEY", "--timeout", "0.5")
    assert code in (0, 1)
    report = json.loads(out.read_text())
    assert seen.get("rejected", 0) == 0 and seen["ok"] > 0
    assert seen["hung"]  # some first attempts hung and were retried after the timeout
    errors = sum(c["errors"] for c in report["categories"])
    assert errors == 0  # a timed-out attempt is retried, not counted
    assert KEY not in out.read_text()  # the secret is never written to the report


def test_repeated_401_fails_fast_with_one_line(
    api: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url, template, seen = api
    code = _cli(url, template, tmp_path / "r.json", "--header", "X-Api-Key: wrong")
    assert code == 2
    err = capsys.readouterr().err
    [line] = [x for x in err.splitlines() if "error" in x]
    assert "rejected 3 requests in a row with HTTP 401" in line
    assert "Traceback" not in err
    assert seen["rejected"] < 40  # stopped early, not one 401 per planned request


def test_header_parsing() -> None:
    env = {"V": "s3cret"}
    assert parse_headers(["X-Api-Key: env:V", "X-Team: red"], env) == {
        "X-Api-Key": "s3cret",
        "X-Team": "red",
    }
    for bad in ("no-colon", ": empty", "X-Key: env:UNSET", "Bad Name: v"):
        with pytest.raises(InputError):
            parse_headers([bad], env)
    assert issubclass(AuthRejectedError, InputError)


def test_rate_spaces_request_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    delays: list[float] = []
    real_sleep = asyncio.sleep

    async def fake_sleep(d: float) -> None:
        delays.append(d)
        await real_sleep(0)

    monkeypatch.setattr("aisec.evaluation._targets.asyncio.sleep", fake_sleep)
    pacer = _Pacer(10.0, clock=lambda: 100.0)  # a frozen clock: three starts at once

    async def go() -> None:
        await asyncio.gather(*(pacer.wait() for _ in range(3)))

    asyncio.run(go())
    assert delays == pytest.approx([0.1, 0.2])
