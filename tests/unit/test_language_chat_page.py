"""The chat page's own strings follow the shopper's language (the message's, else their earlier messages')."""

from typing import Any

from assistant.components import Components
from assistant.domain import OfferView, ProductCard
from ui.chat_page import build_chat_ui, page_language, render_cards, render_offers


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
