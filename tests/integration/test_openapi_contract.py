"""The REST contract is true (issue 21): the OpenAPI document says what the server does, and Schemathesis, run with
every check, every phase and the stateful links against the whole app in-process, finds no difference.

The app runs on the test profile's fakes (scripted chat model, hash embeddings) over a real temporary SQLite store,
the demo shop imported. Schemathesis reads ``schemathesis.toml`` (seeded, deterministic; the checks that are wrong
for this API at one place are configured there, each with its reason) and sends credentials only through the
declared security schemes: the staff key (``StaffKey``) and a shopper token the app signed (``ShopperToken``).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.integration.conftest import app_on_fakes

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
STAFF_KEY = "contract-staff-key"
BUDGET_S = 180.0  # the bound for the whole run
MIN_REQUESTS = 1000
HANDOVERS = 8
#: sign-ins that fail are slowed down (1 s doubling): Schemathesis sends hundreds of them on purpose
NO_SLOWDOWN = {"login_slowdown_after": 1_000_000}


@pytest.fixture(scope="module")
def contract_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    components, app = app_on_fakes(tmp_path_factory.mktemp("contract"),
                                   {"security": {"staff_api_key": STAFF_KEY, **NO_SLOWDOWN}})
    app.state.contract_stores = components.stores  # for the stateful phase's fresh start (below)
    try:
        yield app
    finally:
        components.stores.close()


def shopper_token(client: TestClient) -> str:
    response = client.post("/api/v1/demo/token", json={"customer_id": "C001"})
    assert response.status_code == 200, response.text
    return str(response.json()["token"])


# the document ---------------------------------------------------------------------------------------------------
def test_every_error_answer_of_every_operation_is_the_one_error_body(contract_app: Any) -> None:
    document = TestClient(contract_app).get("/api/openapi.json").json()
    operations = [(m, p, op) for p, item in document["paths"].items() for m, op in item.items()]

    assert len(operations) >= 45
    assert "HTTPValidationError" not in document["components"]["schemas"]
    for method, path, operation in operations:
        statuses = operation["responses"]
        errors = {s: r for s, r in statuses.items() if s[0] in "45"}
        assert "422" in errors or "requestBody" not in operation, (method, path)
        for status, response in errors.items():
            assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorBody"}, (
                method, path, status)
        schemes = {name for requirement in operation.get("security", []) for name in requirement}
        if schemes:
            assert "401" in errors, (method, path)
        if "{" in path:
            assert "404" in errors, (method, path)


def test_credentials_are_declared_security_schemes_attached_per_operation(contract_app: Any) -> None:
    document = TestClient(contract_app).get("/api/openapi.json").json()
    schemes = document["components"]["securitySchemes"]

    assert schemes["StaffKey"] == {**schemes["StaffKey"], "type": "apiKey", "in": "header", "name": "X-API-Key"}
    assert schemes["StaffCookie"]["in"] == "cookie" and schemes["StaffSession"]["scheme"] == "bearer"
    assert schemes["ShopperToken"]["scheme"] == "bearer"
    paths = document["paths"]

    def needs(method: str, path: str) -> set[str]:
        return {name for requirement in paths[path][method].get("security", []) for name in requirement}

    assert needs("post", "/api/v1/chat") == {"ShopperToken"}
    assert needs("get", "/api/v1/me/export") == {"ShopperToken"}
    assert needs("post", "/api/v1/admin/offers") == {"StaffKey", "StaffSession", "StaffCookie"}
    assert needs("post", "/api/v1/handovers/{handover_id}/claim") == {"StaffKey", "StaffSession", "StaffCookie"}
    assert needs("post", "/api/v1/demo/token") == set() and needs("post", "/api/v1/staff/login") == set()


def test_streams_exports_and_uploads_declare_their_media_types(contract_app: Any) -> None:
    paths = TestClient(contract_app).get("/api/openapi.json").json()["paths"]

    export = paths["/api/v1/review/export"]["get"]["responses"]["200"]["content"]
    chat = paths["/api/v1/chat"]["post"]["responses"]["200"]["content"]
    upload = paths["/api/v1/admin/uploads"]["post"]["requestBody"]["content"]
    assert set(export) == {"application/x-ndjson", "text/csv"}
    assert set(chat) == {"application/json", "text/event-stream"}
    assert chat["text/event-stream"]["schema"]["required"] == ["event", "data"]
    assert set(upload) == {"multipart/form-data"}


def test_the_offer_and_hand_over_links_lead_through_their_life(contract_app: Any) -> None:
    paths = TestClient(contract_app).get("/api/openapi.json").json()["paths"]

    created = paths["/api/v1/admin/offers"]["post"]["responses"]["201"]["links"]
    listed = paths["/api/v1/handovers"]["get"]["responses"]["200"]["links"]
    claimed = paths["/api/v1/handovers/{handover_id}/claim"]["post"]["responses"]["200"]["links"]
    assert {"ReadOffer", "UpdateOffer", "DisableOffer"} <= set(created)
    assert "ClaimHandover" in listed and "ResolveHandover" in claimed


# the server as the document says --------------------------------------------------------------------------------
def test_a_method_a_path_does_not_have_is_a_405_with_allow(contract_app: Any) -> None:
    client = TestClient(contract_app)

    for method, path, allowed in (("GET", "/api/v1/chat", "POST"), ("DELETE", "/api/v1/admin/offers", "GET, POST"),
                                  ("PATCH", "/api/v1/admin/offers/x", "GET, PUT"), ("TRACE", "/healthz", "GET")):
        response = client.request(method, path, headers={"X-API-Key": STAFF_KEY})
        assert response.status_code == 405, (method, path, response.text)
        assert set(response.headers["allow"].split(", ")) - {"HEAD"} == set(allowed.split(", "))
        assert response.json()["error"] == "MethodNotAllowed"
    missing = client.get("/api/v1/no-such-thing")
    assert missing.status_code == 404 and missing.json()["error"] == "NotFoundError"


def test_fastapis_own_checks_and_http_errors_answer_with_the_error_body(contract_app: Any) -> None:
    client = TestClient(contract_app)
    token = shopper_token(client)

    invalid = client.post("/api/v1/chat", json={"message": 5}, headers={"Authorization": f"Bearer {token}"})
    wrong = client.post("/api/v1/staff/login", json={"username": "nobody", "password": "wrong"})
    unreadable = client.post("/api/v1/feedback", content=b"\x97\xcd",
                             headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    for response, status in ((invalid, 422), (wrong, 401), (unreadable, 400)):
        assert response.status_code == status and set(response.json()) == {"detail", "error"}, response.text


# Schemathesis ---------------------------------------------------------------------------------------------------
@dataclass
class Run:
    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    operations: set[str] = field(default_factory=set)
    failures: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    linked: Counter[tuple[str, int]] = field(default_factory=Counter)  # stateful steps reached through a link
    stop_reason: str = ""


def schemathesis_run(app: Any, budget_s: float, before_stateful: Callable[[], None] = lambda: None) -> Run:
    """Run Schemathesis on ``app`` for at most ``budget_s``; ``before_stateful`` runs as the stateful phase starts (the
    engine waits for it)."""
    import schemathesis
    from schemathesis.engine import events, from_schema
    from schemathesis.engine.run import PhaseName

    schema = schemathesis.openapi.from_asgi("/api/openapi.json", app,
                                            config=schemathesis.Config.from_path(ROOT / "schemathesis.toml"))
    run = Run()
    start = time.monotonic()
    stream = from_schema(schema).execute()
    for event in stream:
        if time.monotonic() - start > budget_s:
            stream.stop()
        if isinstance(event, events.PhaseStarted) and event.phase.name == PhaseName.STATEFUL_TESTING:
            before_stateful()
        if isinstance(event, events.ScenarioFinished | events.FuzzScenarioFinished):
            recorder = event.recorder
            for case_id, interaction in recorder.interactions.items():
                run.requests += 1
                node = recorder.cases[case_id]
                run.operations.add(node.value.operation.label)
                if interaction.response is not None:
                    run.statuses[interaction.response.status_code] += 1
                    if node.transition is not None:
                        run.linked[(node.value.operation.label, interaction.response.status_code)] += 1
            for case_id, checks in recorder.checks.items():
                for check in checks:
                    if check.failure_info is not None:
                        case = recorder.cases[case_id].value
                        run.failures.append(f"{check.name} on {case.method} {case.formatted_path}: "
                                            f"{check.failure_info.failure.title}: "
                                            f"{str(check.failure_info.failure.message)[:400]}")
        elif isinstance(event, events.NonFatalError):
            run.errors.append(f"{event.label}: {event.info.message}")
        elif isinstance(event, events.FatalError):
            run.errors.append(f"fatal: {event.exception}")
        elif isinstance(event, events.EngineFinished):
            run.stop_reason = str(event.stop_reason)
    return run


def test_schemathesis_finds_no_difference_between_the_document_and_the_server(
        contract_app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    started = time.monotonic()
    client = TestClient(contract_app)
    token = shopper_token(client)

    def open_handovers() -> None:
        """``HANDOVERS`` hand-overs asked for by a shopper who is still there (the run may erase any of them)."""
        for customer in client.get("/api/v1/demo/customers").json():
            issued = client.post("/api/v1/demo/token", json={"customer_id": customer["id"]})
            bearer = {"Authorization": f"Bearer {issued.json().get('token')}"}
            asked = [client.post("/api/v1/chat", json={"message": "I want to talk to a person, please"},
                                 headers=bearer) for _ in range(HANDOVERS if issued.status_code == 200 else 0)]
            if asked and all(a.status_code == 200 and a.json()["handover"] is not None for a in asked):
                return
        pytest.fail("no demo shopper left to ask for a person")

    stores = contract_app.state.contract_stores
    shop_offers = {str(o["id"]) for o in stores.offers.all(include_inactive=True)}

    def forget_offers_made_so_far() -> None:
        """The earlier phases' offers removed from the store (the shop's own stay): Schemathesis reuses the codes it
        saw in their answers, and a code in use (retired offers too) is a 409, so without this the stateful phase
        may never create an offer to follow its links from."""
        from sqlalchemy import delete

        from assistant.store.offer_store import OfferRow

        with stores.engine.begin() as connection:
            connection.execute(delete(OfferRow).where(OfferRow.id.not_in(shop_offers)))

    open_handovers()  # for the examples, coverage and fuzzing phases, which claim and resolve the ids they are shown
    monkeypatch.setenv("CONCIERGE_CONTRACT_STAFF_KEY", STAFF_KEY)
    monkeypatch.setenv("CONCIERGE_CONTRACT_SHOPPER_TOKEN", token)

    # fresh open hand-overs for the stateful phase's links (list, claim, resolve)
    run = schemathesis_run(contract_app, BUDGET_S - (time.monotonic() - started),
                           before_stateful=lambda: (open_handovers(), forget_offers_made_so_far()))
    took = time.monotonic() - started

    print(f"\nschemathesis: {run.requests} requests over {len(run.operations)} operations in {took:.0f} s, "
          f"{len(run.failures)} failures; statuses " + ", ".join(f"{s}: {n}" for s, n in sorted(run.statuses.items()))
          + "; through links " + ", ".join(f"{op} {s}: {n}" for (op, s), n in sorted(run.linked.items())))
    assert run.stop_reason == "completed", f"stopped: {run.stop_reason} after {took:.0f} s"
    assert not run.errors, "\n".join(run.errors[:20])
    assert not run.failures, "\n".join(run.failures[:30])
    assert run.requests >= MIN_REQUESTS and len(run.operations) >= 45
    assert run.statuses[200] > 0 and run.statuses[201] > 0 and run.statuses[401] > 0 and run.statuses[422] > 0
    assert run.linked[("GET /api/v1/admin/offers/{offer_id}", 200)] > 0  # an offer created, then read ...
    assert run.linked[("POST /api/v1/handovers/{handover_id}/claim", 200)] > 0  # ... a hand-over claimed
    assert run.linked[("POST /api/v1/handovers/{handover_id}/resolve", 200)] > 0  # ... and resolved
