"""The lifecycle dashboard: a Starlette app over the evidence store, read-only by default.

Server-rendered pages, no JavaScript; every page has a JSON twin under ``/api``. With a
token set, every request must carry it (``Authorization: Bearer``, or ``?token=`` once,
which sets a cookie).

Triage: with an admin token and a recorder (a signing key), ``/admin?token=…`` opens an admin
session (an HttpOnly, SameSite=Strict cookie) and the finding pages show triage forms. Each
form carries a CSRF token bound to the session; ``POST /triage`` records a signed
``core/triage`` attestation. Without both, the dashboard stays read-only and refuses POSTs.
"""

from __future__ import annotations

import hmac
import secrets
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
from aisec.core.evidence.recorder import Recorder
from aisec.core.findings import Severity
from aisec.core.frameworks import FRAMEWORK_KEYS, Catalog, load_catalog
from aisec.core.predicates.enums import TriageState
from aisec.core.style import CSS
from aisec.dashboard import charts, dossier, views

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


class _Admin:
    """An admin session: a cookie derived from the admin token, and a CSRF token per session."""

    COOKIE = "aisec_admin"

    def __init__(self, token: str | None) -> None:
        self.token = token

    def _mac(self, purpose: str, value: str) -> str:
        assert self.token is not None  # noqa: S101 - only called with a token
        return hmac.new(self.token.encode(), f"{purpose}:{value}".encode(), "sha256").hexdigest()

    def new_session(self) -> str:
        nonce = secrets.token_hex(16)
        return f"{nonce}.{self._mac('session', nonce)}"

    def session(self, request: Request) -> str | None:
        """The request's valid session nonce, or None."""
        if not self.token:
            return None
        nonce, _, mac = request.cookies.get(self.COOKIE, "").partition(".")
        if nonce and hmac.compare_digest(mac, self._mac("session", nonce)):
            return nonce
        return None

    def csrf(self, nonce: str) -> str:
        return self._mac("csrf", nonce)


def create_app(
    store: EvidenceStore,
    *,
    token: str | None = None,
    catalog: Catalog | None = None,
    admin_token: str | None = None,
    recorder: Recorder | None = None,
) -> Starlette:
    """The ASGI app over ``store``. Read-only unless ``admin_token`` and a ``recorder`` (which
    signs triage decisions) are both given."""
    state = _State(store, catalog or load_catalog())
    env = _env()
    admin = _Admin(admin_token if recorder is not None and recorder.enabled else None)

    def page(name: str, request: Request | None = None, **ctx: Any) -> HTMLResponse:
        report = state.verify()
        nonce = admin.session(request) if request is not None else None
        html = env.get_template(name).render(
            verify=report,
            store_url=store.url,
            stages=state.catalog.stages,
            css=CSS,
            admin=nonce is not None,
            csrf=admin.csrf(nonce) if nonce else "",
            path=request.url.path if request is not None else "/",
            **ctx,
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
        alerts, unit = views.alerts_over_time(store)
        return page(
            "index.html",
            request,
            views=stage_views,
            redteam_svg=charts.interval_svg(
                views.redteam_intervals(store), title="Attack success rate (95% interval)"
            ),
            risk_svg=charts.interval_svg(
                views.source_risks(store), title="Risk per data source", axis="risk"
            ),
            alerts_svg=charts.bar_counts_svg(alerts, title=f"Gateway alerts per {unit} (UTC)"),
        )

    async def stage(request: Request) -> Response:
        wanted = state.catalog.stage(request.path_params["stage"])
        view = next(v for v in views.lifecycle(store, state.catalog) if v.stage.id == wanted.id)
        if wants_json(request):
            return JSONResponse({"schema": "aisec.dashboard.stage/v1", **view.to_json()})
        threats = [state.catalog.get(t) for t in view.stage.threats]
        return page("stage.html", request, view=view, threats=[t for t in threats if t])

    async def artifact(request: Request) -> Response:
        from aisec.core.digest import parse_digest

        digest = parse_digest(request.path_params["digest"])
        status = request.query_params.get("status", "all")
        status = status if status in dossier.STATUSES else "all"
        found = dossier.build_dossier(store, digest, status=status)
        if wants_json(request):
            return JSONResponse(found.to_json())
        return page(
            "artifact.html",
            request,
            d=found,
            status=status,
            chain_svg=charts.chain_svg(found.chain),
            states=[t.value for t in TriageState],
        )

    async def models(request: Request) -> Response:
        rows = dossier.model_rows(store)
        if wants_json(request):
            return JSONResponse(
                {"schema": "aisec.dashboard.models/v1", "models": [r.to_json() for r in rows]}
            )
        return page("models.html", request, rows=rows)

    async def findings(request: Request) -> Response:
        q = request.query_params
        stage = q.get("stage") or None
        if stage is not None:
            stage = state.catalog.stage(stage).id
        severity = q.get("severity") or None
        if severity is not None and severity not in {s.value for s in Severity}:
            raise InputError(f"unknown severity {severity!r}")
        status = q.get("status", "all")
        if status not in dossier.STATUSES:
            raise InputError(f"unknown status {status!r} (all, open, triaged)")
        entries = None
        model = q.get("model") or None
        if model:
            from aisec.core.digest import parse_digest
            from aisec.core.evidence.chain import walk_chain

            entries = {x.index for x in walk_chain(store, [parse_digest(model)]).links}
        rows = dossier.finding_rows(
            store,
            stage=stage,
            severity=severity,
            status=status,
            entries=entries,
            query=q.get("q") or None,
        )
        if wants_json(request):
            return JSONResponse(
                {"schema": "aisec.dashboard.findings/v1", "findings": [r.to_json() for r in rows]}
            )
        trend, unit = dossier.findings_trend(store)
        return page(
            "findings.html",
            request,
            rows=rows,
            filters={
                "stage": stage or "",
                "severity": severity or "",
                "status": status,
                "model": model or "",
                "q": q.get("q", ""),
            },
            severities=[s.value for s in reversed(Severity)],
            models=dossier.model_rows(store),
            trend_svg=charts.bar_counts_svg(trend, title=f"New findings per {unit} (UTC)"),
            states=[t.value for t in TriageState],
        )

    async def admin_login(request: Request) -> Response:
        offered = request.query_params.get("token", "")
        if not admin.token or not hmac.compare_digest(offered, admin.token):
            return _error(
                request,
                env,
                403,
                "triage needs the admin token (aisec dashboard --admin-token) and a signing key",
            )
        response = RedirectResponse("/findings", 303)
        response.set_cookie(
            _Admin.COOKIE, admin.new_session(), httponly=True, samesite="strict", path="/"
        )
        return response

    async def triage(request: Request) -> Response:
        from datetime import date

        from aisec.core.evidence.triage import find_finding, triage_predicate

        nonce = admin.session(request)
        if nonce is None or recorder is None:
            return _error(request, env, 403, "read-only dashboard: triage needs an admin session")
        # browsers send "Origin: null" under our no-referrer policy; a concrete other origin is
        # a cross-site post (the CSRF token and the SameSite=Strict cookie stop the rest)
        origin = request.headers.get("origin")
        if (
            origin not in (None, "null")
            and origin != f"{request.url.scheme}://{request.url.netloc}"
        ):
            return _error(request, env, 403, "cross-origin form refused")
        form = await request.form()
        if not hmac.compare_digest(str(form.get("csrf", "")), admin.csrf(nonce)):
            return _error(request, env, 403, "the form's CSRF token does not match the session")
        try:
            until_text = str(form.get("until") or "").strip()
            until = date.fromisoformat(until_text) if until_text else None
            state_value = TriageState(str(form.get("state", "")))
        except ValueError as exc:
            return _error(request, env, 400, f"bad triage form: {exc}")
        idx, finding = find_finding(store, str(form.get("fingerprint", "")))
        predicate = triage_predicate(
            finding,
            idx,
            state=state_value,
            reason=str(form.get("reason", "")),
            by=str(form.get("by", "")),
            until=until,
        )
        recorder.record(predicate)
        back = str(form.get("back") or "/findings")
        if not back.startswith("/") or back.startswith("//"):
            back = "/findings"
        return RedirectResponse(back, 303)

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
        return page("artifacts.html", request, rows=rows)

    async def systems(request: Request) -> Response:
        rows = views.systems(store)
        if wants_json(request):
            return JSONResponse(
                {"schema": "aisec.dashboard.systems/v1", "systems": [r.to_json() for r in rows]}
            )
        return page("systems.html", request, rows=rows, shadow=sum(not r.registered for r in rows))

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
            request,
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
        return page("evidence.html", request, entries=list(reversed(entries)), report=report)

    async def healthz(_request: Request) -> Response:
        return JSONResponse({"ok": True, "version": __version__})

    def guarded(
        handler: Callable[[Request], Awaitable[Response]],
    ) -> Callable[[Request], Awaitable[Response]]:
        async def wrapped(request: Request) -> Response:
            try:
                return await handler(request)
            except (CatalogError, InputError) as exc:
                status = 400 if request.method == "POST" else 404
                return _error(request, env, status, exc.diagnostics())
            except AisecError as exc:
                return _error(request, env, 500, exc.diagnostics())

        return wrapped

    routes = []
    for path, handler in (
        ("/", index),
        ("/stage/{stage}", stage),
        ("/artifact/{digest}", artifact),
        ("/model/{digest}", artifact),
        ("/models", models),
        ("/findings", findings),
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
    routes.append(Route("/admin", guarded(admin_login), methods=["GET"]))
    routes.append(Route("/triage", guarded(triage), methods=["POST"]))
    return Starlette(
        routes=routes,
        middleware=[Middleware(_SecurityHeaders), Middleware(_TokenGate, token=token)],
    )


def _error(request: Request, env: jinja2.Environment, status: int, message: str) -> Response:
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": message}, status_code=status)
    html = env.get_template("error.html").render(status=status, message=message)
    return HTMLResponse(html, status_code=status)
