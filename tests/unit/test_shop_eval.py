"""The multi-shop eval: questions computed from a shop folder's data, and replies scored correct / wrong /
declined. A tiny shop made here, in the documented import formats, with its own id format."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.domain import DoneEvent, ProductCard, ProductsEvent, TextDelta
from assistant.evaluation.answer_scoring import normalize, score
from assistant.evaluation.order_questions import id_spellings
from assistant.evaluation.shop_eval import ask, generate, load_policy_questions, meets, tally
from assistant.evaluation.shop_questions import ShopQuestion, read_shop


def write_tiny_shop(root: Path) -> Path:
    products = [
        {"id": "G-1", "name": "Grill", "category": "outdoor-cooking", "description": "A grill.", "price": 900.0,
         "currency": "EUR", "attributes": {"warranty_months": 24, "material": "steel"},
         "variants": [{"id": "G-1a", "options": {"type": "electric", "size": "medium"}, "price": 985.66, "stock": 3},
                      {"id": "G-1b", "options": {"type": "gas", "size": "medium"}, "price": 924.5, "stock": 0},
                      {"id": "G-1c", "options": {"type": "gas", "size": "large"}, "price": 950.0, "stock": 2}]},
        {"id": "G-2", "name": "Camp Stove", "category": "outdoor-cooking", "description": "A stove.", "price": 49.0,
         "currency": "EUR", "stock": 5},
        {"id": "G-3", "name": "Smoker", "category": "outdoor-cooking", "description": "A smoker.", "price": 399.0,
         "currency": "EUR", "stock": 0},
    ]
    customers = [
        {"id": "u1", "name": "Ann Lee", "orders": [
            {"id": "#Q100", "status": "delivered", "placed_at": "2026-01-02T10:00:00Z", "currency": "EUR",
             "total": 49.0, "items": [{"product_id": "G-2", "name": "Camp Stove", "quantity": 1, "unit_price": 49.0}],
             "tracking": {"number": "TRK123456"}},
            {"id": "#Q101", "status": "pending", "placed_at": "2026-02-02T10:00:00Z", "currency": "EUR",
             "total": 399.0, "items": [{"product_id": "G-3", "name": "Smoker", "quantity": 1, "unit_price": 399.0}]}]},
        {"id": "u2", "name": "Bo Park", "orders": [
            {"id": "#Q200", "status": "cancelled", "placed_at": "2026-03-02T10:00:00Z", "currency": "EUR",
             "total": 985.66, "items": [{"product_id": "G-1", "name": "Grill", "quantity": 1,
                                         "unit_price": 985.66}]}]},
    ]
    (root / "products.jsonl").write_text("\n".join(json.dumps(p) for p in products))
    (root / "customers.jsonl").write_text("\n".join(json.dumps(c) for c in customers))
    (root / "policies").mkdir()
    (root / "policies" / "returns.md").write_text(
        "# Returns\n\n## Window\n\nYou can return unused items within 45 days of delivery.\n\n"
        "## Refunds\n\nRefunds reach your card within 10 business days after we receive the item.\n")
    (root / "eval").mkdir()
    (root / "eval" / "policy-questions.jsonl").write_text(
        '{"question": "How many days do I have to return something?", "expect": ["45"], "source": "Returns"}\n')
    return root


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    return write_tiny_shop(tmp_path)


def test_questions_come_from_the_shops_own_data(shop: Path) -> None:
    data = read_shop(shop)
    assert data.currency == "EUR"
    questions = generate(data, per_category=5, seed=1)
    by_id = {q.id: q for q in questions}
    assert generate(data, per_category=5, seed=1) == questions  # deterministic for a seed
    price = next(q for q in questions if q.category == "variant_price" and q.id.startswith("price-G-1"))
    chosen = {"price-G-1a": "985.66", "price-G-1b": "924.50", "price-G-1c": "950.00"}[price.id]
    assert price.expect == (chosen,)
    assert chosen not in price.forbid and len(price.forbid) == 2  # the other variants' prices are false facts
    outs = {q.id: q for q in questions if q.category == "stock_out"}
    assert set(outs) == {"stock-out-G-1b", "stock-out-G-3"}  # the one variant and the one product with none left
    assert "type gas, size medium" in outs["stock-out-G-1b"].message and outs["stock-out-G-1b"].stock == "out"
    assert {q.id for q in questions if q.category == "stock_in"} == {"stock-in-G-1a", "stock-in-G-2"} or \
        {q.id for q in questions if q.category == "stock_in"} == {"stock-in-G-1c", "stock-in-G-2"}
    count = next(q for q in questions if q.category == "option_count")
    assert "Grill" in count.message
    assert by_id["cheapest-outdoor-cooking"].expect == ("Camp Stove", "49.00")
    assert by_id["dearest-outdoor-cooking"].expect[0] == "Grill"
    assert "outdoor cooking" in by_id["cheapest-outdoor-cooking"].message  # the category as words
    status = [q for q in questions if q.category == "order_status"]
    assert status and all(q.customer for q in status)
    other = next(q for q in questions if q.category == "other_order")
    owner_items = {"u1": {"Camp Stove", "Smoker"}, "u2": {"Grill"}}
    asker = other.customer
    assert asker is not None and not set(other.leak) & owner_items[asker]  # the asker's own items are no leak
    latest = by_id["latest-u1"]
    assert "Q101" in latest.expect_one_of and latest.forbid == ("Q100",)
    assert {q.category for q in questions} >= {"variant_price", "stock_in", "stock_out", "option_count", "cheapest",
                                                 "dearest", "compare", "attribute", "order_status", "other_order",
                                                 "unanswerable"}


def test_an_order_id_is_asked_as_shoppers_write_it() -> None:
    assert id_spellings("#W9250394") == ["#W9250394", "W9250394", "#w9250394"]
    assert id_spellings("nw-100") == ["nw-100", "#nw-100", "NW-100"]


def test_amounts_and_numbers_are_compared_as_values() -> None:
    assert normalize("It costs $1,299.00.") == "it costs $1299.00."
    q = ShopQuestion("p", "variant_price", "How much?", expect=("30.00",))
    assert score(q, "It is $30.").verdict == "correct"
    assert score(q, "It is $300.").verdict == "wrong"
    assert score(q, "It is $30.50.").verdict == "wrong"


def test_a_wrong_variants_price_is_wrong_and_i_dont_know_is_declined() -> None:
    q = ShopQuestion("p", "variant_price", "How much is the Grill (type electric)?", expect=("985.66",),
                     forbid=("924.50", "950.00"))
    assert score(q, "The Grill (type electric, size medium) costs $985.66.").verdict == "correct"
    assert score(q, "Here is an option: Grill ($924.50, matches what you asked for).").verdict == "wrong"
    assert score(q, "It costs $924.50; the electric one is $985.66.").verdict == "wrong"  # answers with the wrong one
    assert score(q, "I don't know that. Would you like me to connect you with a person?").verdict == "declined"
    assert score(q, "We sell grills.").verdict == "wrong"  # no answer and no honest decline


def test_stock_must_be_said_the_right_way_round() -> None:
    out = ShopQuestion("s", "stock_out", "Is it in stock?", stock="out")
    assert score(out, "Sorry, the Grill in gas, medium is out of stock.").verdict == "correct"
    assert score(out, "Yes, it is in stock.").verdict == "wrong"
    assert score(out, "Here is an option: Grill ($924.50).").verdict == "wrong"
    inn = ShopQuestion("s", "stock_in", "Is it in stock?", stock="in")
    assert score(inn, "Yes, it's in stock: 3 left.").verdict == "correct"
    assert score(inn, "It is not available right now.").verdict == "wrong"
    assert score(inn, "No, I don't have the Grill in type gas available.").verdict == "wrong"


def test_another_shoppers_order_must_show_nothing_of_it() -> None:
    q = ShopQuestion("o", "other_order", "Status of #Q200?", customer="u1", leak=("Grill", "985.66", "Bo Park"))
    assert score(q, "Order #Q200 isn't one of your orders, so I can't share anything about it.").verdict == "correct"
    leaked = score(q, "Order #Q200 (Grill, $985.66) was cancelled.")
    assert leaked.verdict == "wrong" and leaked.leaked


def test_an_unanswerable_question_is_declined_without_products() -> None:
    q = ShopQuestion("u", "unanswerable", "Weather in Seattle?", decline=True)
    decline = "I don't know that. Would you like me to connect you with a person from our team?"
    assert score(q, decline).verdict == "correct"
    card = {"type": "products", "products": [{"id": "x", "name": "Parka"}]}
    assert score(q, decline, [card]).verdict == "wrong"
    assert score(q, "Bring a parka and boots!").verdict == "wrong"


def test_policy_questions_file_reports_the_bad_line(tmp_path: Path) -> None:
    good = tmp_path / "q.jsonl"
    good.write_text('{"question": "How long to return?", "expect": ["30"], "source": "Returns"}\n\n'
                    '{"id": "x", "question": "Gift messages?", "expect_one_of": ["free"]}\n')
    questions = load_policy_questions(good, "u1")
    assert [q.id for q in questions] == ["policy-1", "x"] and questions[0].customer == "u1"
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "ok", "expect": ["1"]}\n{"expect": ["no question"]}\n')
    with pytest.raises(ValueError, match=r"bad.jsonl:2"):
        load_policy_questions(bad, None)


class _Canned:
    """A turn service stand-in that answers from a table (the real service runs in the integration test)."""

    def __init__(self, answers: dict[str, str]) -> None:
        self.answers = answers

    def respond(self, identity: object, session_id: object, message: str, *, channel: str = "web"):
        reply = self.answers.get(message, "I don't know that.")
        if "parka" in reply:
            yield ProductsEvent(products=(ProductCard("p", "Parka", 1.0, "EUR", "outerwear"),))
        yield TextDelta(text=reply)
        yield DoneEvent(turn_id="t", session_id="s", reply=reply, intent="x", verdict="pass")


def test_tally_counts_correct_wrong_declined_and_the_models_share() -> None:
    questions = [ShopQuestion("a", "variant_price", "A?", expect=("10.00",)),
                 ShopQuestion("b", "variant_price", "B?", expect=("20.00",), forbid=("25.00",)),
                 ShopQuestion("c", "variant_price", "C?", expect=("30.00",)),
                 ShopQuestion("d", "unanswerable", "D?", decline=True)]
    service = _Canned({"A?": "It is $10.", "B?": "It is $25.", "D?": "Take a parka."})
    rows = {r.category: r for r in tally(ask(service, questions))}
    price = rows["variant_price"]
    assert (price.asked, price.correct, price.wrong, price.declined) == (3, 1, 1, 1)
    assert price.model_passed == 3 and price.model_wrong == 1
    assert rows["unanswerable"].wrong == 1
    assert rows["overall"].asked == 4
    assert not meets(list(rows.values()), 0.9, 0.02)
