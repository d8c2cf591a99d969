"""Cross-site writes in a real browser (issue 14, item 6): with an admin signed in, a page served from another
origin on the same site (another port of 127.0.0.1, so the SameSite=Lax session cookie is sent) tries to disable
an offer, erase a customer and sign the admin out, by fetch and by form post. Nothing changes."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.browser.conftest import App, shot, sign_in
from tests.integration.conftest import free_port

pytestmark = [pytest.mark.integration, pytest.mark.model, pytest.mark.browser]

ATTACK = """<!doctype html><html><body><h1>Win a prize</h1>
<form id="f" method="post" action="{target}/api/v1/admin/offers/{offer}/disable" target="sink"></form>
<form id="g" method="post" action="{target}/staff/logout" target="sink2"></form>
<iframe name="sink"></iframe><iframe name="sink2"></iframe>
<script>
window.results = [];
async function attempt(name, url, init) {{
  try {{
    const r = await fetch(url, Object.assign({{credentials: "include"}}, init));
    window.results.push(name + ":" + r.status);
  }} catch (e) {{ window.results.push(name + ":blocked"); }}
}}
(async () => {{
  await attempt("disable", "{target}/api/v1/admin/offers/{offer}/disable", {{method: "POST"}});
  await attempt("disable-nocors", "{target}/api/v1/admin/offers/{offer}/disable", {{method: "POST", mode: "no-cors"}});
  await attempt("erase", "{target}/api/v1/customers/C005", {{method: "DELETE"}});
  await attempt("upload", "{target}/api/v1/admin/offers", {{method: "POST", mode: "no-cors",
      headers: {{"Content-Type": "text/plain"}}, body: JSON.stringify({{id: "evil", code: "EVIL99"}})}});
  document.getElementById("f").submit();
  document.getElementById("g").submit();
  setTimeout(() => {{ window.done = true; }}, 3000);
}})();
</script></body></html>"""


@pytest.fixture
def attacker(app: App) -> Iterator[tuple[str, dict[str, str]]]:
    """A page on another port of 127.0.0.1; ``page`` holds what it serves (filled in by the test)."""
    served: dict[str, str] = {"page": ""}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            body = served["page"].encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", served
    server.shutdown()


def test_a_page_from_another_origin_changes_nothing(page: Any, app: App,
                                                    attacker: tuple[str, dict[str, str]]) -> None:
    url, served = attacker
    sign_in(page, app, "admin")
    api = page.context.request
    offer = next(o["offer"]["id"] for o in api.get(f"{app.url}/api/v1/admin/offers").json() if o["status"] == "live")
    assert api.get(f"{app.url}/api/v1/customers/C005/export").status == 200
    served["page"] = ATTACK.format(target=app.url, offer=offer)

    page.goto(url)
    page.wait_for_function("window.done === true", timeout=30_000)
    results = page.evaluate("window.results")
    shot(page, "cross-origin-attack")

    assert len(results) == 4 and not any(r.endswith(":200") for r in results), results
    status = api.get(f"{app.url}/api/v1/admin/offers/{offer}")
    assert status.status == 200 and status.json()["status"] == "live"
    assert api.get(f"{app.url}/api/v1/customers/C005/export").status == 200
    assert api.get(f"{app.url}/api/v1/admin/offers/evil").status == 404
    assert api.get(f"{app.url}/api/v1/staff/me").status == 200  # still signed in: the logout form did nothing
