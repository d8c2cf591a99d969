"""What the turn knows about an order: status, tracking, items with options, payments and refunds."""

from dataclasses import replace

from assistant.components import Components
from assistant.turn.facts import order_details, order_line, order_prompt_line


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


def test_the_prompt_gives_an_order_with_only_what_the_question_asks(demo_components: Components) -> None:
    # each prompt token is prefill the shopper waits for: an order question's prompt carries the order's facts that
    # answer it and name the order, not its payments, every item's options or the shopper's profile
    order = demo_components.stores.orders.get("C001", "NW-100073")

    status = order_prompt_line(order, "status")
    total = order_prompt_line(order, "total")
    items = order_prompt_line(order, "items")

    assert "status shipped" in status and "Tracking: UPS 1Z5GAGTR0388899375." in status
    assert "Paid" not in status and "(size S, colour white)" not in status
    assert "$70.97" in total and "Paid $70.97 with visa ending 4242" in total and "Tracking" not in total
    assert "(size S, colour white)" in items and "Paid" not in items
    assert all(len(line) < len(order_line(order)) for line in (status, total, items))


def test_an_own_order_turn_prompts_without_the_shopper_line_and_verifies_against_everything(
        demo_components: Components) -> None:
    from assistant.turn.facts import Facts

    order = demo_components.stores.orders.get("C001", "NW-100073")
    profile = demo_components.stores.customers.get("C001")
    facts = Facts(question="What was the total of my order NW-100073?", intent="order_status", profile=profile,
                  orders=[order])

    assert facts.prompt_lines() == [order_prompt_line(order, "total")]
    assert any(line.startswith("Shopper:") for line in facts.lines())
    assert "Tracking: UPS 1Z5GAGTR0388899375." in facts.corpus()  # the verifier still knows the whole order
