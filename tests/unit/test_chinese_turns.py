"""Chinese shoppers through the whole turn on fakes (scripted model, hash embeddings, temp SQLite): the reply,
the confirmations, refusals and hand-overs are in the shopper's language, the session remembers it, and the
bundled (English-only) model is not asked for a Chinese reply."""

from collections.abc import Iterator
from typing import Any

import pytest

from assistant.components import Components, build_assistant
from assistant.domain import DoneEvent, Event, ShopperIdentity, TextDelta
from assistant.llm import FakeChatModel
from assistant.turn.turn_service import AssistantService
from tests.demo_reset import reset_customers
from tests.unit.conftest import DEMO_NOW

MAYA = ShopperIdentity("C001")


@pytest.fixture
def service(demo_components: Components, demo_offers: list[dict[str, Any]], fake_llm: FakeChatModel
            ) -> Iterator[AssistantService]:
    yield build_assistant(demo_components, llm=fake_llm, offers=lambda: demo_offers, now=lambda: DEMO_NOW)
    reset_customers(demo_components.stores, "C001")


class Chat:
    def __init__(self, service: AssistantService, who: ShopperIdentity = MAYA) -> None:
        self.service, self.who, self.session = service, who, service.open_session(who)
        self.events: list[Event] = []

    def say(self, message: str) -> DoneEvent:
        self.events = list(self.service.respond(self.who, self.session, message))
        done = self.events[-1]
        assert isinstance(done, DoneEvent)
        return done

    def trace(self) -> dict[str, Any]:
        return self.service.turns.turns_for_session(self.who.customer_id, self.session)[-1].trace


def chinese(text: str) -> bool:
    han = sum("\u4e00" <= ch <= "\u9fff" for ch in text)
    return han >= 4


def test_an_order_question_in_chinese_is_answered_in_chinese_from_the_order(service: AssistantService,
                                                                             fake_llm: FakeChatModel) -> None:
    chat = Chat(service)

    done = chat.say("我的订单NW-100073在哪里？")

    assert done.intent == "order_status" and done.verdict == "from_facts" and fake_llm.calls == []
    assert done.reply.startswith("您的订单 NW-100073 已发货。") and chinese(done.reply)
    assert "$70.97" in done.reply and "年" in done.reply  # the amount and dates as Chinese writes them
    assert chat.trace()["language"] == "zh" and chat.trace()["message_language"] == "zh"


def test_the_session_keeps_chinese_for_a_message_that_says_too_little(service: AssistantService) -> None:
    chat = Chat(service)
    chat.say("我的订单到哪里了？")

    done = chat.say("NW-100065")

    assert chinese(done.reply) and "NW-100065" in done.reply
    assert chat.trace()["language"] == "zh" and chat.trace()["message_language"] is None


def test_an_english_message_switches_the_reply_back_to_english(service: AssistantService,
                                                               fake_llm: FakeChatModel) -> None:
    chat = Chat(service)
    chat.say("我的订单到哪里了？")
    fake_llm.enqueue(["Your order NW-100073 is shipped."])

    done = chat.say("Where is my order NW-100073?")

    assert done.reply.startswith("Your order NW-100073 is shipped") and chat.trace()["language"] == "en"


def test_another_shoppers_order_is_refused_in_chinese(service: AssistantService) -> None:
    done = Chat(service).say("订单NW-100019发货了吗？")

    assert done.verdict == "refused" and done.reply.startswith("我只能查询您自己的订单，NW-100019 不是您的订单")


def test_asking_for_a_person_in_chinese_hands_over_in_chinese(service: AssistantService) -> None:
    chat = Chat(service)

    done = chat.say("我要找人工客服")

    assert done.verdict == "handover" and done.reply.startswith("我已请我们团队的工作人员接手")
    waiting = chat.say("你好，在吗？")
    assert waiting.verdict == "handed_over" and chinese(waiting.reply)


def test_an_upset_chinese_shopper_is_handed_over(service: AssistantService) -> None:
    done = Chat(service).say("你们的服务太差了，气死我了！")

    assert done.verdict == "handover" and done.reply.startswith("非常抱歉")


def test_a_cancellation_is_proposed_and_confirmed_in_chinese(service: AssistantService,
                                                             fake_llm: FakeChatModel) -> None:
    chat = Chat(service)

    proposed = chat.say("请取消我的订单NW-100091")
    done = chat.say("是的")

    assert proposed.verdict == "action_proposed" and proposed.reply.startswith("确认后将会：订单 NW-100091")
    assert "US$89.99" in proposed.reply and "将被取消" in proposed.reply and "是的" in proposed.reply
    assert done.verdict == "action_done" and done.reply.startswith("已完成：订单 NW-100091") and fake_llm.calls == []
    assert service.stores.orders.get("C001", "NW-100091").status == "cancelled"


def test_a_no_in_chinese_leaves_the_order_alone(service: AssistantService) -> None:
    chat = Chat(service)
    chat.say("请取消我的订单NW-100091")

    done = chat.say("不用了")

    assert done.verdict == "action_declined" and done.reply.startswith("好的，我不会这样做：订单 NW-100091 保持不变")


def test_a_refused_action_is_explained_in_chinese(service: AssistantService) -> None:
    done = Chat(service).say("我要取消订单NW-100073")  # shipped: too late to cancel

    assert done.verdict == "action_refused" and done.reply.startswith("订单 NW-100073") and chinese(done.reply)
    assert done.reply.endswith("没有做任何更改。")


def test_a_greeting_in_chinese_is_answered_in_chinese(service: AssistantService) -> None:
    done = Chat(service).say("你好")

    assert done.verdict == "template" and done.reply.startswith("Maya，您好！")


def test_nothing_found_in_chinese_offers_a_person_and_a_yes_hands_over(service: AssistantService) -> None:
    chat = Chat(service)

    done = chat.say("你们店附近有好的牙医吗？")
    yes = chat.say("好的")

    assert done.reply.startswith("抱歉，这个问题我不知道") and "转接人工客服" in done.reply
    assert yes.verdict == "handover"


def test_a_chinese_reply_streams_as_text(service: AssistantService) -> None:
    chat = Chat(service)
    chat.say("我的订单NW-100073在哪里？")

    deltas = [e.text for e in chat.events if isinstance(e, TextDelta)]

    assert "".join(deltas) == chat.events[-1].reply  # type: ignore[attr-defined]


def test_a_too_long_chinese_message_is_declined_in_chinese(service: AssistantService) -> None:
    limit = service.deps.settings.security.max_message_chars

    done = Chat(service).say("我想问一下退货的问题。" * (limit // 10 + 1))

    assert done.verdict == "blocked:too_long" and done.reply.startswith("这条消息太长了")
