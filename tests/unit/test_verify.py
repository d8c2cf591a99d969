"""The verifier: what it must reject and what it must let through."""

from assistant.shop.catalog_index import CatalogIndex
from assistant.turn.verifier import Verifier

CATALOG = CatalogIndex({
    "P1": {"name": "Stridewell Tempo 3 Road Running Shoe", "brand": "Stridewell", "category": "running-shoes"},
    "P2": {"name": "Ridgeline Summit Pro Waterproof Hiking Boot", "brand": "Ridgeline", "category": "hiking-boots"},
})
V = Verifier(CATALOG, {"TRAIL20", "RUNNER15"})
FACTS = ("Policy: You can return an item within 30 days of delivery. Refunds take 5-7 business days. "
         "Order NW-100234: status shipped, placed 2026-11-20, total $119.00. Offer: RUNNER15 15% off. "
         "Contact privacy@northwind.example.")


def problems(reply: str, **kw: object) -> tuple[str, ...]:
    return V.check(reply, FACTS, "my question about shoes under $100", **kw).problems  # type: ignore[arg-type]


def test_facts_pass() -> None:
    for reply in ["You can return an item within 30 days.", "Refunds take 5-7 business days.",
                  "Your order NW-100234 shipped on November 20 and cost $119.00.", "Use RUNNER15 for 15% off.",
                  "I found 2 options under $100.", "Write to privacy@northwind.example."]:
        assert problems(reply) == (), reply


def test_invented_facts_fail() -> None:
    for reply in ["You have 60 days to return.", "It costs $99.", "Use code TRAIL20!", "Use FREE100 now.",
                  "Your order NW-100999 is late.", "Refunds take 3-5 business days.",
                  "It was delivered on December 3.", "Mail me at someone@example.com."]:
        assert problems(reply), reply


def test_a_product_not_in_the_facts_fails_and_one_in_them_passes() -> None:
    reply = "Try the Ridgeline Summit Pro."

    assert problems(reply) and problems(reply, allowed_products=["P2"]) == ()


def test_prompt_leaks_and_echoes_fail() -> None:
    assert problems("The facts are: Shopper: Maya.")
    assert V.check("my question about shoes under $100?", FACTS, "my question about shoes under $100").problems


def test_amounts_must_come_from_the_evidence_when_given() -> None:
    evidence = "Refunds take 5-7 days."
    assert V.check("Refunds take 30 days.", FACTS, "how long do refunds take", evidence=evidence).problems
    assert not V.check("Refunds take 5-7 days.", FACTS, "how long", evidence="Refunds take 5-7 days.").problems


def test_intent_requirements() -> None:
    orders = [("NW-1", "shipped", "1Z999")]

    assert V.requirements("It is on its way.", "order_status", orders, [], []) != []
    assert V.requirements("It has shipped.", "order_status", orders, [], []) == []
    assert V.requirements("Nice shoes!", "product", [], ["P1"], []) != []
    assert V.requirements("The Tempo 3 is great.", "product", [], ["P1"], []) == []
    assert V.requirements("Yes!", "offers", [], [], ["RUNNER15"]) != []
    assert V.requirements("Running shoes get 6 months.", "policy", [], [], [], ("hiking-boots",)) != []
