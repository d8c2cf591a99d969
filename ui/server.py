"""The web app: FastAPI (health check, REST API) with the Gradio UI mounted at ``/``.

The UI is a thin adapter: it receives the components it needs and holds no business logic.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, HTTPException, Query

from assistant.components import Components

log = logging.getLogger(__name__)


def create_app(components: Components) -> FastAPI:
    """Build the app. On first start with ``app.load_demo`` the bundled demo shop is imported."""
    import gradio as gr

    from assistant.importers import load_demo_if_empty
    from assistant.store.customers import CustomerStore
    from ui.shop import build_shop_ui

    settings = components.settings
    customers = CustomerStore(components.sessionmaker)
    if settings.app.load_demo:
        reports = load_demo_if_empty(
            components.knowledge, customers, chunk_size=settings.knowledge.chunk_size,
            overlap=settings.knowledge.chunk_overlap,
        )
        for report in reports or []:
            log.warning("demo shop %s", report.summary())

    api = FastAPI(title="Concierge", version="0.1.0", docs_url="/api/docs", openapi_url="/api/openapi.json")

    @api.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, Any]:
        """Liveness and readiness: the stores answer."""
        knowledge = components.knowledge.stats()
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

    blocks = build_shop_ui(components)
    return gr.mount_gradio_app(api, blocks, path="/")
