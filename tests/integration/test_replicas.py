"""Two replicas agree: two ``concierge serve`` processes on one PostgreSQL (a schema of their own), one Chroma server
(``chroma run``) and one Redis (a key prefix of their own), as compose.yaml runs them. A price imported by the CLI
is the other replica's price within 5 s; an offer disabled through one replica's admin API is never offered by the
other after 5 s; a conversation started on one continues on the other through REST.

The replicas run the test profile's scripted chat model and hash embeddings (our own embedder, never Chroma's
default): what is checked here is built from the shop's data in code, not written by a model."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from assistant.shop.shop_import import demo_shop_path
from assistant.store.stores import open_stores
from tests.integration.replica_topology import Topology, replica_topology

pytestmark = [pytest.mark.integration, pytest.mark.postgres]

STAFF_KEY = f"replica-staff-{uuid.uuid4().hex}"
PROPAGATION_S = 5.0


@pytest.fixture(scope="module")
def topology(tmp_path_factory: pytest.TempPathFactory, postgres_admin_url: str) -> Iterator[Topology]:
    with replica_topology(tmp_path_factory.mktemp("replicas"), postgres_admin_url, STAFF_KEY) as topology:
        yield topology


def token(url: str, customer: str) -> dict[str, str]:
    response = httpx.post(f"{url}/api/v1/demo/token", json={"customer_id": customer}, timeout=10)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def chat(url: str, headers: dict[str, str], message: str, **extra: Any) -> dict[str, Any]:
    response = httpx.post(f"{url}/api/v1/chat", json={"message": message, **extra}, headers=headers, timeout=120)
    assert response.status_code == 200, response.text
    return dict(response.json())


def a_product_with_one_price() -> dict[str, Any]:
    """A product of the demo catalogue whose price is its only price (no variant priced apart)."""
    for line in (demo_shop_path() / "products.jsonl").read_text(encoding="utf-8").splitlines():
        product = json.loads(line)
        if not any("price" in v for v in product.get("variants") or []):
            return dict(product)
    raise AssertionError("every product of the demo catalogue has variants priced apart")


# the tests --------------------------------------------------------------------------------------------------
def test_a_price_imported_through_the_cli_is_the_other_replicas_answer_within_5_s(topology: Topology) -> None:
    a, b = topology.urls
    product = a_product_with_one_price()
    question = f"How much is the {product['name']}?"
    old, new = float(product["price"]), round(float(product["price"]) + 7.13, 2)
    assert f"${old:,.2f}" in chat(b, token(b, "C002"), question)["reply"]  # b has the catalogue loaded
    assert f"${old:,.2f}" in chat(a, token(a, "C002"), question)["reply"]
    lines = (demo_shop_path() / "products.jsonl").read_text(encoding="utf-8").splitlines()
    changed = [json.dumps({**json.loads(line), "price": new}) if json.loads(line)["id"] == product["id"] else line
               for line in lines]
    catalog = topology.work / "products.jsonl"
    catalog.write_text("\n".join(changed) + "\n", encoding="utf-8")

    topology.cli("import", "catalog", str(catalog), "--source", "demo/catalog")
    imported_at = time.monotonic()

    seen_at = None
    while time.monotonic() - imported_at < PROPAGATION_S:
        if f"${new:,.2f}" in chat(b, token(b, "C002"), question)["reply"]:
            seen_at = time.monotonic()
            break
        time.sleep(0.2)
    assert seen_at is not None, f"replica b still answers the old price {PROPAGATION_S} s after the import"
    print(f"\nnew price answered by the other replica {seen_at - imported_at:.2f} s after the CLI import")
    assert f"${new:,.2f}" in chat(a, token(a, "C002"), question)["reply"]


def test_a_price_uploaded_through_one_replicas_admin_api_is_the_other_replicas_answer_within_5_s(
        topology: Topology) -> None:
    a, b = topology.urls
    product = a_product_with_one_price()
    question = f"How much is the {product['name']}?"
    new = round(float(product["price"]) + 3.21, 2)
    assert f"${new:,.2f}" not in chat(b, token(b, "C002"), question)["reply"]
    upload = json.dumps({**product, "price": new}).encode()

    response = httpx.post(f"{a}/api/v1/admin/uploads", headers={"X-API-Key": STAFF_KEY}, data={"kind": "catalog"},
                          files={"files": ("price-change.jsonl", upload, "application/jsonl")}, timeout=120)
    assert response.status_code == 200, response.text
    uploaded_at = time.monotonic()

    while f"${new:,.2f}" not in chat(b, token(b, "C002"), question)["reply"]:
        assert time.monotonic() - uploaded_at < PROPAGATION_S, "replica b still answers the old price"
        time.sleep(0.2)
    print(f"\nuploaded price answered by the other replica {time.monotonic() - uploaded_at:.2f} s after the upload")


def test_an_offer_disabled_through_one_replica_is_never_offered_by_the_other_after_5_s(topology: Topology) -> None:
    a, b = topology.urls
    shopper = token(b, "C001")
    shown = chat(b, shopper, "Do I have any offers?")["offers"]
    assert shown, "the shopper is offered something before the change"
    offer = shown[0]

    response = httpx.post(f"{a}/api/v1/admin/offers/{offer['id']}/disable", headers={"X-API-Key": STAFF_KEY},
                          timeout=30)
    assert response.status_code == 200, response.text
    time.sleep(PROPAGATION_S)

    for message in ("Do I have any offers?", "Any discounts for me?", "Do I have any coupons?") * 3:
        body = chat(b, shopper, message)
        assert offer["id"] not in {o["id"] for o in body["offers"]}
        assert offer["code"] not in body["reply"]


def test_a_conversation_started_on_one_replica_continues_on_the_other(topology: Topology) -> None:
    a, b = topology.urls
    stores = open_stores(topology.database_url, upgrade=False)
    try:
        pending = next(o for o in stores.orders.list_for("C001") if o.status == "pending")
    finally:
        stores.close()

    asked = chat(a, token(a, "C001"), f"Please cancel my order {pending.id}")
    assert '"yes"' in asked["reply"] and asked["session_id"]
    done = chat(b, token(b, "C001"), "yes", session_id=asked["session_id"])

    assert done["session_id"] == asked["session_id"] and done["verdict"] == "action_done"
    assert "cancelled" in done["reply"]
    for url in (a, b):
        turns = httpx.get(f"{url}/api/v1/sessions/{asked['session_id']}", headers=token(url, "C001"),
                          timeout=10).json()["turns"]
        assert [t["id"] for t in turns][-2:] == [asked["turn_id"], done["turn_id"]]
    stores = open_stores(topology.database_url, upgrade=False)
    try:
        cancelled = stores.orders.get("C001", pending.id)
        assert cancelled is not None and cancelled.status == "cancelled"
    finally:
        stores.close()


def test_both_replicas_count_rate_limits_in_the_shared_redis(topology: Topology) -> None:
    import redis

    for url in topology.urls:
        chat(url, token(url, "C003"), "How long do I have to return something?")

    keys = list(redis.Redis.from_url("redis://127.0.0.1:6379").scan_iter(match=f"*{topology.redis_prefix}*"))
    assert keys, "no rate-limit counters under the replicas' prefix in Redis"
