"""Answers over one attribute of many products, computed from the catalogue's own values in two layouts:
durations written as text ("Ships in 2 weeks", "No warranty") and numbers whose unit is in the attribute's name."""

from __future__ import annotations

from typing import Any

import pytest

from assistant.shop.catalog_index import CatalogIndex
from assistant.turn.attribute_stats import aggregate_answer, read_value
from assistant.turn.product_facts import answer, catalog_aggregate
from assistant.turn.understanding import understand


def _product(i: int, category: str, **attributes: Any) -> dict[str, Any]:
    return {"id": f"p{i}", "name": f"Item {i} {category.rstrip('s')}", "category": category, "price": 10.0 + i,
            "in_stock": True, "attributes": attributes}


TEXT = CatalogIndex({p["id"]: p for p in [
    _product(1, "lamps", delivery="Ships overnight", guarantee="Lifetime guarantee", returns="14 days returns"),
    _product(2, "lamps", delivery="Ships in 2 weeks", guarantee="No guarantee", returns="No returns"),
    _product(3, "chairs", delivery="Ships in 1-2 business days", guarantee="1 year guarantee",
             returns="14 days returns"),
    _product(4, "chairs", delivery="Ships in 1 month", guarantee="3 months guarantee", returns="45 days returns"),
    _product(5, "chairs", delivery="Ships overnight", guarantee="1 year guarantee", returns="45 days returns"),
]})
NUMBERS = CatalogIndex({p["id"]: p for p in [
    _product(1, "kettles", cover_months=24), _product(2, "kettles", cover_months=24),
    _product(3, "toasters", cover_months=12), _product(4, "toasters", cover_months=36),
]})


def ask(catalog: CatalogIndex, question: str) -> str | None:
    u = understand(question, catalog.categories, catalog.brands, vocabulary=catalog.vocabulary)
    found = answer(question, u, catalog) if u.intent in ("product", "recommendation") else \
        catalog_aggregate(question, u, catalog)
    return found.text if found else None


@pytest.mark.parametrize(("question", "says"), [
    ("What's the fastest delivery you offer?", "overnight"),
    ("What's the longest a product can take to ship?", "1 month"),
    ("What's the longest delivery time for your lamps?", "2 weeks"),
    ("What's the longest guarantee you offer?", "Lifetime"),
    ("Among products that have a guarantee, what's the shortest one?", "3 months"),
    ("How many products ship overnight?", "2 of our products"),
    ("How many products have no guarantee at all?", "1 of our products"),
    ("How many of your products come with a 45-day returns window?", "2 of our products"),
    ("Which guarantee is the most common?", "1 year guarantee"),
    ("Do all your products have the same delivery?", "No, the delivery differs"),
    ("In general, how long can delivery take? What's the range?", "from overnight"),
])
def test_text_values_are_read_as_durations_and_counted(question: str, says: str) -> None:
    reply = ask(TEXT, question)
    assert reply is not None and says in reply, reply


def test_the_none_value_is_left_out_of_the_shortest_and_counted_apart() -> None:
    reply = ask(TEXT, "What's the shortest guarantee you offer?")
    assert reply is not None and "3 months" in reply and "1 product has none" in reply, reply


@pytest.mark.parametrize(("question", "says"), [
    ("What's the longest cover you offer?", "36 months"),
    ("What's the cover on a kettle?", "24 months (all 2 of them)"),
    ("How long is the shortest cover on your toasters?", "12 months"),
])
def test_numbers_take_the_unit_of_the_attribute_name(question: str, says: str) -> None:
    reply = ask(NUMBERS, question)
    assert reply is not None and says in reply, reply


def test_a_named_product_or_a_yes_no_attribute_is_not_an_aggregate() -> None:
    assert ask(TEXT, "What is the guarantee of the Item 3 chair?") is None or "differs" not in str(
        ask(TEXT, "What is the guarantee of the Item 3 chair?"))
    flags = CatalogIndex({p["id"]: p for p in [_product(1, "tents", waterproof=True),
                                                _product(2, "tents", waterproof=False)]})
    assert aggregate_answer("Which of your tents are waterproof?", list(flags.products.values()), "our tents") is None


def test_values_are_read_in_days() -> None:
    assert read_value("Ships in 1-2 business days", "shipping").size == 1.5
    assert read_value("2 weeks", "x").size == 14
    assert read_value("No warranty", "warranty").none
    assert read_value(24, "warranty_months").phrase == "24 months"
