"""The order policy as code, on the demo shop's orders (read only): what may be done, and what would happen."""

import json
from datetime import timedelta

import pytest

from assistant.components import Components
from assistant.orders.order_actions import parse_address
from assistant.orders.order_policy import OrderPolicy, PendingAction, Refusal, recheck
from assistant.records import Order
from assistant.settings import OrderPolicySettings
from tests.unit.conftest import DEMO_NOW


@pytest.fixture
def policy(demo_components: Components) -> OrderPolicy:
    return OrderPolicy(OrderPolicySettings(), demo_components.catalog.get())


def get(demo_components: Components, customer: str, order_id: str) -> Order:
    order = demo_components.stores.orders.get(customer, order_id)
    assert order is not None
    return order


def test_a_pending_order_may_be_cancelled_and_its_hold_released(policy: OrderPolicy,
                                                                demo_components: Components) -> None:
    action = policy.cancel(get(demo_components, "C001", "NW-100091"), "a1", DEMO_NOW)

    assert isinstance(action, PendingAction) and action.refund is not None
    assert (action.refund.kind, action.refund.amount, action.refund.method) == ("authorization_release", 89.99,
                                                                                "paypal")


@pytest.mark.parametrize("customer, order_id, word", [("C001", "NW-100073", "shipped"),
                                                       ("C002", "NW-100080", "processed"),
                                                       ("C004", "NW-100049", "cancelled")])
def test_only_pending_orders_may_be_cancelled(policy: OrderPolicy, demo_components: Components, customer: str,
                                              order_id: str, word: str) -> None:
    refusal = policy.cancel(get(demo_components, customer, order_id), "a1", DEMO_NOW)

    assert isinstance(refusal, Refusal) and refusal.reason == "status" and word in refusal.message


def test_a_gold_member_returns_for_free_to_the_original_card(policy: OrderPolicy,
                                                             demo_components: Components) -> None:
    order = get(demo_components, "C001", "NW-100065")

    action = policy.return_items(order, list(order.items), "gold", "a1", DEMO_NOW)

    assert isinstance(action, PendingAction) and action.refund is not None
    assert (action.refund.amount, action.refund.fee, action.refund.method) == (119.95, 0.0, "visa ending 4242")


def test_a_standard_member_pays_the_return_label(policy: OrderPolicy, demo_components: Components) -> None:
    order = get(demo_components, "C030", "NW-100060")

    action = policy.return_items(order, list(order.items), "standard", "a1", DEMO_NOW)

    assert isinstance(action, PendingAction) and action.refund is not None
    assert (action.refund.amount, action.refund.fee) == (23.04, 6.95)  # 29.99 - 6.95; shipping not refunded


def test_a_gift_card_payment_is_refunded_to_a_gift_card(policy: OrderPolicy, demo_components: Components) -> None:
    order = get(demo_components, "C032", "NW-100062")

    action = policy.return_items(order, list(order.items), "platinum", "a1", DEMO_NOW)

    assert isinstance(action, PendingAction) and action.refund is not None and action.refund.method == "gift card"


def test_store_credit_refunds_when_the_shop_says_so(demo_components: Components) -> None:
    policy = OrderPolicy(OrderPolicySettings(refund_method="store_credit"), demo_components.catalog.get())
    order = get(demo_components, "C001", "NW-100065")

    action = policy.return_items(order, list(order.items), "gold", "a1", DEMO_NOW)

    assert isinstance(action, PendingAction) and action.refund is not None
    assert action.refund.method.startswith("store credit")


def test_the_return_window_counts_from_delivery(policy: OrderPolicy, demo_components: Components) -> None:
    order = get(demo_components, "C004", "NW-100067")  # delivered 2026-11-14
    items = list(order.items)

    inside = policy.return_items(order, items, "platinum", "a1", order.delivered_at + timedelta(days=30))
    outside = policy.return_items(order, items, "platinum", "a1", order.delivered_at + timedelta(days=30, minutes=1))

    assert isinstance(inside, PendingAction)
    assert isinstance(outside, Refusal) and outside.reason == "window" and "2026-12-14" in outside.message


def test_an_order_not_yet_delivered_cannot_be_returned(policy: OrderPolicy, demo_components: Components) -> None:
    order = get(demo_components, "C001", "NW-100091")

    refusal = policy.return_items(order, list(order.items), "gold", "a1", DEMO_NOW)

    assert isinstance(refusal, Refusal) and refusal.reason == "status" and "cancel" in refusal.message


def test_an_exchange_goes_only_to_an_in_stock_variant_of_the_same_product(policy: OrderPolicy,
                                                                          demo_components: Components) -> None:
    order = get(demo_components, "C001", "NW-100065")  # Tempo 3, size 8.5 blue
    item = order.items[0]

    allowed = policy.exchange(order, item, {"size": "8"}, "a1", DEMO_NOW)
    sold_out = policy.exchange(order, item, {"size": "9"}, "a2", DEMO_NOW)
    missing = policy.exchange(order, item, {"size": "15"}, "a3", DEMO_NOW)

    assert isinstance(allowed, PendingAction) and allowed.exchange_to == {
        "variant_id": "NW-RUN-001-15", "options": {"size": "8", "colour": "blue"}}
    assert isinstance(sold_out, Refusal) and sold_out.reason == "out_of_stock"
    assert isinstance(missing, Refusal) and missing.reason == "no_variant"


def test_the_address_may_change_to_a_us_state_while_pending(policy: OrderPolicy, demo_components: Components) -> None:
    order = get(demo_components, "C001", "NW-100091")
    good = parse_address("to 12 Pine Street, Apt 4, Seattle, WA 98101")
    foreign = parse_address("to 1 King Street, Toronto, ON 12345")
    assert good is not None and foreign is not None

    allowed = policy.change_address(order, good, "a1", DEMO_NOW)
    refused = policy.change_address(order, foreign, "a2", DEMO_NOW)

    assert isinstance(allowed, PendingAction) and allowed.address is not None and allowed.address["line2"] == "Apt 4"
    assert isinstance(refused, Refusal) and refused.reason == "address"


def test_a_shipped_order_keeps_its_address(policy: OrderPolicy, demo_components: Components) -> None:
    address = parse_address("12 Pine Street, Seattle, WA 98101")
    assert address is not None

    refusal = policy.change_address(get(demo_components, "C001", "NW-100073"), address, "a1", DEMO_NOW)

    assert isinstance(refusal, Refusal) and refusal.reason == "status"


def test_a_pending_action_survives_the_json_of_the_session_state(policy: OrderPolicy,
                                                                 demo_components: Components) -> None:
    order = get(demo_components, "C001", "NW-100065")
    action = policy.return_items(order, list(order.items), "gold", "a1", DEMO_NOW)
    assert isinstance(action, PendingAction)

    again = PendingAction.from_dict(json.loads(json.dumps(action.to_dict())))

    assert again == action and not again.expired(DEMO_NOW + timedelta(minutes=14))
    assert again.expired(DEMO_NOW + timedelta(minutes=15))


def test_the_policy_is_checked_again_on_the_order_as_it_is_now(policy: OrderPolicy,
                                                                demo_components: Components) -> None:
    order = get(demo_components, "C001", "NW-100091")
    action = policy.cancel(order, "a1", DEMO_NOW)
    assert isinstance(action, PendingAction)
    processed = Order(**{**order.__dict__, "status": "processed"})

    refusal = recheck(policy, action, processed, "gold", DEMO_NOW)

    assert refusal is not None and "processed" in refusal.message
