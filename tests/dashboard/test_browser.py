"""A person's path through the dashboard in Debian's Chromium, driven by Playwright."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

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


@pytest.fixture
def server(store: EvidenceStore) -> Iterator[str]:
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(create_app(store), host="127.0.0.1", port=port, log_level="error")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert srv.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


def test_click_a_stage_and_see_its_controls(server: str, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(server + "/")
            assert page.title() == "Lifecycle · aisec"
            assert page.locator("#stages .card").count() == 6
            page.screenshot(path=str(tmp_path / "lifecycle.png"), full_page=True)
            page.click("#stage-deployment")
            page.wait_for_url("**/stage/deployment")
            assert page.inner_text("#stage-title") == "Stage 4: Deployment"
            controls = page.inner_text("#controls")
            assert "Model file scan" in controls or "model-scan" in controls
            assert "ran 1\u00d7" in controls
            # the hostile finding title shows as text and runs nothing
            assert "<script>" in page.inner_text("#findings")
            assert page.title() != "pwned"
            page.screenshot(path=str(tmp_path / "stage.png"), full_page=True)
            page.click("text=Frameworks")
            assert page.locator("#coverage tr").count() > 5
        finally:
            browser.close()
    assert (tmp_path / "lifecycle.png").stat().st_size > 10_000
