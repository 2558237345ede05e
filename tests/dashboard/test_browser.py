"""A person's path through the dashboard in Debian's Chromium, driven by Playwright.

Every page loads without a console error, clicking each stage shows its panel, and a
screenshot of the lifecycle page is kept in ``test-artifacts/`` (``AISEC_TEST_ARTIFACTS``).
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from aisec.core.evidence import EvidenceStore
from aisec.dashboard import create_app

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (.ci/run installs it)"
)
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(
    os.environ.get("AISEC_TEST_ARTIFACTS", Path(__file__).resolve().parents[2] / "test-artifacts")
)
STAGES = ["Data", "Training", "Evaluation", "Deployment", "Inference", "Monitoring"]


@contextmanager
def serving(app: Any) -> Iterator[str]:
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert srv.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def server(store: EvidenceStore) -> Iterator[str]:
    with serving(create_app(store)) as url:
        yield url


def _browser(p: Any) -> Any:
    return p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def test_every_page_and_every_stage(server: str, sample: dict[str, str]) -> None:
    from playwright.sync_api import sync_playwright

    problems: list[str] = []
    with sync_playwright() as p:
        browser = _browser(p)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})

            def on_console(msg: Any) -> None:
                if msg.type == "error":
                    problems.append(f"{page.url}: console error: {msg.text}")

            page.on("console", on_console)
            page.on("pageerror", lambda exc: problems.append(f"{page.url}: {exc}"))

            page.goto(server + "/")
            assert page.title() == "Lifecycle · aisec"
            assert page.locator("#stages .card").count() == 6
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "dashboard-lifecycle.png"), full_page=True)

            for number, name in enumerate(STAGES, 1):
                page.goto(server + "/")
                page.click(f"#stage-{name.lower()}")
                page.wait_for_url(f"**/stage/{name.lower()}")
                assert page.inner_text("#stage-title") == f"Stage {number}: {name}"
                assert page.locator("#controls tr").count() >= 2
                assert page.locator("#threats tr").count() >= 2
                assert "primary" in page.inner_text("#roles")

            controls = page.goto(server + "/stage/deployment") and page.inner_text("#controls")
            assert "ran 1\u00d7" in str(controls)
            # the hostile finding title shows as text and runs nothing
            assert "<script>" in page.inner_text("#findings")
            assert page.title() != "pwned"

            for path in (
                "/systems",
                "/artifacts",
                "/evidence",
                "/models",
                "/findings",
                "/findings?status=open&severity=high",
                f"/artifact/{sample['model']}",
                f"/model/{sample['model']}",
                *(f"/frameworks/{k}" for k in ("atlas", "owasp-llm-2025", "saif",
                                                "nist-ai-rmf", "iso-42001")),
            ):  # fmt: skip
                response = page.goto(server + path)
                assert response is not None and response.status == 200, path
            page.click("text=Frameworks")
            assert page.locator("#coverage tr").count() > 5
        finally:
            browser.close()
    assert problems == []
    assert (ARTIFACTS / "dashboard-lifecycle.png").stat().st_size > 10_000


def test_dossier_and_a_triage_round_trip(gate_world: Any) -> None:
    """accept in the dossier -> the gate honours it -> after expiry the gate denies again."""
    from datetime import UTC, datetime, timedelta

    from playwright.sync_api import sync_playwright

    from aisec.core.evidence.recorder import StoreRecorder

    admin = "a-browser-admin-token-0123"
    app = create_app(
        gate_world.store,
        admin_token=admin,
        recorder=StoreRecorder.for_store(gate_world.store, gate_world.key),
    )
    assert not gate_world.allows()
    until = (datetime.now(UTC) + timedelta(days=14)).date()
    problems: list[str] = []
    with serving(app) as url, sync_playwright() as p:
        browser = _browser(p)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.on("pageerror", lambda exc: problems.append(str(exc)))
            page.on(
                "console",
                lambda m: problems.append(m.text) if m.type == "error" else None,
            )
            page.goto(f"{url}/model/{gate_world.digest}")
            assert "gap" in page.inner_text("#chain-state")
            assert page.locator("form.triage").count() == 0  # read-only until an admin logs in
            page.goto(f"{url}/admin?token={admin}")
            page.goto(f"{url}/model/{gate_world.digest}")
            row = page.locator("tr.finding").first
            row.locator("select[name=state]").select_option("accepted-risk")
            row.locator("input[name=reason]").fill("tools ask the user before any change")
            row.locator("input[name=by]").fill("risk-owner@example.com")
            row.locator("input[name=until]").fill(until.isoformat())
            with page.expect_navigation():
                row.locator("button[type=submit]").click()
            assert f"/model/{gate_world.digest}" in page.url
            status = page.locator("tr.finding .triage-status").first.inner_text()
            assert status == f"accepted-risk until {until}"
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "dashboard-dossier.png"), full_page=True)
        finally:
            browser.close()
    assert problems == []
    assert gate_world.allows()
    expired = datetime.combine(until + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    assert not gate_world.allows(now=expired)
