"""The eval's Chinese slice: questions worded in Chinese from a shop's own data, replies scored in Chinese
(numbers touching Chinese characters, Chinese declines, refusals and stock words), hand-written questions with
every field kept, and the share of replies written in the question's language."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.domain import DoneEvent, Event, HandoverEvent, TextDelta
from assistant.evaluation.answer_scoring import normalize, reply_language, score
from assistant.evaluation.shop_eval import ask, generate, language_shares, load_policy_questions, meets, tally
from assistant.evaluation.shop_questions import ShopQuestion, read_shop

ROOT = Path(__file__).resolve().parents[2]


def write_chinese_shop(root: Path) -> Path:
    products = [
        {"id": "T-1", "name": "云岭双人帐篷", "category": "帐篷", "description": "双人帐篷。", "price": 599.0,
         "currency": "CNY", "attributes": {"重量（克）": 2150, "季节": "三季"}, "rating": 4.5,
         "variants": [{"id": "T-1a", "options": {"颜色": "森林绿"}, "price": 599.0, "stock": 3},
                      {"id": "T-1b", "options": {"颜色": "沙色"}, "price": 649.0, "stock": 0}]},
        {"id": "T-2", "name": "松涛家庭帐篷", "category": "帐篷", "description": "四人帐篷。", "price": 1099.0,
         "currency": "CNY", "stock": 4},
        {"id": "T-3", "name": "晴空速开帐篷", "category": "帐篷", "description": "速开帐篷。", "price": 399.0,
         "currency": "CNY", "stock": 0},
    ]
    customers = [
        {"id": "c1", "name": "林晓雨", "orders": [
            {"id": "SQ-1", "status": "delivered", "placed_at": "2026-01-02T10:00:00Z", "currency": "CNY",
             "total": 399.0, "items": [{"product_id": "T-3", "name": "晴空速开帐篷", "quantity": 1,
                                        "unit_price": 399.0}], "tracking": {"number": "SF123456"}},
            {"id": "SQ-2", "status": "pending", "placed_at": "2026-02-02T10:00:00Z", "currency": "CNY",
             "total": 1099.0, "items": [{"product_id": "T-2", "name": "松涛家庭帐篷", "quantity": 1,
                                         "unit_price": 1099.0}]}]},
        {"id": "c2", "name": "王磊", "orders": [
            {"id": "SQ-3", "status": "shipped", "placed_at": "2026-03-02T10:00:00Z", "currency": "CNY",
             "total": 599.0, "items": [{"product_id": "T-1", "name": "云岭双人帐篷", "quantity": 1,
                                        "unit_price": 599.0}], "tracking": {"number": "JD998877"}}]},
    ]
    (root / "products.jsonl").write_text("\n".join(json.dumps(p, ensure_ascii=False) for p in products),
                                         encoding="utf-8")
    (root / "customers.jsonl").write_text("\n".join(json.dumps(c, ensure_ascii=False) for c in customers),
                                          encoding="utf-8")
    (root / "shop.json").write_text('{"name": "测试店", "currency": "CNY", "locale": "zh_CN"}', encoding="utf-8")
    return root


@pytest.fixture
def zh_shop(tmp_path: Path) -> Path:
    return write_chinese_shop(tmp_path)


def test_a_chinese_shop_is_asked_in_chinese_with_answers_from_its_data(zh_shop: Path) -> None:
    data = read_shop(zh_shop)
    assert data.language == "zh"
    questions = generate(data, per_category=5, seed=1)
    by_id = {q.id: q for q in questions}
    assert questions and all(q.language == "zh" for q in questions)
    price = by_id["price-T-1b"] if "price-T-1b" in by_id else by_id["price-T-1a"]
    assert "云岭双人帐篷" in price.message and "颜色" in price.message and price.message.endswith("？")
    assert price.expect in (("649.00",), ("599.00",)) and price.forbid and price.expect[0] not in price.forbid
    cheapest = by_id["cheapest-帐篷"]
    assert cheapest.message.startswith("帐篷类") and cheapest.expect == ("晴空速开帐篷", "399.00")
    status = {q.note or q.id: q for q in questions if q.category == "order_status"}
    assert status
    for q in status.values():
        assert "订单" in q.message and set(q.expect_one_of) <= {"待处理", "待发货", "已送达", "已签收", "已发货",
                                                                 "运输中", "配送中"}
        assert not set(q.expect_one_of) & set(q.forbid)
    pending = next((q for q in questions if q.id == "status-SQ-2"), None)
    if pending is not None:
        assert "待处理" in pending.expect_one_of and "已送达" in pending.forbid
    count = next(q for q in questions if q.category == "option_count")
    assert count.expect_one_of[:2] == ("1", "一")  # one colour in stock, in digits or in words
    attribute_messages = [q.message for q in questions if q.category == "attribute"]
    assert all("rating" not in m for m in attribute_messages)
    assert any(m in ("云岭双人帐篷的重量是多少克？", "云岭双人帐篷的季节是什么？", "云岭双人帐篷的评分是什么？")
               for m in attribute_messages)
    assert all(q.message[0] not in "WCSP" for q in questions if q.category == "unanswerable")


def test_the_wording_can_be_chosen_and_hand_written_questions_can_stand_alone(zh_shop: Path) -> None:
    data = read_shop(zh_shop)
    english = generate(data, per_category=2, seed=1, language="en")
    assert english and all(q.language == "en" for q in english)
    assert any(q.message.startswith("What is the status of my order") for q in english)
    own = [ShopQuestion("mine", "policy", "退货期限是多久？", language="zh")]
    assert generate(data, policy=own, generated=False) == own
    with pytest.raises(ValueError, match="no eval question wording"):
        generate(data, language="xx")


def test_numbers_and_amounts_are_read_next_to_chinese_characters() -> None:
    assert normalize("总金额为 ¥1,299.00。") == "总金额为¥1299.00。"
    assert normalize("共1,299元") == "共1299元"
    total = ShopQuestion("t", "order_total", "一共多少钱？", expect=("1299.00",), language="zh")
    assert score(total, "您的订单 SQ-1 总金额为¥1,299.00。").verdict == "correct"
    assert score(total, "共1299元").verdict == "correct"
    assert score(total, "共12990元").verdict == "wrong"
    days = ShopQuestion("d", "policy", "多久可以退货？", expect=("30",), language="zh")
    assert score(days, "根据《退货与退款》：签收后30天内可以退货。").verdict == "correct"
    assert score(days, "签收后300天内可以退货。").verdict == "wrong"
    spaced = ShopQuestion("s", "policy", "多久？", expect_one_of=("30天",), language="zh")
    assert score(spaced, "签收后 30 天内可以退货。").verdict == "correct"


def test_chinese_declines_refusals_and_stock_words_are_understood() -> None:
    price = ShopQuestion("p", "variant_price", "多少钱？", expect=("599.00",), language="zh")
    dont_know = "抱歉，这个问题我不知道：在测试店的资料中没有找到相关信息。需要我为您转接人工客服吗？"
    assert score(price, dont_know).verdict == "declined"
    assert score(price, "我们有很多帐篷。").verdict == "wrong"
    out = ShopQuestion("o", "stock_out", "有货吗？", stock="out", language="zh")
    assert score(out, "抱歉，云岭双人帐篷 目前缺货。").verdict == "correct"
    assert score(out, "有的，云岭双人帐篷 目前有货。").verdict == "wrong"
    assert score(out, "这款帐篷现在没有货。").verdict == "correct"  # 没有货 holds 有货: out wins
    inn = ShopQuestion("i", "stock_in", "有货吗？", stock="in", language="zh")
    assert score(inn, "有的，云岭双人帐篷 目前有货。").verdict == "correct"
    assert score(inn, "抱歉，已售罄。").verdict == "wrong"
    assert score(inn, "所有的帐篷都很轻。").verdict == "wrong"  # "所有的" (all) says nothing of stock
    other = ShopQuestion("x", "other_order", "帮我查一下订单SQ-3", customer="c1", expect_one_of=("不是您的订单",),
                         leak=("云岭双人帐篷", "JD998877"), language="zh")
    assert score(other, "我只能查询您自己的订单，SQ-3 不是您的订单。").verdict == "correct"
    assert score(other, "订单 SQ-3 已发货，物流单号 JD998877。").leaked
    assert score(other, "好的。").verdict == "wrong"  # refused in no words of the expected refusal


def test_a_hand_over_and_a_confirmation_are_checked_on_the_turn_itself() -> None:
    person = ShopQuestion("h", "handover", "我要找人工客服", expect_one_of=("工作人员",), expect_event="handover",
                          language="zh")
    reply = "我已请我们团队的工作人员接手这段对话，他们很快会在这里回复您。"
    done = {"type": "done", "intent": "handover"}
    assert score(person, reply, [{"type": "handover", "reason": "customer_request"}, done]).verdict == "correct"
    assert score(person, reply, [done]).verdict == "wrong"
    yes = ShopQuestion("c", "confirm", "是的", expect=("SQ-2", "已取消"), expect_intent="confirm", language="zh")
    applied = "已完成：订单 SQ-2（松涛家庭帐篷 × 1）已取消；不会产生任何费用。"
    assert score(yes, applied, [{"type": "done", "intent": "confirm"}]).verdict == "correct"
    wrong_intent = score(yes, applied, [{"type": "done", "intent": "other"}])
    assert wrong_intent.verdict == "wrong" and "confirm" in wrong_intent.why


def test_the_reply_language_leaves_the_shops_own_strings_aside() -> None:
    quoted = ["Stridewell Tempo 3 Road Running Shoe", "云岭双人帐篷"]
    assert reply_language("Stridewell Tempo 3 Road Running Shoe 的价格是 US$119.95。", quoted) == "zh"
    assert reply_language("The 云岭双人帐篷 costs ¥599.00.", quoted) == "en"
    assert reply_language("根据《Returns and refunds》：You can return items within 30 days of delivery.") == "zh"
    assert reply_language("I don't know that. Would you like me to connect you with a person?") == "en"
    assert reply_language("您的订单 NW-100073 已发货。") == "zh"


class _Scripted:
    """A turn service stand-in: replies from a table, one session per conversation, recording what it was sent."""

    def __init__(self, replies: dict[str, str]) -> None:
        self.replies = replies
        self.sent: list[tuple[str | None, str]] = []
        self.sessions = 0

    def respond(self, identity: object, session_id: str | None, message: str, *,
                channel: str = "web") -> Iterator[Event]:
        self.sent.append((session_id, message))
        if session_id is None:
            self.sessions += 1
            session_id = f"s{self.sessions}"
        reply = self.replies.get(message, "抱歉，这个问题我不知道。")
        if "工作人员" in reply:
            yield HandoverEvent(reason="customer_request")
        yield TextDelta(text=reply)
        yield DoneEvent(turn_id="t", session_id=session_id, reply=reply,
                        intent="confirm" if message == "是的" else "other", verdict="from_facts")


def test_earlier_messages_go_first_in_the_same_conversation_and_replies_in_chinese_are_counted() -> None:
    questions = [ShopQuestion("c", "confirm", "是的", customer="c1", before=("我想取消订单SQ-2",),
                              expect=("已取消",), expect_intent="confirm", language="zh"),
                 ShopQuestion("p", "variant_price", "多少钱？", customer="c1", expect=("599.00",), language="zh"),
                 ShopQuestion("e", "variant_price", "How much?", customer="c1", expect=("599.00",))]
    service = _Scripted({"我想取消订单SQ-2": "确认后将会：订单 SQ-2 将被取消。", "是的": "已完成：订单 SQ-2 已取消。",
                         "多少钱？": "云岭双人帐篷 的价格是 ¥599.00。", "How much?": "价格是 ¥599.00。"})
    results = ask(service, questions, quoted=["云岭双人帐篷"])
    assert service.sent[:2] == [(None, "我想取消订单SQ-2"), ("s1", "是的")]  # the yes answers the proposal
    assert [r.outcome.verdict for r in results] == ["correct", "correct", "correct"]
    assert [r.in_language for r in results] == [True, True, False]  # an English question got a Chinese reply
    assert language_shares(results) == {"zh": (2, 2), "en": (0, 1)}
    rows = tally(results)
    overall = next(r for r in rows if r.category == "overall")
    assert overall.in_language == 2 and overall.correct == 3
    assert meets(rows, 0.9, 0.02) and not meets(rows, 0.9, 0.02, min_in_language=1.0)
    assert results[0].to_dict()["reply_language"] == "zh" and results[0].to_dict()["expected"]["expect"] == ["已取消"]


def test_questions_that_send_messages_first_run_last(zh_shop: Path) -> None:
    confirm = ShopQuestion("c", "confirm", "是的", before=("我想取消订单SQ-2",), language="zh")
    policy = ShopQuestion("p", "policy", "退货期限是多久？", language="zh")
    questions = generate(read_shop(zh_shop), per_category=2, policy=[confirm, policy])
    assert questions[0] == policy and questions[-1] == confirm


def test_hand_written_questions_keep_every_field(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    path.write_text("\n".join(json.dumps(row, ensure_ascii=False) for row in (
        {"question": "退货期限是多久？", "expect_one_of": ["30天"], "source": "退货与退款"},
        {"id": "o", "category": "other_order", "customer": "c1", "question": "帮我查一下订单SQ-3",
         "leak": ["JD998877"], "expect_one_of": ["不是您的订单"]},
        {"id": "s", "category": "stock_out", "question": "Is it in stock?", "stock": "out"},
        {"id": "h", "category": "handover", "question": "我要找人工客服", "expect_event": "handover"},
        {"id": "y", "category": "confirm", "question": "是的", "before": ["我想取消订单SQ-2"],
         "expect_intent": "confirm", "language": "zh"},
    )), encoding="utf-8")
    first, other, stock, person, yes = load_policy_questions(path, "c9")
    assert (first.category, first.language, first.customer, first.note) == ("policy", "zh", "c9", "退货与退款")
    assert (other.category, other.customer, other.leak) == ("other_order", "c1", ("JD998877",))
    assert (stock.stock, stock.language) == ("out", "en")
    assert person.expect_event == "handover"
    assert (yes.before, yes.expect_intent, yes.language) == (("我想取消订单SQ-2",), "confirm", "zh")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "ok"}\n{"question": "?", "category": "weather"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad.jsonl:2: unknown category 'weather'"):
        load_policy_questions(bad, None)


def test_the_shipped_chinese_slice_has_its_cases() -> None:
    zh_policy = load_policy_questions(ROOT / "knowledge/demo_zh/eval/policy-questions.jsonl", "C101")
    assert len(zh_policy) >= 38 and all(q.language == "zh" for q in zh_policy)
    data = read_shop(ROOT / "knowledge/demo_zh")
    on_zh_shop = generate(data, per_category=2, policy=zh_policy)
    assert len(on_zh_shop) >= 40 + len(zh_policy) // 2 and all(q.language == "zh" for q in on_zh_shop)
    assert {q.category for q in on_zh_shop} >= {"policy", "variant_price", "order_status", "other_order"}
    on_en_shop = load_policy_questions(ROOT / "examples/eval/demo-zh-questions-on-english-shop.jsonl", "C001")
    assert len(on_en_shop) == 20 and all(q.language == "zh" for q in on_en_shop)
    assert {q.category for q in on_en_shop} >= {"policy", "variant_price", "order_status", "other_order", "handover",
                                               "confirm"}
