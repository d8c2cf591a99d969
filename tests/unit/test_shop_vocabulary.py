"""The shop's vocabulary is learned from its catalogue: category words, option values (colours, sizes),
product names. A shop made here that looks nothing like the demo; no word list decides what it sells."""

from __future__ import annotations

from typing import Any

import pytest

from assistant.evaluation.runner import ShopFacts, check_case
from assistant.personalization.preference_learning import extract_preferences
from assistant.shop.catalog_index import CatalogIndex
from assistant.shop.shop_vocabulary import ShopVocabulary
from assistant.turn.product_facts import answer
from assistant.turn.understanding import understand

PRODUCTS: list[dict[str, Any]] = [
    {"id": "sku:0001", "name": "Harbour Wool Beanie", "category": "knit-hats", "price": 30.0, "currency": "GBP",
     "tags": ["merino"], "variants": [
         {"id": "sku:0001-1", "options": {"colour": "moss", "fit": "S"}, "stock": 2},
         {"id": "sku:0001-2", "options": {"colour": "rust", "fit": "L"}, "stock": 0}]},
    {"id": "sku:0002", "name": "Fisherman Rib Beanie", "category": "knit-hats", "price": 34.0, "currency": "GBP",
     "tags": ["merino", "commuting"], "stock": 4},
    {"id": "sku:0003", "name": "Cable Knit Mittens", "category": "hand-warmers", "price": 28.0, "currency": "GBP",
     "tags": ["merino"], "variants": [{"id": "sku:0003-1", "options": {"colour": "moss", "size": "7"}, "stock": 1},
                                      {"id": "sku:0003-2", "options": {"colour": "oat", "size": "8"}, "stock": 5}]},
    {"id": "sku:0004", "name": "Thrummed Mittens", "category": "hand-warmers", "price": 41.0, "currency": "GBP",
     "stock": 1, "tags": ["fleece", "commuting"]},
    {"id": "sku:0005", "name": "Phone Stand", "category": "desk", "price": 12.0, "currency": "GBP",
     "variants": [{"id": "sku:0005-1", "options": {"size": "6.1-inch"}, "stock": 3}]},
]
INDEX = CatalogIndex({p["id"]: p for p in PRODUCTS})
VOCABULARY = INDEX.vocabulary


def test_a_category_is_named_by_the_words_its_products_use() -> None:
    assert understand("any beanies in stock?", vocabulary=VOCABULARY).categories == ("knit-hats",)
    assert understand("I need warm mittens", vocabulary=VOCABULARY).categories == ("hand-warmers",)
    assert understand("do you have hand warmers?", vocabulary=VOCABULARY).categories == ("hand-warmers",)


def test_a_word_the_shop_does_not_use_names_no_category() -> None:
    assert understand("do you sell trainers or sneakers?", vocabulary=VOCABULARY).categories == ()
    # a tag of two categories names both
    assert set(understand("a merino thing", vocabulary=VOCABULARY).categories) == {"knit-hats", "hand-warmers"}


def test_colours_and_sizes_are_option_values_the_catalogue_has() -> None:
    u = understand("Cable Knit Mittens in moss, size 7 please", vocabulary=VOCABULARY)

    assert u.colours == ("moss",) and u.size == "7" and u.products == ("sku:0003",)
    assert understand("mittens in purple", vocabulary=VOCABULARY).colours == ()  # the shop has no purple


def test_a_size_that_is_not_an_option_value_is_no_size_at_all() -> None:
    assert understand("a phone stand for a size 5.8-inch phone", vocabulary=VOCABULARY).size is None
    assert understand("a phone stand in size 6.1-inch", vocabulary=VOCABULARY).size == "6.1-inch"
    # a letter value is an everyday word: only beside its option's name or written as the catalogue writes it
    assert understand("is it s or m?", vocabulary=VOCABULARY).options == ()
    assert ("fit", "S") in understand("the Harbour Wool Beanie in fit S", vocabulary=VOCABULARY).options


def test_a_name_inside_a_longer_name_is_not_a_second_product() -> None:
    products = [*PRODUCTS, {"id": "sku:0009", "name": "Mittens", "category": "hand-warmers", "price": 9.0,
                            "currency": "GBP", "stock": 1}]
    vocabulary = ShopVocabulary.from_products(products)

    assert vocabulary.named_products("Is the Thrummed Mittens in stock?") == ["sku:0004"]
    assert vocabulary.named_products("Are the Mittens in stock?") == ["sku:0009"]
    assert vocabulary.named_products("what mittens do you have?") == []  # the category's word, not the product


@pytest.mark.parametrize(("message", "kind", "says"), [
    ("How much is the Harbour Wool Beanie in rust, fit L?", "price", "£30.00"),
    ("Is the Harbour Wool Beanie (colour rust, fit L) in stock?", "stock", "out of stock"),
    ("How many colours does the Cable Knit Mittens come in?", "count", "2"),
    ("Which is cheaper: the Thrummed Mittens or the Fisherman Rib Beanie?", "compare", "Fisherman Rib Beanie"),
    ("what's your most expensive beanie", "dearest", "Fisherman Rib Beanie"),
])
def test_each_kind_of_question_becomes_a_computed_answer(message: str, kind: str, says: str) -> None:
    found = answer(message, understand(message, vocabulary=VOCABULARY), INDEX)

    assert found is not None and found.kind == kind and says in found.text.split(". ")[0]
    assert found.problems(found.text) == []


def test_an_answer_requires_its_fact_in_the_first_sentence() -> None:
    message = "How much is the Cable Knit Mittens in oat?"
    found = answer(message, understand(message, vocabulary=VOCABULARY), INDEX)

    assert found is not None
    assert found.problems("Sure! The mittens cost £28.00.")  # the price is not in the first sentence
    assert not found.problems("They cost £28.00.")


def test_preferences_are_learned_in_the_shops_words() -> None:
    found = {(e.kind, e.value) for e in extract_preferences(
        "I love moss colour beanies, size 8 for mittens. Something for winter walks? No rust please.",
        vocabulary=VOCABULARY)}

    assert {("category", "knit-hats"), ("colour", "moss"), ("size", "8"), ("dislike", "rust")} <= found
    # "mittens" is what a thing is, not what it is for; "winter walks" are not the shop's words
    assert not any(kind == "occasion" for kind, _ in found)
    assert {(e.kind, e.value) for e in extract_preferences("something warm for commuting",
                                                           vocabulary=VOCABULARY)} == {("occasion", "commuting")}


def test_the_golden_sets_size_check_reads_the_cards_size_options() -> None:
    shop = ShopFacts(tastes={"k": {"size": ["8"]}}, personalized={"k": True}, owned={}, all_codes=set())
    case = {"customer": "k", "checks": {"on_preference": True}}

    def card(options: dict[str, list[str]]) -> dict[str, Any]:
        return {"id": "x", "name": "Gloves", "price": 1.0, "category": "hand-warmers", "in_stock": True,
                "reason": "r", "options": options}

    events = [{"type": "products", "products": [card({"size": ["7"]})]}]
    assert check_case(case, "", events, shop) == ["Gloves is not in stock in size 8"]
    assert check_case(case, "", [{"type": "products", "products": [card({"size": ["8", "9"]})]}], shop) == []
    # letter sizes are another sizing system: a numeric size says nothing about them
    assert check_case(case, "", [{"type": "products", "products": [card({"size": ["S", "M"]})]}], shop) == []
