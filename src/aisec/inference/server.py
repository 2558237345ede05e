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

try:  # the parser uvicorn itself prefers; h11 (pure Python) otherwise
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as _HttpBase
except ImportError:  # pragma: no cover -- uvicorn[standard] brings httptools
    from uvicorn.protocols.http.h11_impl import H11Protocol as _HttpBase  # type: ignore[assignment]

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
            lifespan="on", log_config=None, **connection_limits(cfg),
        )  # fmt: skip
        # log_config=None: uvicorn's default runs dictConfig, closing the host's handlers
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
    headers are bounded, past ``max-connections`` a replica answers 503 at once instead of
    queueing without end, and one client address holds at most ``max-connections-per-client``
    (:class:`PerClientHttp`). The body timeout is the gateway's own (``body-timeout``)."""
    return {
        "timeout_keep_alive": cfg.idle_timeout,
        "limit_concurrency": cfg.max_connections,
        "h11_max_incomplete_event_size": 64 * 1024,
        "server_header": False,
        "http": PerClientHttp,
    }


def _refusal(status: str, message: str) -> bytes:
    """A whole HTTP/1.1 reply, written to a socket before any request was parsed."""
    body = b'{"error":{"message":"' + message.encode() + b'","type":"refused"}}'
    head = f"HTTP/1.1 {status}\r\ncontent-type: application/json\r\nconnection: close\r\n"
    return head.encode() + f"content-length: {len(body)}\r\n\r\n".encode() + body


_CAP_REPLY = _refusal("503 Service Unavailable", "too many connections from this client")
_LATE_REPLY = _refusal("408 Request Timeout", "request headers not received in time")


class PerClientHttp(_HttpBase):
    """uvicorn's HTTP protocol with a cap on the connections one peer address holds open,
    and a deadline for each request's headers.

    uvicorn's ``limit_concurrency`` bounds a replica as a whole, so one client opening
    connections could take all of them; this counts them per peer address (per process: with
    ``--workers N`` each worker has its own count). Past the cap a new connection is answered
    503 and closed before any request is read. The address is the socket's peer: behind a
    load balancer that is the balancer, so set the cap there, or high here.
    """

    _host: str | None = None
    _gw: Gateway
    _refused = False
    _deadline: asyncio.TimerHandle | None = None

    def _gateway(self) -> Gateway | None:
        app: Any = self.app
        while not hasattr(app, "state") and hasattr(app, "app"):  # uvicorn's own wrappers
            app = app.app
        return getattr(getattr(app, "state", None), "gateway", None)

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        peer = transport.get_extra_info("peername")
        host = peer[0] if isinstance(peer, tuple) and peer else None
        gw = self._gateway() if host is not None else None
        if gw is not None and host is not None:
            held = gw.open_connections.get(host, 0)
            if held >= gw.cfg.max_connections_per_client:
                self._refused = True
                transport.write(_CAP_REPLY)
                transport.close()
                gw.connection_refused(host)
                return
            gw.open_connections[host] = held + 1
            self._host = host
            self._gw = gw
        super().connection_made(transport)
        self._arm()

    # Header timeout: uvicorn times out idle kept-alive connections but not a new connection
    # that sends nothing, nor headers dribbled a byte at a time. From connecting, and from
    # the first byte of each request, the headers must be complete within `header-timeout`.
    def _arm(self) -> None:
        if self._host is None:
            return
        if self._deadline is not None:
            self._deadline.cancel()
        self._deadline = self.loop.call_later(self._gw.cfg.header_timeout, self._headers_late)

    def _headers_late(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        self.transport.write(_LATE_REPLY)
        self.transport.close()
        self._gw.header_timed_out(self._host or "")

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm()

    def on_headers_complete(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
        if self._refused:
            return
        if self._host is not None:
            left = self._gw.open_connections.get(self._host, 1) - 1
            if left > 0:
                self._gw.open_connections[self._host] = left
            else:
                self._gw.open_connections.pop(self._host, None)
        super().connection_lost(exc)


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
