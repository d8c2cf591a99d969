"""The web app: FastAPI (health check, REST API, OpenAPI) with the Gradio shopper chat mounted at ``/``.

The UI is a thin adapter: it receives the components it needs and holds no business logic.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, HTTPException, Query, Request

from assistant.components import Components
from ui.error_table import install_error_table
from ui.staff_auth import StaffAuth

log = logging.getLogger(__name__)


def create_app(components: Components) -> FastAPI:
    """Build the app. On first start with ``app.load_demo`` the bundled demo shop is imported."""
    import gradio as gr

    from ui.admin_api import build_admin_api
    from ui.chat_page import CSS, build_chat_ui
    from ui.copilot_api import build_copilot_api
    from ui.handover_api import build_staff_api
    from ui.rate_limits import BodySizeLimit, RateLimiter
    from ui.review_api import build_review_api
    from ui.shopper_api import build_api
    from ui.staff_auth import StaffSignInFirst, build_auth
    from ui.staff_views import build_staff_ui

    settings = components.settings
    if settings.app.load_demo:
        for report in components.load_demo_if_empty() or []:
            log.warning("demo shop %s", report.summary())
    components.assistant  # noqa: B018 - load the model and the catalogue now, not on the first turn

    api = FastAPI(title="Concierge", version="0.1.0", docs_url="/api/docs", openapi_url="/api/openapi.json")
    install_error_table(api)  # the one mapping of errors to HTTP answers, for every router below
    # request bodies on /api/ and /staff/ are capped (413); uvicorn closes idle keep-alive connections after
    # timeout_keep_alive (5 s), and a model call waits at most llm.openai.timeout_s for a served model
    upload_bytes = int(settings.knowledge.max_file_mb * 1_000_000) + 1_000_000  # a file plus the form around it
    api.add_middleware(BodySizeLimit, max_bytes=settings.security.max_request_bytes,
                       larger={"/api/v1/admin/uploads": upload_bytes})
    limiter = RateLimiter.from_settings(settings.security)
    auth = build_auth(settings.security, components.staff_accounts, limiter)
    api.state.staff_auth = auth  # principal_from_request for views that are not FastAPI routes

    @api.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, Any]:
        """Liveness and readiness: the stores answer (503 naming the one that does not)."""
        try:
            knowledge = components.knowledge.stats()
        except Exception as e:  # Chroma down: not ready, a clear 503, never a bare 500
            raise HTTPException(503, f"the knowledge base is unavailable: {e}") from e
        return {"status": "ok", "knowledge": knowledge, "customers": components.privacy.count()}

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
    api.include_router(build_staff_api(settings.security, components.copilot, components.staff_accounts, auth.require))
    api.include_router(build_copilot_api(components.copilot, auth.require))
    api.include_router(build_review_api(components.log_review, components.analytics, auth.require))
    api.include_router(build_admin_api(components, auth.require))

    api.add_middleware(StaffSignInFirst, auth=auth)

    # the staff page first: the shopper chat at "/" would otherwise take every path
    gr.mount_gradio_app(api, build_staff_ui(components, auth.principal_from_request), path="/staff", css=CSS,
                        auth_dependency=lambda request: _staff_name(auth, request),
                        max_file_size=upload_bytes)
    app: FastAPI = gr.mount_gradio_app(api, build_chat_ui(components, limiter), path="/", css=CSS)
    return app


def _staff_name(auth: StaffAuth, request: Request) -> str | None:
    who = auth.principal_from_request(request)
    return who.username if who is not None else None
