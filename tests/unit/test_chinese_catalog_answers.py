"""Questions about a Chinese catalogue, asked in Chinese, answered from the catalogue (issue 15): the shop's
names are read character by character, the question's words (最便宜, 几种, 有货, 评分, 有多重) are general Chinese,
and the answer says itself in Chinese with amounts written for the language."""

from __future__ import annotations

from typing import Any

import pytest

from assistant.shop.catalog_index import CatalogIndex
from assistant.shop.shop_vocabulary import ShopVocabulary, tokens
from assistant.turn.catalog_answers import CatalogAnswer
from assistant.turn.product_facts import about_the_shop, answer
from assistant.turn.understanding import understand
from knowledge.catalog_import import normalize


def _product(pid: str, name: str, category: str, price: float, variants: list[dict[str, Any]] | None = None,
             **extra: Any) -> dict[str, Any]:
    return normalize({"id": pid, "name": name, "category": category, "price": price, "currency": "CNY",
                      "variants": variants or [], "stock": 0 if variants else 5, **extra})


def _variant(vid: str, stock: int, price: float | None = None, **options: str) -> dict[str, Any]:
    return {"id": vid, "options": options, "stock": stock, **({"price": price} if price is not None else {})}


PRODUCTS = [
    _product("T1", "青峰双人速开帐篷", "帐篷", 399.0, [_variant("T1-1", 3, **{"颜色": "森林绿"}),
                                                  _variant("T1-2", 0, **{"颜色": "沙色"})],
             attributes={"重量（克）": 2150, "自立式": True, "材质": "涂硅尼龙"}, rating=4.6, review_count=120),
    _product("T2", "青峰家庭大帐篷", "帐篷", 1099.0, [_variant("T2-1", 2, **{"颜色": "雾灰"})]),
    _product("S1", "暖眠鹅绒睡袋", "睡袋", 899.0, [_variant("S1-1", 4, 899.0, **{"规格": "标准款"}),
                                              _variant("S1-2", 1, 969.0, **{"规格": "加长款"})]),
    _product("A1", "轻风速干T恤", "服装", 79.0, [_variant("A1-1", 0, **{"颜色": "白色", "尺码": "S"}),
                                            _variant("A1-2", 6, **{"颜色": "白色", "尺码": "M"}),
                                            _variant("A1-3", 2, **{"颜色": "黑色", "尺码": "S"})]),
    _product("L1", "星光营地灯", "照明", 129.0),
    _product("L2", "星光小挂灯", "照明", 59.0),
]


@pytest.fixture(scope="module")
def catalog() -> CatalogIndex:
    return CatalogIndex({p["id"]: p for p in PRODUCTS})


def ask(catalog: CatalogIndex, question: str) -> CatalogAnswer | None:
    return answer(question, understand(question, vocabulary=catalog.vocabulary), catalog)


def test_chinese_text_is_compared_character_by_character_and_latin_words_stay_words() -> None:
    assert tokens("速干T恤（尺码S）") == ["速", "干", "t", "恤", "尺", "码", "s"]
    assert tokens("Men's T-Shirts") == ["men", "t", "shirt"]


def test_the_vocabulary_reads_chinese_names_categories_and_option_values(catalog: CatalogIndex) -> None:
    vocabulary = catalog.vocabulary
    question = "轻风速干T恤（颜色白色、尺码S）有货吗？"
    assert vocabulary.named_products(question) == ["A1"]
    assert vocabulary.option_mentions(question) == [("颜色", "白色"), ("尺码", "S")]
    assert vocabulary.category_matches("照明类里最便宜的商品是哪一款？") == ["照明"]


def test_the_price_of_a_named_variant(catalog: CatalogIndex) -> None:
    found = ask(catalog, "规格加长款的暖眠鹅绒睡袋卖多少钱？")
    assert found is not None and found.kind == "price" and "969.00" in found.text and "899.00" not in found.text


def test_a_variant_out_of_stock_is_out_of_stock(catalog: CatalogIndex) -> None:
    found = ask(catalog, "轻风速干T恤（颜色白色、尺码S）有货吗？")
    assert found is not None and found.kind == "stock" and found.text.startswith("No")
    found = ask(catalog, "现在能买到颜色沙色的青峰双人速开帐篷吗？")
    assert found is not None and found.kind == "stock" and found.text.startswith("No")


def test_how_many_values_of_an_option_are_in_stock(catalog: CatalogIndex) -> None:
    found = ask(catalog, "轻风速干T恤现在有几种尺码有货可选？")
    assert found is not None and found.kind == "count"
    assert found.in_language("zh") == "轻风速干T恤 目前有 2 种尺码有货：S、M。"


@pytest.mark.parametrize(("question", "name", "price"), [
    ("照明类里最便宜的商品是哪一款？", "星光小挂灯", "¥59.00"),
    ("照明类里最贵的商品是哪一款？", "星光营地灯", "¥129.00"),
    ("帐篷类里最贵的商品是哪一款？", "青峰家庭大帐篷", "¥1,099.00"),
])
def test_the_cheapest_and_the_dearest_of_a_category_said_in_chinese(catalog: CatalogIndex, question: str, name: str,
                                                                     price: str) -> None:
    found = ask(catalog, question)
    said = found.in_language("zh") if found is not None else None
    assert said is not None and name in said and price in said and said.endswith("。")


def test_which_of_two_is_cheaper(catalog: CatalogIndex) -> None:
    found = ask(catalog, "星光营地灯和星光小挂灯哪个更便宜？")
    assert found is not None and found.kind == "compare"
    assert found.in_language("zh") == "星光小挂灯 更便宜，¥59.00；星光营地灯 是 ¥129.00。"
    dearer = ask(catalog, "星光营地灯和星光小挂灯哪个更贵？")
    assert dearer is not None and (dearer.in_language("zh") or "").startswith("星光营地灯 更贵")


@pytest.mark.parametrize(("question", "expected"), [
    ("青峰双人速开帐篷的评分是什么？", "青峰双人速开帐篷 的评分是 4.6 分"),
    ("青峰双人速开帐篷的重量是多少克？", "青峰双人速开帐篷 的重量是 2150克。"),
    ("青峰双人速开帐篷有多重？", "青峰双人速开帐篷 的重量是 2150克。"),
    ("青峰双人速开帐篷是什么材质？", "青峰双人速开帐篷 的材质是 涂硅尼龙。"),
    ("青峰双人速开帐篷是自立式的吗？", "是的，青峰双人速开帐篷 是自立式的。"),
])
def test_an_attribute_asked_in_chinese(catalog: CatalogIndex, question: str, expected: str) -> None:
    found = ask(catalog, question)
    assert found is not None and found.kind == "attribute"
    assert (found.in_language("zh") or "").startswith(expected)


def test_an_english_catalogues_attribute_asked_in_chinese_is_said_in_chinese() -> None:
    shoe = normalize({"id": "R1", "name": "Swift Road Shoe", "category": "running-shoes", "price": 119.95,
                      "currency": "USD", "stock": 4, "attributes": {"weight_g": 265}})
    catalog = CatalogIndex({"R1": shoe})
    found = ask(catalog, "Swift Road Shoe 有多重？")
    assert found is not None and found.kind == "attribute" and "265 g" in found.text
    assert found.in_language("zh") == "Swift Road Shoe 的重量是 265 g。"
    assert found.in_language("en") == "The weight of the Swift Road Shoe is 265 g."


def test_a_question_about_nothing_the_shop_sells_is_not_about_the_shop(catalog: CatalogIndex) -> None:
    vocabulary: ShopVocabulary = catalog.vocabulary
    for question in ("能给我推荐一个附近的牙医吗？", "明天上海的天气怎么样？"):
        u = understand(question, vocabulary=vocabulary)
        assert not about_the_shop(question, u, vocabulary)
    question = "有没有适合露营的帐篷？"
    assert about_the_shop(question, understand(question, vocabulary=vocabulary), vocabulary)


def test_english_answers_keep_their_english_sentences(catalog: CatalogIndex) -> None:
    found = ask(catalog, "照明类里最便宜的商品是哪一款？")
    assert found is not None and found.text.startswith("The cheapest of our 照明 is the 星光小挂灯")


def test_an_english_catalogues_variant_named_in_chinese_words() -> None:
    pack = normalize({"id": "P1", "name": "Summit Trek Pack", "category": "backpacks", "price": 219.0,
                      "currency": "USD", "variants": [
                          {"id": "P1-a", "options": {"volume": "55 L", "colour": "blue"}, "price": 219.0, "stock": 2},
                          {"id": "P1-b", "options": {"volume": "65 L", "colour": "blue"}, "price": 229.0, "stock": 0},
                          {"id": "P1-c", "options": {"volume": "65 L", "colour": "red"}, "price": 229.0, "stock": 1}]})
    catalog = CatalogIndex({"P1": pack})
    price = ask(catalog, "Summit Trek Pack 65 升的多少钱？")
    assert price is not None and price.kind == "price" and "$229.00" in price.text and "219" not in price.text
    stock = ask(catalog, "Summit Trek Pack 65升蓝色的有货吗？")
    assert stock is not None and stock.kind == "stock" and stock.text.startswith("No")
    assert understand("Summit Trek Pack 65升的多少钱？", vocabulary=catalog.vocabulary).size is None
