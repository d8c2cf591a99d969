"""The chat page's own strings follow the shopper's language (the message's, else their earlier messages')."""

from typing import Any

from assistant.components import Components
from assistant.domain import Citation, OfferView, ProductCard
from ui.chat_page import build_chat_ui, page_language, render_cards, render_offers, render_sources


class _Client:
    host = "127.0.0.1"


class _Request:
    client = _Client()
    headers: dict[str, str] = {}
    query_params: dict[str, str] = {}


def test_the_page_language_is_the_messages_else_the_earlier_ones() -> None:
    history = [{"role": "user", "content": "我的订单到哪里了？"}, {"role": "assistant", "content": "..."}]

    assert page_language("ok", history, "en") == "zh"
    assert page_language("Where is my order?", history, "en") == "en"
    assert page_language("ok", [], "en") == "en"


def test_cards_and_offers_in_chinese() -> None:
    card = ProductCard("P1", "Trail Runner", 89.0, "USD", "running-shoes", in_stock=True)

    assert "US$89.00 · 有货" in render_cards([card], "zh") and "$89.00 · in stock" in render_cards([card], "en")
    assert "优惠码 <code>CAMP25</code>" in render_offers([OfferView("o", "CAMP25", "露营", "", None)], "zh")


def test_signed_out_chinese_message_is_told_to_sign_in_in_chinese(demo_components: Components) -> None:
    blocks = build_chat_ui(demo_components)
    respond = next(f.fn for f in blocks.fns.values() if f.api_name == "chat")

    *_, (history, *_rest) = list(respond("我的订单到哪里了？", [], None, None, [], _Request()))

    reply: Any = history[-1]["content"]
    assert reply == "请先登录（在上方选择一位演示顾客）。"


RETURNS = Citation("policy", "returns-1", "Returns and refunds", source="returns.md")
WARRANTY = Citation("policy", "warranty-2", "Warranty", source="warranty.md")


def test_sources_are_listed_by_title_never_by_file() -> None:
    shown = render_sources([RETURNS, WARRANTY, RETURNS], "You have 30 days to return an item.")

    assert shown == "\n\n<small>Sources: Returns and refunds; Warranty</small>"


def test_a_reply_that_states_its_source_lists_no_other_policy() -> None:
    assert render_sources([RETURNS, WARRANTY], "Within 30 days. Source: Returns and refunds.") == ""
    assert render_sources([RETURNS, WARRANTY], "30 天内可退货。来源：退货与退款。", "zh") == ""


def test_a_product_shown_as_a_card_is_not_listed_again() -> None:
    trail = Citation("product", "P1", "Trail Runner")
    hiker = Citation("product", "P2", "Hiker Boot")

    assert render_sources([trail, hiker], "Here you go.", shown=["Trail Runner"]) == (
        "\n\n<small>Sources: Hiker Boot</small>")
