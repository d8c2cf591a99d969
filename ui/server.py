"""The web app: FastAPI (health check, REST API, OpenAPI) with the Gradio shopper chat mounted at ``/`` and the
staff views at ``/staff``, behind ``ui.pages_gate.PagesGate`` (``concierge serve`` builds them in the background,
after the API answers).

The UI is a thin adapter: it receives the components it needs and holds no business logic. Before anything is
built, the start refuses a documented example token secret and a demo sign-in beyond loopback, and makes (or reads)
the token secret kept in the data folder when none is configured (``assistant.identity``).
"""

from __future__ import annotations

import logging
import re
import threading
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, HTTPException, Query, Request

from assistant.components import Components
from assistant.identity import prepare_token_secret, refuse_open_demo
from assistant.settings import Settings
from ui.admin_models import HealthView, SearchHit
from ui.error_table import install_error_table, responses
from ui.openapi_contract import install_contract
from ui.pages_gate import PagesGate, pages_app
from ui.rate_limits import RateLimiter
from ui.staff_auth import StaffAuth

if TYPE_CHECKING:
    from assistant.turn.turn_service import AssistantService

log = logging.getLogger(__name__)


def _warm(service: AssistantService) -> None:
    from assistant.turn.compose import warm_model

    try:
        warm_model(service.deps.llm, service.deps.shop.called)
    except Exception:  # noqa: BLE001 - the first turn then evaluates the system prompt itself
        log.warning("could not put the system prompt into the chat model's cache", exc_info=True)


def create_app(components: Components, pages_in_background: bool = False) -> FastAPI:
    """Build the app. On first start with ``app.load_demo`` the bundled demo shop is imported.

    ``pages_in_background`` (``concierge serve``): the Gradio pages are built in a thread started here and answer
    once built; until then their paths answer a "starting" page (503, ``Retry-After``) and ``/healthz`` says
    ``"pages": "starting"``. Otherwise they are built before this returns."""
    from assistant.staff.insights import build_insights
    from ui.admin_api import build_admin_api
    from ui.campaign_api import build_campaign_api
    from ui.copilot_api import build_copilot_api
    from ui.events_api import build_events_api
    from ui.handover_api import build_staff_api
    from ui.insights_api import build_insights_api
    from ui.rate_limits import BodySizeLimit
    from ui.review_api import build_review_api
    from ui.shopper_api import build_api
    from ui.staff_auth import COOKIE, StaffSignInFirst, build_auth
    from ui.web_guards import JsonDepthLimit, OriginGuard, SecurityHeaders
    from ui.widget_script import add_widget_route

    settings = components.settings
    prepare_security(settings)
    if settings.app.load_demo:
        for report in components.load_demo_if_empty() or []:
            log.info("demo shop %s", report.summary())  # normal first-start progress
    service = components.assistant  # load the model and the catalogue now, not on the first turn

    gate = PagesGate()
    api = FastAPI(title="Concierge", version="0.1.0", docs_url="/api/docs", openapi_url="/api/openapi.json",
                  lifespan=gate.lifespan)
    api.state.pages = gate
    install_error_table(api)  # the one mapping of errors to HTTP answers, for every router below
    install_contract(api)  # the OpenAPI document: every status with its error body, security schemes, links
    upload_bytes = int(settings.knowledge.max_file_mb * 1_000_000) + 1_000_000  # a file plus the form around it
    limiter = RateLimiter.from_settings(settings.security)
    auth = build_auth(settings.security, components.staff_accounts, limiter)
    api.state.staff_auth = auth  # principal_from_request for views that are not FastAPI routes

    @api.get("/healthz", tags=["ops"], response_model=HealthView, responses=responses(503))
    def healthz() -> dict[str, Any]:
        """Liveness and readiness: the stores answer (503 naming the one that does not). ``pages``: whether the
        chat page and the staff views answer yet (``starting`` right after a start: the REST API already does)."""
        try:
            knowledge = components.knowledge.stats()
        except Exception as e:  # Chroma down: not ready, a clear 503, never a bare 500
            raise HTTPException(503, f"the knowledge base is unavailable: {e}") from e
        if gate.failure is not None:
            raise HTTPException(503, f"the chat page and the staff views failed to build: {gate.failure}")
        return {"status": "ok", "knowledge": knowledge, "customers": components.privacy.count(), "pages": gate.state}

    @api.get("/api/v1/search", tags=["knowledge"], response_model=list[SearchHit])
    def search(
        q: str = Query(..., min_length=1, max_length=2000, description="What to look for."),
        kind: str = Query("products", pattern="^(products|policies)$"),
        k: int = Query(5, ge=1, le=50),
    ) -> list[dict[str, Any]]:
        """Search products or policies by meaning; each hit carries its citation."""
        try:
            hits = components.knowledge.search(q, kind, k)  # type: ignore[arg-type]
        except Exception as e:  # Chroma down: a clear 503, never a bare 500
            raise HTTPException(503, f"the knowledge base is unavailable: {e}") from e
        return [{"id": h.id, "score": h.score, "text": h.text, "citation": h.citation} for h in hits]

    api.include_router(auth.router)
    api.include_router(build_api(components, auth.require, limiter))
    api.include_router(build_staff_api(settings.security, components.copilot, components.staff_accounts, auth.require))
    api.include_router(build_copilot_api(components.copilot, auth.require))
    # before the review router: its /api/v1/analytics/{name} would take /api/v1/analytics/insights
    api.include_router(build_insights_api(build_insights(components), auth.require))
    api.include_router(build_review_api(components.log_review, components.analytics, auth.require))
    api.include_router(build_admin_api(components, auth.require))
    api.include_router(build_events_api(components))
    api.include_router(build_campaign_api(components, auth.require))
    answer_unrouted_api_paths(api)
    add_widget_route(api)  # /widget.js, the launcher script a shop's pages load (docs/embedding.md)

    # middleware, innermost first: the sign-in redirect, JSON depth (422), body limits on every path (413; uploads
    # only where files are taken, 415 elsewhere: the shopper chat takes none), same-origin staff writes and CORS
    # (403), the staff pages' CSP. Connection timeouts and the concurrency limit are uvicorn's (settings.server).
    security = settings.security
    api.add_middleware(StaffSignInFirst, auth=auth)
    api.add_middleware(JsonDepthLimit, max_depth=security.max_json_depth)
    uploads = ("/api/v1/admin/uploads", "/staff/gradio_api/upload")
    api.add_middleware(BodySizeLimit, max_bytes=security.max_request_bytes, uploads=uploads,
                       larger={**dict.fromkeys(uploads, upload_bytes), "/gradio_api/": security.max_ui_event_bytes,
                               "/staff/gradio_api/": security.max_ui_event_bytes})
    api.add_middleware(OriginGuard, allowed=security.allowed_origins, cookie=COOKIE)
    api.add_middleware(SecurityHeaders, frame_origins=security.allowed_origins)

    def build() -> FastAPI:
        return build_pages(components, auth, limiter, upload_bytes)

    def warm() -> None:  # the system prompt into the model's cache, once the start's other work is done
        threading.Thread(target=_warm, args=(service,), name="concierge-warm", daemon=True).start()

    if pages_in_background:
        gate.build_in_background(build)
        gate.when_open(warm)  # started beside the API's start it delayed the first answer (0.5-0.9 s, 2 cores)
    else:
        gate.build_now(build)
        warm()
    api.mount("/", gate)  # last: the pages take every path no route above takes
    return api


def build_pages(components: Components, auth: StaffAuth, limiter: RateLimiter, upload_bytes: int) -> FastAPI:
    """The Gradio pages on an app of their own: the staff views at ``/staff``, the shopper chat at ``/``."""
    import gradio as gr

    from ui.chat_page import build_chat_ui, mount_chat_page
    from ui.staff_views import build_staff_ui
    from ui.staff_views.staff_style import STAFF_CSS

    pages = pages_app()
    # the staff page first: the shopper chat at "/" would otherwise take every path
    gr.mount_gradio_app(pages, build_staff_ui(components, auth.principal_from_request), path="/staff", css=STAFF_CSS,
                        auth_dependency=lambda request: _staff_name(auth, request),
                        max_file_size=upload_bytes, footer_links=[])
    return mount_chat_page(pages, build_chat_ui(components, limiter))


API_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "QUERY"]


def answer_unrouted_api_paths(api: FastAPI) -> None:
    """``/api/v1/...`` (and ``/healthz``) requests no route takes get the API's own answer, not the shopper chat's
    (Gradio, mounted at ``/``, would take them): 405 with ``Allow`` when the OpenAPI document has the path with
    other methods, else 404. Add it after the routers."""
    templates: list[tuple[re.Pattern[str], set[str]]] = []

    def unrouted(request: Request) -> None:
        if not templates:
            for path, item in api.openapi().get("paths", {}).items():
                pattern = re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(path)) + "$")
                methods = {m.upper() for m in item if m.upper() in API_METHODS}
                templates.append((pattern, methods | ({"HEAD"} if "GET" in methods else set())))
        allowed = sorted({m for pattern, methods in templates if pattern.match(request.url.path) for m in methods})
        if allowed:
            raise HTTPException(405, f"{request.method} is not allowed here: use {', '.join(allowed)}",
                                headers={"Allow": ", ".join(allowed)})
        raise HTTPException(404, f"no such API path: {request.url.path}")

    api.add_api_route("/api/v1/{rest:path}", unrouted, methods=API_METHODS, include_in_schema=False)
    api.add_api_route("/healthz", unrouted, methods=[m for m in API_METHODS if m not in ("GET", "HEAD")],
                      include_in_schema=False)


def prepare_security(settings: Settings) -> None:
    """Refuse to serve the demo sign-in beyond loopback or on an example token secret; without a configured secret,
    use (or make) the one in the data folder. ``ConfigError`` says which setting to change."""
    refuse_open_demo(settings.security.demo_sign_in, settings.app.host)
    settings.security.token_secret = prepare_token_secret(settings.security.token_secret, settings.app.data_dir)


def _staff_name(auth: StaffAuth, request: Request) -> str | None:
    who = auth.principal_from_request(request)
    return who.username if who is not None else None
