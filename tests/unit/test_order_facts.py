"""What the turn knows about an order: status, tracking, items with options, payments and refunds."""

from dataclasses import replace

from assistant.components import Components
from assistant.turn.facts import order_details, order_line


def test_an_order_line_has_items_options_tracking_and_payment(demo_components: Components) -> None:
    line = order_line(demo_components.stores.orders.get("C001", "NW-100073"))

    assert "status shipped" in line and "(size S, colour white)" in line
    assert "Tracking: UPS 1Z5GAGTR0388899375." in line and "Paid $70.97 with visa ending 4242" in line


def test_a_pending_order_shows_a_hold_not_a_charge(demo_components: Components) -> None:
    line = order_line(demo_components.stores.orders.get("C001", "NW-100091"))

    assert "A hold of $89.99 on paypal" in line and "Paid" not in line


def test_refunds_done_and_pending_and_requested_returns_are_told_apart(demo_components: Components) -> None:
    order = demo_components.stores.orders.get("C001", "NW-100065")
    pending = {"kind": "refund", "method": "visa ending 4242", "amount": 119.95, "status": "pending"}
    returned = replace(order, payments=(*order.payments, pending),
                       items=(replace(order.items[0], status="return_requested"),))

    line = order_line(returned)

    assert "Refund of $119.95 to visa ending 4242 pending" in line and "Return requested for" in line


def test_order_details_add_the_address_and_history(demo_components: Components) -> None:
    details = order_details(demo_components.stores.orders.get("C001", "NW-100091"))

    assert "Ships to: 2217 Alder Creek Road, Portland, OR, 97214." in details and "History:" in details
