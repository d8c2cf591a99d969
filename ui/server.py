"""The web app: FastAPI (health check, REST API, OpenAPI) with the Gradio shopper chat mounted at ``/``.

The UI is a thin adapter: it receives the components it needs and holds no business logic.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from assistant.components import Components
from assistant.errors import ConciergeError

log = logging.getLogger(__name__)


def create_app(components: Components) -> FastAPI:
    """Build the app. On first start with ``app.load_demo`` the bundled demo shop is imported."""
    import gradio as gr

    from assistant.shop.shop_import import load_demo_if_empty
    from ui.admin_api import build_admin_api
    from ui.chat_page import CSS, build_chat_ui
    from ui.copilot_api import build_copilot_api
    from ui.handover_api import build_staff_api
    from ui.rate_limits import BodySizeLimit, RateLimiter
    from ui.review_api import build_review_api
    from ui.shopper_api import build_api, error_payload
    from ui.staff_app import build_staff_ui
    from ui.staff_auth import StaffSignInFirst, build_auth

    settings = components.settings
    customers = components.stores.customers
    if settings.app.load_demo:
        reports = load_demo_if_empty(
            components.knowledge, customers, components.stores.offers, chunk_size=settings.knowledge.chunk_size,
            overlap=settings.knowledge.chunk_overlap,
        )
        for report in reports or []:
            log.warning("demo shop %s", report.summary())
        components.catalog.invalidate()
    components.assistant  # noqa: B018 - load the model and the catalogue now, not on the first turn

    api = FastAPI(title="Concierge", version="0.1.0", docs_url="/api/docs", openapi_url="/api/openapi.json")
    # request bodies on /api/ and /staff/ are capped (413); uvicorn closes idle keep-alive connections after
    # timeout_keep_alive (5 s), and a model call waits at most llm.openai.timeout_s for a served model
    upload_bytes = int(settings.knowledge.max_file_mb * 1_000_000) + 1_000_000  # a file plus the form around it
    api.add_middleware(BodySizeLimit, max_bytes=settings.security.max_request_bytes,
                       larger={"/api/v1/admin/uploads": upload_bytes})
    limiter = RateLimiter.from_settings(settings.security)
    auth = build_auth(settings.security, components.stores.staff, limiter)
    api.state.staff_auth = auth  # principal_from_request for views that are not FastAPI routes

    @api.exception_handler(ConciergeError)
    def concierge_error(_request: Request, e: ConciergeError) -> JSONResponse:
        log.warning("request failed: %s", e)
        return JSONResponse(error_payload(e), status_code=503)

    @api.exception_handler(RequestValidationError)
    def invalid_request(_request: Request, e: RequestValidationError) -> JSONResponse:
        problems = "; ".join(f"{'.'.join(str(p) for p in err['loc'][1:])}: {err['msg']}" for err in e.errors())
        return JSONResponse({"detail": f"invalid request: {problems}"}, status_code=422)

    @api.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, Any]:
        """Liveness and readiness: the stores answer (503 naming the one that does not)."""
        try:
            knowledge = components.knowledge.stats()
        except Exception as e:  # Chroma down: not ready, a clear 503, never a bare 500
            raise HTTPException(503, f"the knowledge base is unavailable: {e}") from e
        return {"status": "ok", "knowledge": knowledge, "customers": len(customers.list_ids())}

    @api.get("/api/v1/search", tags=["knowledge"])
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
    api.include_router(build_staff_api(settings.security, components.stores, auth.require))
    api.include_router(build_copilot_api(components, auth.require))
    api.include_router(build_review_api(components.stores, auth.require))
    api.include_router(build_admin_api(components, auth.require))

    api.add_middleware(StaffSignInFirst, auth=auth)

    # the staff page first: the shopper chat at "/" would otherwise take every path
    gr.mount_gradio_app(api, build_staff_ui(components, auth.principal_from_request), path="/staff", css=CSS,
                        auth_dependency=lambda request: _staff_name(auth, request),
                        max_file_size=upload_bytes)
    return gr.mount_gradio_app(api, build_chat_ui(components, limiter), path="/", css=CSS)


def _staff_name(auth: Any, request: Request) -> str | None:
    who = auth.principal_from_request(request)
    return who.username if who is not None else None
