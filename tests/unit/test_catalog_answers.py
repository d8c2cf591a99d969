"""Questions about the catalogue answered in code, through the whole turn (scripted model, fakes), on a shop
made here that looks nothing like the demo: its own categories, option names, id format and currency.

The scripted model answers "I can help with that." unless a test scripts it: that reply fails the computed
answer's requirements, so what the shopper gets is the reply built from the facts."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from assistant.components import Components, build_assistant, build_components
from assistant.config.loading import load_settings
from assistant.domain import DoneEvent, Event, ShopperIdentity
from assistant.llm import FakeChatModel
from assistant.shop.shop_import import ingest_shop

PRODUCTS: list[dict[str, Any]] = [
    {"id": "tea/001", "name": "Smoky Lapsang Tin", "category": "loose-leaf-tea", "description": "Smoked black tea.",
     "price": 12.5, "currency": "EUR", "tags": ["black tea", "gongfu"],
     "variants": [{"id": "tea/001:a", "options": {"weight": "100 g", "grade": "standard"}, "price": 12.5, "stock": 4},
                  {"id": "tea/001:b", "options": {"weight": "250 g", "grade": "standard"}, "price": 26.0, "stock": 0},
                  {"id": "tea/001:c", "options": {"weight": "250 g", "grade": "reserve"}, "price": 31.0, "stock": 2}]},
    {"id": "tea/002", "name": "Jasmine Pearl Tin", "category": "loose-leaf-tea", "description": "Rolled green tea.",
     "price": 18.0, "currency": "EUR", "stock": 7, "tags": ["green tea", "floral"],
     "attributes": {"caffeine_mg": 25, "organic": True, "harvest": "spring"}},
    {"id": "tea/003", "name": "Mountain Oolong Tin", "category": "loose-leaf-tea", "description": "A rolled oolong.",
     "price": 22.0, "currency": "EUR", "stock": 0, "tags": ["oolong", "gongfu"]},
    {"id": "tool/010", "name": "Hori Garden Trowel", "category": "hand-tools", "description": "A digging knife.",
     "price": 24.0, "currency": "EUR", "attributes": {"blade_length_cm": 14},
     "variants": [{"id": "tool/010:a", "options": {"handle": "ash", "blade finish": "copper"}, "price": 24.0,
                   "stock": 3},
                  {"id": "tool/010:b", "options": {"handle": "walnut", "blade finish": "copper"}, "price": 29.0,
                   "stock": 0},
                  {"id": "tool/010:c", "options": {"handle": "walnut", "blade finish": "steel"}, "price": 27.0,
                   "stock": 1}]},
    {"id": "tool/011", "name": "Bypass Pruner", "category": "hand-tools", "description": "Sharp pruning shears.",
     "price": 35.0, "currency": "EUR", "stock": 2, "rating": 4.6, "review_count": 120, "tags": ["pruners"]},
    {"id": "tool/012", "name": "Kneeler Pad", "category": "hand-tools", "description": "A foam pad.",
     "price": 15.0, "currency": "EUR", "stock": 9},
    {"id": "tool/013", "name": "Seed Tray", "category": "hand-tools", "description": "A tray for seedlings.",
     "price": 9.0, "currency": "EUR", "stock": 0},
    {"id": "cer/100", "name": "Glazed Tea Bowl", "category": "ceramics", "description": "A hand-thrown bowl.",
     "price": 40.0, "currency": "EUR",
     "variants": [{"id": "cer/100:a", "options": {"glaze": "celadon", "colour": "sea green"}, "stock": 2},
                  {"id": "cer/100:b", "options": {"glaze": "tenmoku", "colour": "ink black"}, "stock": 1},
                  {"id": "cer/100:c", "options": {"glaze": "shino", "colour": "white"}, "stock": 0}]},
    {"id": "cer/101", "name": "Serving Plate", "category": "ceramics", "description": "A stoneware plate.",
     "price": 19.0, "currency": "EUR",
     "variants": [{"id": "cer/101:a", "options": {"size": "5.8-inch"}, "stock": 3},
                  {"id": "cer/101:b", "options": {"size": "8-inch"}, "price": 24.0, "stock": 0}]},
]
CUSTOMERS = [{"id": "k-7", "name": "Ines Duarte", "tier": "gold", "consent": {"personalization": True,
                                                                               "marketing": True},
              "preferences": [{"kind": "category", "value": "loose-leaf-tea"}], "orders": []}]
OFFERS = [{"id": "steep5", "code": "STEEP5", "title": "5 EUR off tea", "description": "5 EUR off any tea.",
           "kind": "fixed", "value": 5, "currency": "EUR", "eligibility": {"tiers": [], "categories": []}}]
INES = ShopperIdentity("k-7")


@pytest.fixture(scope="module")
def components(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Components]:
    root = tmp_path_factory.mktemp("teahouse")
    (root / "products.jsonl").write_text("\n".join(json.dumps(p) for p in PRODUCTS))
    (root / "customers.jsonl").write_text("\n".join(json.dumps(c) for c in CUSTOMERS))
    (root / "offers.json").write_text(json.dumps(OFFERS))
    settings = load_settings(["test"], env={}, overrides={
        "app": {"data_dir": str(tmp_path_factory.mktemp("teahouse-data"))},
        "knowledge": {"collection_prefix": f"c{uuid.uuid4().hex[:8]}_"}, "embeddings": {"dimensions": 1024}})
    built = build_components(settings)
    reports = ingest_shop(root, built.knowledge, built.stores.customers, built.stores.offers)
    assert all(r.ok for r in reports), [r.summary() for r in reports]
    built.catalog.invalidate()
    yield built
    built.stores.close()


def ask(components: Components, message: str, *replies: str) -> tuple[DoneEvent, list[Event], FakeChatModel]:
    llm = FakeChatModel().enqueue(replies)
    service = build_assistant(components, llm=llm)
    events = list(service.respond(INES, None, message))
    done = events[-1]
    assert isinstance(done, DoneEvent)
    return done, events, llm


def first_sentence(reply: str) -> str:
    return re.split(r"(?<=[.!?])\s+", reply, maxsplit=1)[0]


def cards(events: list[Event]) -> list[str]:
    return [p["id"] for e in events if e.type == "products" for p in e.to_dict()["products"]]


def amounts(text: str) -> set[str]:
    return set(re.findall(r"\d+\.\d\d", text))


# -- prices and stock of a named variant -----------------------------------------------------------------
@pytest.mark.parametrize("message", [
    "How much is the Smoky Lapsang Tin (weight 250 g, grade reserve)?",
    "what would the smoky lapsang tin in 250 g reserve grade cost me",
])
def test_the_price_of_a_named_variant_is_that_variants_price(components: Components, message: str) -> None:
    done, events, _ = ask(components, message)

    assert amounts(first_sentence(done.reply)) == {"31.00"}
    assert cards(events) == ["tea/001"]


def test_without_options_the_price_is_the_range_of_the_variants(components: Components) -> None:
    done, _, _ = ask(components, "What's the price of the Smoky Lapsang Tin?")

    assert {"12.50", "31.00"} <= amounts(first_sentence(done.reply)) and "26.00" not in done.reply


def test_an_out_of_stock_variant_is_said_to_be_out_of_stock_with_an_alternative(components: Components) -> None:
    done, events, _ = ask(components, "Can I get the Hori Garden Trowel with a walnut handle and copper finish?")

    first, rest = first_sentence(done.reply), done.reply[len(first_sentence(done.reply)):]
    assert first.startswith("No,") and "out of stock" in first
    assert "in stock" in rest and ("ash" in rest or "steel" in rest)
    assert "Ines" not in done.reply and cards(events) == ["tool/010"]


def test_an_in_stock_variant_is_a_yes(components: Components) -> None:
    done, _, _ = ask(components, "Do you have the Hori Garden Trowel in walnut with steel blade finish?")

    assert first_sentence(done.reply).startswith("Yes,") and "out of stock" not in done.reply


def test_a_simple_product_out_of_stock(components: Components) -> None:
    done, _, _ = ask(components, "Is the Mountain Oolong Tin available right now?")

    assert first_sentence(done.reply).startswith("No,") and "out of stock" in done.reply


# -- counts, cheapest, dearest, compare, attributes -----------------------------------------------------------
def test_how_many_values_of_an_option_are_in_stock(components: Components) -> None:
    done, _, _ = ask(components, "How many glazes of the Glazed Tea Bowl are available?")

    assert re.search(r"\b2\b", first_sentence(done.reply)) and "celadon" in done.reply and "tenmoku" in done.reply


def test_the_cheapest_in_a_category_named_in_the_shops_words(components: Components) -> None:
    done, events, _ = ask(components, "What's the least expensive loose leaf tea you have?")

    assert "Smoky Lapsang Tin" in first_sentence(done.reply) and "12.50" in first_sentence(done.reply)
    assert cards(events)[0] == "tea/001"


def test_the_dearest_in_a_category(components: Components) -> None:
    done, _, _ = ask(components, "Which hand tool is the priciest?")

    assert "Bypass Pruner" in first_sentence(done.reply) and "35.00" in first_sentence(done.reply)


def test_the_cheapest_out_of_stock_is_said_with_the_cheapest_in_stock(components: Components) -> None:
    done, events, _ = ask(components, "What is the cheapest hand tool?")

    assert "Seed Tray" in first_sentence(done.reply) and "9.00" in first_sentence(done.reply)
    assert "out of stock" in done.reply and "Kneeler Pad" in done.reply
    assert cards(events) == ["tool/013", "tool/012"]


def test_which_of_two_named_products_is_more_expensive(components: Components) -> None:
    done, events, _ = ask(components, "Is the Jasmine Pearl Tin more expensive than the Mountain Oolong Tin?")

    assert first_sentence(done.reply).startswith("The Mountain Oolong Tin is more expensive")
    assert set(cards(events)) == {"tea/002", "tea/003"}


@pytest.mark.parametrize(("message", "expected"), [
    ("How much caffeine does the Jasmine Pearl Tin have, in mg?", "25 mg"),
    ("Is the Jasmine Pearl Tin organic?", "Yes, the Jasmine Pearl Tin is organic."),
    ("How long is the blade of the Hori Garden Trowel?", "14 cm"),
    ("How is the Bypass Pruner rated?", "4.6 out of 5"),
])
def test_an_attribute_of_a_named_product(components: Components, message: str, expected: str) -> None:
    done, _, _ = ask(components, message)

    assert expected in first_sentence(done.reply)


# -- what the model sees and may say ------------------------------------------------------------------------
def test_a_computed_answer_is_sent_without_the_model(components: Components) -> None:
    done, events, llm = ask(components, "How much is the Smoky Lapsang Tin (weight 250 g, grade reserve)?",
                            "The Smoky Lapsang Tin in 250 g, reserve grade costs €26.00.")

    assert llm.calls == [] and done.verdict == "fallback" and "replace" not in [e.type for e in events]
    assert amounts(first_sentence(done.reply)) == {"31.00"} and "26.00" not in done.reply


def test_another_variants_price_from_the_model_is_replaced_by_the_answer(components: Components) -> None:
    done, _, _ = ask(components, "How much is the Smoky Lapsang Tin (weight 250 g, grade reserve)?",
                     "The Smoky Lapsang Tin costs €12.50.")

    assert done.verdict == "fallback" and amounts(first_sentence(done.reply)) == {"31.00"}


def test_a_model_that_says_yes_to_an_out_of_stock_variant_is_replaced(components: Components) -> None:
    done, _, _ = ask(components, "Is the Smoky Lapsang Tin (weight 250 g, grade standard) in stock?",
                     "Yes, the Smoky Lapsang Tin (weight 250 g, grade standard) is in stock.")

    assert done.verdict == "fallback" and "out of stock" in first_sentence(done.reply)


def test_a_model_that_calls_the_dearer_one_cheaper_is_replaced(components: Components) -> None:
    done, _, _ = ask(components, "Which is cheaper, the Jasmine Pearl Tin or the Mountain Oolong Tin?",
                     "The Mountain Oolong Tin is cheaper, at €22.00, while the Jasmine Pearl Tin is at €18.00.")

    assert done.verdict == "fallback" and first_sentence(done.reply).startswith("The Jasmine Pearl Tin is cheaper")


def test_a_price_must_be_said_as_a_price(components: Components) -> None:
    done, _, _ = ask(components, "How much is the Bypass Pruner?", "The Bypass Pruner is available in 35.00 units.")

    assert done.verdict == "fallback" and "35.00" in done.reply and "units" not in done.reply


def test_markdown_from_the_model_is_not_shown(components: Components) -> None:
    done, _, _ = ask(components, "Is the Bypass Pruner in stock?", "**Yes**, the Bypass Pruner is in stock.")

    assert "*" not in done.reply and done.reply.startswith("Yes, the Bypass Pruner is in stock")


def test_offers_stay_in_the_panel_unless_asked_for(components: Components) -> None:
    done, events, _ = ask(components, "Can you recommend a tea for me?")
    offers = [o for e in events if e.type == "offers" for o in e.to_dict()["offers"]]

    assert cards(events) and offers and "STEEP5" not in done.reply

    asked, asked_events, _ = ask(components, "Could you recommend a tea that is on sale?")
    assert "STEEP5" in asked.reply and cards(asked_events)


def test_a_yes_no_search_answers_yes_without_the_shoppers_name(components: Components) -> None:
    done, events, _ = ask(components, "Do you have any pruners?")

    assert done.reply.startswith("Yes") and "Ines" not in done.reply and "tool/011" in cards(events)


def test_a_size_the_catalogue_has_is_kept_whole(components: Components) -> None:
    done, events, _ = ask(components, "Do you have a serving plate in size 5.8-inch?")

    assert "cer/101" in cards(events) and "Serving Plate" in done.reply


# -- questions the shop's data cannot answer ---------------------------------------------------------------
@pytest.mark.parametrize("message", ["Can you recommend a good dentist near me?",
                                     "What will the weather be like in Lisbon tomorrow?",
                                     "Should I buy shares in a tech company this week?"])
def test_a_question_the_shop_cannot_answer_declines_without_products(components: Components, message: str) -> None:
    done, events, _ = ask(components, message)

    assert cards(events) == []
    assert "don't know" in done.reply and "person" in done.reply


def test_a_categorys_name_is_not_read_as_an_attribute_of_its_products() -> None:
    """"the cheapest in the skincare category" asks for the cheapest, not for the values of ``skin_type``."""
    from assistant.shop.catalog_index import CatalogIndex
    from assistant.turn.product_facts import answer
    from assistant.turn.understanding import understand
    from knowledge.catalog_import import normalize

    records = [normalize({"id": f"s{i}", "name": name, "category": "skincare", "price": price, "stock": 3,
                          "attributes": {"skin_type": kind}})
               for i, (name, price, kind) in enumerate([("Lip Balm", 9.0, "all"), ("Night Cream", 49.0, "dry"),
                                                        ("Day Lotion", 19.0, "sensitive")])]
    catalog = CatalogIndex({p["id"]: p for p in records})
    for question, kind, name in (("What is the cheapest product in the skincare category?", "cheapest", "Lip Balm"),
                                 ("Which is the most expensive product in the skincare category?", "dearest",
                                  "Night Cream")):
        found = answer(question, understand(question, vocabulary=catalog.vocabulary), catalog)
        assert found is not None and found.kind == kind and name in found.text
