"""Hand-written fuzz of what Schemathesis does not send (tests/integration/test_openapi_contract.py runs it for
everything else): JSON nested far too deep, bodies and uploads over the limits, multipart bodies where no files are
taken, against every documented operation of the whole app in-process. Each is refused with its documented status
and the one error body, never a 5xx."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.integration.conftest import app_on_fakes

pytestmark = pytest.mark.integration

STAFF_KEY = "fuzz-staff-key"
DEPTH = 100_000  # Python's JSON parser would raise RecursionError (a 500) long before this


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict[str, str], dict[str, Any]]]:
    components, app = app_on_fakes(tmp_path_factory.mktemp("fuzz"), {"security": {"staff_api_key": STAFF_KEY}})
    client = TestClient(app)
    token = client.post("/api/v1/demo/token", json={"customer_id": "C001"}).json()["token"]
    headers = {"Authorization": f"Bearer {token}", "X-API-Key": STAFF_KEY}
    try:
        yield client, headers, client.get("/api/openapi.json").json()
    finally:
        components.stores.close()


def with_body(document: dict[str, Any], media: str) -> list[tuple[str, str]]:
    """(method, concrete path) of every documented operation taking a ``media`` body."""
    return [(method.upper(), path.replace("{", "").replace("}", "")) for path, item in document["paths"].items()
            for method, operation in item.items() if media in operation.get("requestBody", {}).get("content", {})]


def refused(response: Any, status: int, documented: dict[str, Any]) -> None:
    assert response.status_code == status, response.text[:300]
    assert set(response.json()) == {"detail", "error"}
    assert str(status) in documented["responses"]


def operation(document: dict[str, Any], method: str, concrete: str) -> dict[str, Any]:
    for path, item in document["paths"].items():
        if path.replace("{", "").replace("}", "") == concrete:
            return dict(item[method.lower()])
    raise AssertionError(concrete)


def test_json_nested_far_too_deep_is_a_422_on_every_json_route(
        fuzzed: tuple[TestClient, dict[str, str], dict[str, Any]]) -> None:
    client, headers, document = fuzzed
    routes = with_body(document, "application/json")
    assert len(routes) >= 15
    for body in ("[" * DEPTH + "]" * DEPTH, '{"a":' * DEPTH + "1" + "}" * DEPTH):
        for method, path in routes:
            response = client.request(method, path, content=body.encode(),
                                      headers={**headers, "Content-Type": "application/json"})
            refused(response, 413 if len(body) > 65536 else 422, operation(document, method, path))
    shallow_but_deep = "[" * 200 + "]" * 200
    for method, path in routes:
        response = client.request(method, path, content=shallow_but_deep.encode(),
                                  headers={**headers, "Content-Type": "application/json"})
        refused(response, 422, operation(document, method, path))


def test_bodies_over_the_limit_are_a_413_on_every_route_that_takes_one(
        fuzzed: tuple[TestClient, dict[str, str], dict[str, Any]]) -> None:
    client, headers, document = fuzzed
    for method, path in with_body(document, "application/json"):
        response = client.request(method, path, content=b'{"x": "' + b"a" * 200_000 + b'"}',
                                  headers={**headers, "Content-Type": "application/json"})
        refused(response, 413, operation(document, method, path))


def test_an_oversized_upload_is_a_413_and_stores_nothing(
        fuzzed: tuple[TestClient, dict[str, str], dict[str, Any]]) -> None:
    client, headers, document = fuzzed
    before = client.get("/api/v1/admin/collections", headers=headers).json()
    big = b"id,name\n" + b"p1,x\n" * 4_600_000  # 23 MB: over knowledge.max_file_mb (20) plus the form around it

    response = client.post("/api/v1/admin/uploads", files={"files": ("products.csv", big, "text/csv")},
                           headers=headers)

    refused(response, 413, operation(document, "POST", "/api/v1/admin/uploads"))
    assert client.get("/api/v1/admin/collections", headers=headers).json() == before


def test_multipart_bodies_are_a_415_where_no_files_are_taken(
        fuzzed: tuple[TestClient, dict[str, str], dict[str, Any]]) -> None:
    client, headers, document = fuzzed
    for method, path in with_body(document, "application/json"):
        response = client.request(method, path, files={"files": ("a.txt", b"hello", "text/plain")}, headers=headers)
        refused(response, 415, operation(document, method, path))
