"""Serving the gateway with uvicorn: in the foreground (the CLI) or in the current event loop."""

from __future__ import annotations

import asyncio
import gc
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette

from aisec.core.evidence.keys import SigningKey
from aisec.inference.config import GuardConfig, load_config
from aisec.inference.gateway import Gateway, create_app

__all__ = ["GatewayServer", "app_from_env", "serve"]

CONFIG_ENV = "AISEC_GUARD_CONFIG"


def app_from_env() -> Starlette:
    """Factory for ``uvicorn --workers N``: each worker process reads the same config."""
    cfg, digest = load_config(Path(os.environ[CONFIG_ENV]))
    app = create_app(cfg, digest)
    _freeze_startup_objects()
    return app


def _freeze_startup_objects() -> None:
    """Exempt what is alive at start-up (modules, numpy, scipy, pydantic models: ~170k
    objects) from the garbage collector's full passes. A full pass over them held the event
    loop for ~80 ms, a latency spike every few seconds under load; after this, ~4 ms. Only
    the serving process does this: it is a process-wide setting, not the library's to make."""
    gc.collect()
    gc.freeze()


class GatewayServer:
    """A real uvicorn server on 127.0.0.1 and an ephemeral port, inside the running loop."""

    def __init__(
        self,
        cfg: GuardConfig,
        config_digest: str,
        *,
        signing_key: SigningKey | None = None,
        store_url: str | None = None,
    ) -> None:
        self.app = create_app(cfg, config_digest, signing_key=signing_key, store_url=store_url)
        self.gateway: Gateway = self.app.state.gateway
        config = uvicorn.Config(
            self.app, host="127.0.0.1", port=0, log_level="warning", access_log=False,
            lifespan="on", **connection_limits(cfg),
        )  # fmt: skip
        self._server = uvicorn.Server(config)
        self._task: asyncio.Task[None] | None = None
        self.url = ""

    async def __aenter__(self) -> GatewayServer:
        self._task = asyncio.create_task(self._server.serve())
        for _ in range(500):
            if self._server.started or self._task.done():
                break
            await asyncio.sleep(0.01)
        if not self._server.started:
            raise RuntimeError("the gateway did not start")
        port = self._server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._server.should_exit = True
        if self._task is not None:
            await self._task


def connection_limits(cfg: GuardConfig) -> dict[str, Any]:
    """uvicorn's connection hygiene from the config: idle keep-alive connections are closed,
    headers are bounded, and past ``max-connections`` a replica answers 503 at once instead of
    queueing without end. The body timeout is the gateway's own (``body-timeout``)."""
    return {
        "timeout_keep_alive": cfg.idle_timeout,
        "limit_concurrency": cfg.max_connections,
        "h11_max_incomplete_event_size": 64 * 1024,
        "server_header": False,
    }


def serve(
    cfg: GuardConfig,
    config_digest: str,
    config_path: str | os.PathLike[str],
    *,
    host: str,
    port: int,
    workers: int,
    signing_key: SigningKey | None,
    store_url: str | None,
    on_started: Any = None,
) -> None:
    """Run until interrupted. ``workers > 1`` forks uvicorn workers over the factory."""
    config_path = Path(config_path)
    if workers > 1:
        os.environ[CONFIG_ENV] = str(config_path.resolve())
        uvicorn.run(
            "aisec.inference.server:app_from_env", factory=True, host=host, port=port,
            workers=workers, log_level="warning", access_log=False, **connection_limits(cfg),
        )  # fmt: skip
        return

    async def main() -> None:
        app = create_app(cfg, config_digest, signing_key=signing_key, store_url=store_url)
        _freeze_startup_objects()
        config = uvicorn.Config(
            app, host=host, port=port, log_level="warning", access_log=False,
            **connection_limits(cfg),
        )  # fmt: skip
        server = uvicorn.Server(config)
        task = asyncio.create_task(server.serve())
        while not server.started and not task.done():
            await asyncio.sleep(0.01)
        if server.started and on_started is not None:
            on_started(server.servers[0].sockets[0].getsockname()[1])
        await task

    # uvicorn picks uvloop itself only in uvicorn.run(); serving inside our own loop needs it
    # chosen here (asyncio's selector loop cost ~20 % of a request's CPU in socket writes)
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        runner.run(main())


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's loop when it is installed (``uvicorn[standard]`` brings it), else asyncio's."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop
