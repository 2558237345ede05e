"""Run the demo service on 127.0.0.1 with uvicorn, in a thread (tests, ``--target demo``)
or in the foreground (``aisec redteam demo-target``)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

from aisec.core.errors import AisecError
from aisec.evaluation._demo_target import DemoState, demo_app

__all__ = ["DemoServer", "serve_demo"]


def _server(state: DemoState, port: int, app: Any = None) -> object:
    import uvicorn

    config = uvicorn.Config(
        app if app is not None else demo_app(state),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="off",
        # uvicorn's default log_config runs logging.config.dictConfig, which closes every
        # handler of the process it is started in (absl's closed pytest's stderr); a
        # server started inside someone's process leaves their logging alone
        log_config=None,
    )
    return uvicorn.Server(config)


def _bound_port(server: object) -> int:
    servers = getattr(server, "servers", [])
    for srv in servers:
        for sock in srv.sockets:
            return int(sock.getsockname()[1])
    raise AisecError("the demo target did not bind a port")


class DemoServer:
    """``with DemoServer(state) as url:`` — a real HTTP server on an ephemeral port."""

    def __init__(self, state: DemoState | None = None, *, port: int = 0, app: Any = None) -> None:
        """``app``: serve this ASGI app instead of the demo (tests' own local apps)."""
        self.state = state or DemoState()
        self._server = _server(self.state, port, app)
        self._thread = threading.Thread(target=self._server.run, daemon=True)  # type: ignore[attr-defined]
        self.url = ""

    def __enter__(self) -> str:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not getattr(self._server, "started", False):
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise AisecError("the demo target did not start within 10 s")
            time.sleep(0.01)
        self.url = f"http://127.0.0.1:{_bound_port(self._server)}/v1"
        return self.url

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.should_exit = True  # type: ignore[attr-defined]
        self._thread.join(timeout=10)


def serve_demo(*, port: int = 0, seed: int = 0, on_ready: Callable[[str], None]) -> None:
    """Serve in the foreground until interrupted; ``on_ready`` gets the base URL."""
    with DemoServer(DemoState(seed=seed), port=port) as url:
        on_ready(url)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            return
