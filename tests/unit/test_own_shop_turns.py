"""Whole turns on a shop made here (its own order-id format "#Q-0042", its own policy text), scripted model:
own orders answered first by their stored ids, another shopper's order refused, policy answers that cannot drift."""

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from assistant.components import Components, build_assistant, build_components
from assistant.config.loading import load_settings
from assistant.domain import DoneEvent, Event, ShopperIdentity
from assistant.llm import FakeChatModel
from assistant.shop.shop_import import ingest_shop
from assistant.turn.turn_service import AssistantService

TITLE = "Parcels, gifts and tea points"
POLICY = f"""# {TITLE}

## Sending tea back

You can send unopened tea back within 14 days of delivery. Opened tins cannot be sent back.

We pay refunds to your original card within 5-7 business days after the tin reaches our warehouse.

## Cancelling

You can cancel an order while it is pending. If you cancel an order you paid by card, the money is back on your
card within 3 business days.

## Gift wrapping

Gift messages are **free**. A gift box costs $4.50.

## Tea points

You earn 2 tea points for every $1 you spend. Tea points can be used on any order.
"""


def _order(oid: str, status: str, placed: str, items: list[tuple[str, str, float]], total: float,
           tracking: str | None = None) -> dict[str, object]:
    return {"id": oid, "status": status, "placed_at": placed, "currency": "USD", "total": total,
            "items": [{"product_id": pid, "name": name, "quantity": 1, "unit_price": price}
                      for pid, name, price in items],
            **({"tracking": {"carrier": "Larkpost", "number": tracking}} if tracking else {}),
            "payments": [{"kind": "charge", "method": "card ending 1111", "amount": total, "at": placed}]}


@pytest.fixture(scope="module")
def tea_shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Components]:
    root = tmp_path_factory.mktemp("leafshop")
    products = [{"id": f"T{n}", "name": name, "category": "tea", "description": f"{name}, loose leaf.",
                 "price": price, "currency": "USD", "stock": 5}
                for n, (name, price) in enumerate([("Smoky Lapsang Tin", 12.5), ("Jasmine Pearls Tin", 18.0),
                                                   ("Hojicha Tin", 9.75), ("Secret Oolong Sampler", 31.0)])]
    customers = [
        {"id": "ada", "name": "Ada Quill", "tier": "standard", "orders": [
            _order("#Q-0042", "shipped", "2026-03-02T10:00:00Z", [("T0", "Smoky Lapsang Tin", 12.5),
                                                                   ("T1", "Jasmine Pearls Tin", 18.0)], 30.5,
                   "LP7731902"),
            _order("#Q-0017", "delivered", "2026-01-11T10:00:00Z", [("T2", "Hojicha Tin", 9.75)], 9.75)]},
        {"id": "bo", "name": "Bo Fennick", "tier": "standard", "orders": [
            _order("#Q-0099", "shipped", "2026-02-20T10:00:00Z", [("T3", "Secret Oolong Sampler", 31.0)], 31.0,
                   "LP5550001")]},
    ]
    (root / "products.jsonl").write_text("".join(json.dumps(p) + "\n" for p in products), encoding="utf-8")
    (root / "customers.jsonl").write_text("".join(json.dumps(c) + "\n" for c in customers), encoding="utf-8")
    (root / "policies").mkdir()
    (root / "policies" / "parcels.md").write_text(POLICY, encoding="utf-8")
    settings = load_settings(["test"], env={}, overrides={
        "app": {"data_dir": str(tmp_path_factory.mktemp("leafdata"))},
        "knowledge": {"collection_prefix": f"q{uuid.uuid4().hex[:8]}_"}, "embeddings": {"dimensions": 4096}})
    components = build_components(settings)
    reports = ingest_shop(root, components.knowledge, components.stores.customers, components.stores.offers)
    assert all(r.ok for r in reports), [r.summary() for r in reports]
    yield components
    components.stores.close()


def service(components: Components, *replies: str) -> tuple[AssistantService, FakeChatModel]:
    llm = FakeChatModel().enqueue(replies)
    return build_assistant(components, llm=llm, offers=lambda: [],
                           now=lambda: datetime(2026, 3, 5, 12, 0, tzinfo=UTC)), llm


def ask(svc: AssistantService, message: str, who: str = "ada") -> DoneEvent:
    events: list[Event] = list(svc.respond(ShopperIdentity(who), None, message))
    done = events[-1]
    assert isinstance(done, DoneEvent)
    return done


def first_sentence(text: str) -> str:
    return text.split(". ")[0]


@pytest.mark.parametrize("message", ["What is the status of my order #Q-0042?", "status of q-0042?",
                                     "Where is my order (Q-0042)?"])
def test_an_own_order_is_found_by_its_stored_id_and_the_status_comes_first(tea_shop: Components,
                                                                           message: str) -> None:
    svc, _ = service(tea_shop, "I am not sure.")

    done = ask(svc, message)

    assert "#Q-0042" in first_sentence(done.reply) and "shipped" in first_sentence(done.reply)
    assert "isn't one of them" not in done.reply and "**" not in done.reply


@pytest.mark.parametrize("message, answer", [
    ("What's the tracking number for order #Q-0042?", "LP7731902"),
    ("What was the total of my order Q-0042?", "$30.50"),
    ("What did I order in #Q-0042?", "Smoky Lapsang Tin"),
])
def test_the_first_sentence_answers_what_was_asked(tea_shop: Components, message: str, answer: str) -> None:
    svc, _ = service(tea_shop, "Your order #Q-0042 is shipped.")  # true, but not what was asked

    done = ask(svc, message)

    assert answer in first_sentence(done.reply), done.reply


def test_a_written_reply_that_answers_first_is_kept(tea_shop: Components) -> None:
    svc, _ = service(tea_shop, "Your order #Q-0042 is shipped.")

    done = ask(svc, "Has my order #Q-0042 shipped yet?")

    assert done.reply == "Your order #Q-0042 is shipped." and done.verdict == "pass"


def test_the_latest_order_is_the_only_one_answered(tea_shop: Components) -> None:
    svc, _ = service(tea_shop, "I am not sure.")

    done = ask(svc, "Where is my latest order?")

    assert "#Q-0042" in first_sentence(done.reply) and "Q-0017" not in done.reply
    assert "card ending" not in done.reply  # no payments nobody asked for


def test_another_shoppers_order_is_refused_with_nothing_of_it_shown_or_traced(tea_shop: Components) -> None:
    svc, llm = service(tea_shop)

    done = ask(svc, "What's the status of order #Q-0099?")

    assert "isn't one of them" in done.reply and llm.calls == []
    stored = svc.turns.get_turn(done.turn_id)
    assert stored is not None
    for secret in ("Secret Oolong Sampler", "LP5550001", "31.00", "Bo Fennick"):
        assert secret not in done.reply and secret not in str(stored.trace)


def test_the_owner_gets_the_same_order(tea_shop: Components) -> None:
    svc, _ = service(tea_shop, "I am not sure.")

    assert "shipped" in first_sentence(ask(svc, "What's the status of order #Q-0099?", who="bo").reply)


def test_a_drifting_policy_reply_is_replaced_by_the_policys_own_sentence_and_title(tea_shop: Components) -> None:
    svc, _ = service(tea_shop, "No, we only allow gift cards.")

    done = ask(svc, "Can I add a gift message?")

    assert done.verdict == "fallback" and "only allow" not in done.reply
    assert done.reply.startswith("Gift messages are free.") and done.reply.endswith(f"Source: {TITLE}.")
    assert "**" not in done.reply and "parcels.md" not in done.reply


@pytest.mark.parametrize("reply", [
    "We will refund your order within 14 days of delivery.",
    "Tea points are only available on your first order.",
    "The 14-day window is a 14-day window, and the gift box is a 14-day gift box.",
])
def test_claims_with_the_shops_words_but_not_its_facts_do_not_pass(tea_shop: Components, reply: str) -> None:
    svc, _ = service(tea_shop, reply)

    done = ask(svc, "How long until I get my refund when I send tea back?")

    assert done.verdict == "fallback" and reply not in done.reply and "5-7 business days" in done.reply


def test_a_policy_answer_is_the_policys_own_sentence_and_names_its_source(tea_shop: Components) -> None:
    svc, llm = service(tea_shop, "Yes, gift messages cost nothing at all.")  # would not be asked

    done = ask(svc, "Is a gift message free?")

    # built from the policy without the model (issue 13 item 5), for a signed-in shopper too
    assert done.verdict == "fallback" and llm.calls == [] and "cost nothing" not in done.reply
    assert done.reply.startswith("Gift messages are free.") and done.reply.endswith(f" Source: {TITLE}.")


def test_a_rule_question_about_my_order_is_answered_from_the_policy(tea_shop: Components) -> None:
    svc, _ = service(tea_shop, "I am not sure.")

    done = ask(svc, "If I cancel an order I paid by card, how long until I get my money back?")

    stored = svc.turns.get_turn(done.turn_id)
    assert stored is not None and stored.intent == "policy"
    assert "3 business days" in first_sentence(done.reply) and "can't find" not in done.reply

