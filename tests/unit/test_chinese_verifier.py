"""The verifier and the streaming split read Chinese: sentences end at 。！？, and numbers, amounts and dates
touching Chinese characters are checked against the facts like English ones."""

from assistant.shop.catalog_index import CatalogIndex
from assistant.turn.code_guard import drop_unknown_codes, split_sentences
from assistant.turn.compose import _split_sentences
from assistant.turn.verifier import Verifier

CATALOG = CatalogIndex({"P1": {"name": "Stridewell Tempo 3 Road Running Shoe", "brand": "Stridewell",
                                "category": "running-shoes"}})
V = Verifier(CATALOG, {"TRAIL20"})
FACTS = "Order NW-100073: status shipped, placed 2026-11-22, total $70.97.\nReturns are accepted within 30 days."


def problems(reply: str) -> tuple[str, ...]:
    return V.check(reply, FACTS).problems


def test_chinese_sentences_end_at_chinese_punctuation() -> None:
    done, rest = _split_sentences("退货期限为30天。收到商品后退款！还有问题吗？我们")

    assert done == ["退货期限为30天。", "收到商品后退款！", "还有问题吗？"] and rest == "我们"
    assert split_sentences("第一句。第二句！ Third one. 第四句？") == ["第一句。", "第二句！", "Third one.", "第四句？"]


def test_a_number_next_to_chinese_characters_is_checked() -> None:
    assert problems("退货期限为30天。") == ()
    assert any("45" in p for p in problems("退货期限为45天。"))


def test_an_amount_next_to_chinese_characters_is_checked() -> None:
    assert problems("您的订单总金额为 US$70.97。") == ()
    assert any("99" in p for p in problems("运费为99元。"))


def test_a_chinese_date_is_checked_against_the_facts() -> None:
    assert problems("您的订单于2026年11月22日下单。") == ()
    assert any("date" in p for p in problems("您的订单将于2026年12月3日送达。"))


def test_an_unknown_code_in_a_chinese_sentence_is_dropped() -> None:
    kept = drop_unknown_codes("使用优惠码 FREE100 可以免单。退货期限为30天。", {"TRAIL20"}, set())

    assert kept == "退货期限为30天。"
