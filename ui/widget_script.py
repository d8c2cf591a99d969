"""``/widget.js``: the script a shop puts on its pages with one ``<script>`` tag (``ui/static/widget.js``,
documented in docs/embedding.md): a chat button and the chat panel it opens, plain HTML, CSS and JavaScript that
talk to the shopper REST API only (``POST /api/v1/chat`` streamed, ``GET /api/v1/sessions/{id}``). The panel keeps
no state in a server process: each request names its conversation (a guest token, or a session id with the
shopper's token), so any replica answers it and nothing is sticky (docs/deploy.md).

Served as a static file with its own caching: shops load it on every page, so browsers keep it for a while
(``WIDGET_MAX_AGE_S``) and then ask again with its ETag (a 304 costs a few bytes); a new Concierge version is
picked up within that time. ``Cross-Origin-Resource-Policy: cross-origin`` lets shops whose pages require it (COEP)
load it. CORS is not decided here: ``ui.web_guards.OriginGuard`` grants it to ``security.allowed_origins`` only, and
the script shows its button only when the server grants it (a HEAD request to itself).
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from fastapi import FastAPI, Request, Response

WIDGET_FILE = Path(__file__).resolve().parent / "static" / "widget.js"
WIDGET_PATH = "/widget.js"
#: how long a browser uses its copy before asking again (with the ETag)
WIDGET_MAX_AGE_S = 600
MEDIA_TYPE = "text/javascript; charset=utf-8"


@cache
def widget_source() -> tuple[bytes, str]:
    """The script's bytes and their ETag (read once: the file ships with the package)."""
    body = WIDGET_FILE.read_bytes()
    return body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def add_widget_route(api: FastAPI) -> None:
    """``GET``/``HEAD /widget.js``. Add it before the shopper chat is mounted at ``/`` (which would take the path)."""

    @api.api_route(WIDGET_PATH, methods=["GET", "HEAD"], include_in_schema=False)
    def widget(request: Request) -> Response:
        body, etag = widget_source()
        headers = {"ETag": etag, "Cache-Control": f"public, max-age={WIDGET_MAX_AGE_S}",
                   "Cross-Origin-Resource-Policy": "cross-origin"}
        if etag in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
            return Response(status_code=304, headers=headers)
        return Response(body if request.method == "GET" else b"", media_type=MEDIA_TYPE,
                        headers={**headers, "Content-Length": str(len(body))})
