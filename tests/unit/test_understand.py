"""Intent and entities by rules."""

import json

import pytest

from assistant.shop.shop_import import demo_shop_path
from assistant.shop.shop_vocabulary import ShopVocabulary
from assistant.turn.understanding import understand

CATEGORIES = ["running-shoes", "hiking-boots", "tops", "bottoms", "outerwear", "backpacks", "camping", "kitchen",
              "audio", "skincare"]
#: the demo shop's vocabulary, learned from its catalogue (colours, sizes, the words of its product names)
DEMO = ShopVocabulary.from_products(
    json.loads(line) for line in (demo_shop_path() / "products.jsonl").read_text().splitlines() if line.strip())


@pytest.mark.parametrize("message, intent", [
    ("What is your return policy?", "policy"),
    ("How much is express shipping?", "policy"),
    ("Can I return opened sunscreen?", "policy"),
    ("Where is my order NW-100234?", "order_status"),
    ("track my package", "order_status"),
    ("I want to cancel my order NW-100233", "order_action"),
    ("I need running shoes under $100", "product"),
    ("Do you sell waterproof jackets?", "product"),
    ("Can you recommend something for me?", "recommendation"),
    ("Do I have any coupons?", "offers"),
    ("talk to a human please", "handover"),
    ("hi!", "greeting"),
    ("what is the meaning of life", "other"),
])
def test_intents(message: str, intent: str) -> None:
    assert understand(message, CATEGORIES, ["Stridewell"]).intent == intent


def test_entities() -> None:
    u = understand("Stridewell trail running shoes, size 9.5, in blue, under $120 please", vocabulary=DEMO)

    assert (u.categories, u.brands, u.size, u.colours, u.max_price) == (
        ("running-shoes",), ("Stridewell",), "9.5", ("blue",), 120.0)


def test_a_longer_phrase_wins_over_the_word_inside_it() -> None:
    assert understand("a sleeping bag for winter", vocabulary=DEMO).categories == ("camping",)


def test_order_ids_are_upper_cased_and_deduplicated() -> None:
    assert understand("is nw-100234 or NW-100234 late?").order_ids == ("NW-100234",)


def test_categories_the_shop_does_not_have_are_not_matched() -> None:
    assert understand("a new kettle", ["tops"]).categories == ()
