"""The lifecycle dashboard: a read-only Starlette app over the evidence store.

Server-rendered pages, no JavaScript; every page has a JSON twin under ``/api``. With a
token set, every request must carry it (``Authorization: Bearer``, or ``?token=`` once,
which sets a cookie).
"""

from __future__ import annotations

import hmac
import threading
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import jinja2
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from aisec import __version__
from aisec.core.errors import AisecError, CatalogError, InputError
from aisec.core.evidence import EvidenceStore, VerifyReport
from aisec.core.frameworks import FRAMEWORK_KEYS, Catalog, load_catalog
from aisec.dashboard import charts, views

__all__ = ["create_app"]

_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


class _SecurityHeaders:
    """Headers on every response; pages never run script."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [
                    (b"content-security-policy", _CSP.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"cache-control", b"no-store"),
                ]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


class _TokenGate:
    def __init__(self, app: ASGIApp, token: str | None) -> None:
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.token:
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        offered = request.query_params.get("token")
        header = request.headers.get("authorization", "")
        candidates = [
            header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else "",
            request.cookies.get("aisec_token", ""),
            offered or "",
        ]
        if not any(c and hmac.compare_digest(c, self.token) for c in candidates):
            await JSONResponse({"error": "a valid token is required"}, status_code=401)(
                scope, receive, send
            )
            return
        if offered:
            response = RedirectResponse(request.url.remove_query_params("token"), 303)
            response.set_cookie(
                "aisec_token", self.token, httponly=True, samesite="strict", path="/"
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


class _State:
    """The open store, the catalog, and a verification result cached by log size."""

    def __init__(self, store: EvidenceStore, catalog: Catalog) -> None:
        self.store = store
        self.catalog = catalog
        self._lock = threading.Lock()
        self._verified: tuple[int, VerifyReport] | None = None

    def verify(self) -> VerifyReport:
        size = self.store.size()
        with self._lock:
            if self._verified is None or self._verified[0] != size:
                self._verified = (size, self.store.verify(use_local_witness=False))
            return self._verified[1]


def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("aisec.dashboard", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    env.globals["version"] = __version__
    return env


def create_app(
    store: EvidenceStore, *, token: str | None = None, catalog: Catalog | None = None
) -> Starlette:
    """The ASGI app over ``store``; reads only."""
    state = _State(store, catalog or load_catalog())
    env = _env()

    def page(name: str, **ctx: Any) -> HTMLResponse:
        report = state.verify()
        html = env.get_template(name).render(
            verify=report, store_url=store.url, stages=state.catalog.stages, **ctx
        )
        return HTMLResponse(html)

    def wants_json(request: Request) -> bool:
        return request.url.path.startswith("/api/")

    async def index(request: Request) -> Response:
        stage_views = views.lifecycle(store, state.catalog)
        if wants_json(request):
            return JSONResponse(
                {
                    "schema": "aisec.dashboard.lifecycle/v1",
                    "verified": state.verify().ok,
                    "stages": [v.to_json() for v in stage_views],
                }
            )
        return page(
            "index.html",
            views=stage_views,
            redteam_svg=charts.interval_svg(
                views.redteam_intervals(store), title="Attack success rate (95% interval)"
            ),
            risk_svg=charts.interval_svg(
                views.source_risks(store), title="Risk per data source", axis="risk"
            ),
            alerts_svg=charts.bar_counts_svg(
                views.alerts_over_time(store), title="Gateway alerts per hour (UTC)"
            ),
        )

    async def stage(request: Request) -> Response:
        wanted = state.catalog.stage(request.path_params["stage"])
        view = next(v for v in views.lifecycle(store, state.catalog) if v.stage.id == wanted.id)
        if wants_json(request):
            return JSONResponse({"schema": "aisec.dashboard.stage/v1", **view.to_json()})
        threats = [state.catalog.get(t) for t in view.stage.threats]
        return page("stage.html", view=view, threats=[t for t in threats if t])

    async def artifact(request: Request) -> Response:
        from aisec.core.digest import parse_digest

        digest = parse_digest(request.path_params["digest"])
        chain = views.artifact_chain(store, state.catalog, digest)
        if wants_json(request):
            return JSONResponse({"schema": "aisec.dashboard.chain/v1", **chain.to_json()})
        return page("artifact.html", chain=chain)

    async def artifacts(request: Request) -> Response:
        seen: dict[str, dict[str, Any]] = {}
        for e in store.entries():
            for s in e.statement.subjects:
                row = seen.setdefault(s.digest, {"digest": s.digest, "name": s.name, "stages": []})
                if e.stage not in row["stages"]:
                    row["stages"].append(e.stage)
        rows = sorted(seen.values(), key=lambda r: (r["name"], r["digest"]))
        if wants_json(request):
            return JSONResponse({"schema": "aisec.dashboard.artifacts/v1", "artifacts": rows})
        return page("artifacts.html", rows=rows)

    async def systems(request: Request) -> Response:
        rows = views.systems(store)
        if wants_json(request):
            return JSONResponse(
                {"schema": "aisec.dashboard.systems/v1", "systems": [r.to_json() for r in rows]}
            )
        return page("systems.html", rows=rows, shadow=sum(not r.registered for r in rows))

    async def frameworks(request: Request) -> Response:
        key = request.path_params.get("key", "atlas")
        stage_views = views.lifecycle(store, state.catalog)
        rows = views.framework_coverage(stage_views, state.catalog, key)
        summary = {
            state_name: sum(1 for r in rows if r.state == state_name)
            for state_name in ("evidence", "finding", "no evidence")
        }
        if wants_json(request):
            return JSONResponse(
                {
                    "schema": "aisec.dashboard.coverage/v1",
                    "framework": key,
                    "summary": summary,
                    "rows": [r.to_json() for r in rows],
                }
            )
        return page(
            "frameworks.html",
            key=key,
            keys=[k for k in FRAMEWORK_KEYS if k != "cosai"],
            info=state.catalog.framework(key),
            rows=rows,
            summary=summary,
        )

    async def evidence(request: Request) -> Response:
        entries = store.entries()[-200:]
        report = state.verify()
        if wants_json(request):
            return JSONResponse(
                {
                    "schema": "aisec.dashboard.evidence/v1",
                    "verify": report.to_json(),
                    "entries": [
                        {
                            "index": e.index,
                            "stage": e.stage,
                            "predicate_type": e.predicate_type,
                            "created_at": e.created_at,
                        }
                        for e in entries
                    ],
                }
            )
        return page("evidence.html", entries=list(reversed(entries)), report=report)

    async def healthz(_request: Request) -> Response:
        return JSONResponse({"ok": True, "version": __version__})

    def guarded(
        handler: Callable[[Request], Awaitable[Response]],
    ) -> Callable[[Request], Awaitable[Response]]:
        async def wrapped(request: Request) -> Response:
            try:
                return await handler(request)
            except (CatalogError, InputError) as exc:
                return _error(request, env, 404, exc.diagnostics())
            except AisecError as exc:
                return _error(request, env, 500, exc.diagnostics())

        return wrapped

    routes = []
    for path, handler in (
        ("/", index),
        ("/stage/{stage}", stage),
        ("/artifact/{digest}", artifact),
        ("/artifacts", artifacts),
        ("/systems", systems),
        ("/frameworks", frameworks),
        ("/frameworks/{key}", frameworks),
        ("/evidence", evidence),
    ):
        routes.append(Route(path, guarded(handler), methods=["GET"]))
        routes.append(
            Route(
                "/api" + (path if path != "/" else "/lifecycle"), guarded(handler), methods=["GET"]
            )
        )
    routes.append(Route("/healthz", healthz, methods=["GET"]))
    return Starlette(
        routes=routes,
        middleware=[Middleware(_SecurityHeaders), Middleware(_TokenGate, token=token)],
    )


def _error(request: Request, env: jinja2.Environment, status: int, message: str) -> Response:
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": message}, status_code=status)
    html = env.get_template("error.html").render(status=status, message=message)
    return HTMLResponse(html, status_code=status)
