"""Choosing the policy sentence that answers: specific terms over generic ones, Chinese words over their characters,
the heading as context, and the sentences that complete the best one (made-up shops, written for these tests)."""

from collections.abc import Sequence

import pytest

from assistant.turn.policy_answers import answer_sentences
from assistant.turn.policy_scoring import Text, lexical_scores, match, question_terms, term_weights
from knowledge.knowledge_store import Hit


def page(title: str, heading: str, body: str, n: int = 0) -> Hit:
    return Hit(f"p#{n}", "policies", f"{title}\n{heading}\n{body}", 0.8,
               {"title": title, "heading": f"{title} > {heading}", "source": "page.md"})


def test_a_term_in_every_candidate_weighs_less_than_one_in_a_single_sentence() -> None:
    sentences = [Text.of(s) for s in ("Every parcel is weighed.", "A parcel over 5 kg needs a signature.",
                                      "Parcels leave the depot at noon.")]
    weights = term_weights(question_terms("Does a parcel need a signature?"), sentences)

    assert weights["signature"] > weights["parcel"] > 0


def test_the_sentence_with_the_specific_term_wins_over_one_with_more_generic_ones() -> None:
    hits = [page("Parcels", "Parcels", "Parcels are packed by our team and parcels ship daily. "
                 "Parcels from our team arrive in a box. A parcel over 5 kg needs a signature at the door.")]

    assert answer_sentences(hits, "Will our team need my signature for a parcel?")[0] == \
        "A parcel over 5 kg needs a signature at the door."


def test_a_chinese_word_matches_whole_then_by_its_shorter_words_then_by_its_characters() -> None:
    term = next(t for t in question_terms("退款多久到账？") if t.key == "退款")

    assert match(term, Text.of("退款在3天内到账。")) == 1.0
    assert 0 < match(term, Text.of("退回的钱3天内到账。")) < 0.5
    assert match(term, Text.of("包裹3天内送达。")) == 0.0


def test_chinese_words_count_once_not_once_per_character() -> None:
    terms = question_terms("用银联信用卡付款的订单，退款多久到账？")
    sentences = [Text.of("取消订单后,冻结的订单金额退回:支付宝1到3个工作日,银联信用卡5到7个工作日。"),
                 Text.of("退款原路退回付款方式:银联信用卡5到7个工作日到账。")]

    first, second = lexical_scores(terms, sentences, [Text.of("取消订单"), Text.of("退款到账时间")])
    assert second.score > first.score  # the refund sentence: "退款" "付款" "到账" against "订单" twice


def test_a_chinese_question_that_shares_only_a_character_with_the_policies_is_not_answered() -> None:
    hits = [page("配送", "发货时间", "每天16:00之前付款的订单当天发货。16:00以后付款的订单第二天发货。")]

    assert answer_sentences(hits, "明天上海的天气怎么样？") == []
    assert answer_sentences(hits, "几点之前付款当天发货？")[0] == "每天16:00之前付款的订单当天发货。"


def test_the_heading_names_what_a_section_is_about() -> None:
    hits = [page("配送", "快递公司", "大件由甲乙物流配送。小件由丙丁快递配送。", 0),
            page("隐私", "数据共享", "我们只把您的地址提供给快递公司,用于配送。", 1)]

    assert answer_sentences(hits, "哪些快递公司负责配送？")[0] == "大件由甲乙物流配送。"


def test_the_value_asked_for_is_taken_from_later_in_the_best_sentences_passage() -> None:
    hits = [page("Privacy", "Your rights", "You can ask us to delete your data at any time. "
                 "Send the request from your account settings. We handle it within 15 business days.")]

    answer = answer_sentences(hits, "How long does it take to delete my data?")
    assert answer[0] == "You can ask us to delete your data at any time."
    assert "We handle it within 15 business days." in answer


@pytest.mark.parametrize("question", ["包裹显示已签收但我没收到，怎么办？",
                                      "The parcel shows as delivered but I never got it. What should I do?"])
def test_a_question_for_what_to_do_gets_the_next_step_too(question: str) -> None:
    hits = [page("配送", "签收问题", "如果包裹显示已签收但您没有收到,请先问问邻居。"
                 "48小时后仍然找不到的,请联系我们。", 0),
            page("Delivery", "Missing parcels", "If the parcel shows as delivered but you never got it, ask your "
                 "neighbours first. Still missing after 48 hours? Write to us.", 1)]

    answer = answer_sentences(hits[:1] if "怎么办" in question else hits[1:], question)
    assert len(answer) == 2 and "48" in answer[1]


def test_an_example_brings_the_rule_it_illustrates_which_comes_first() -> None:
    hits = [page("换货", "换成别的商品", "换货只适用于同一件商品。如果想要另一件商品,请先退货,再重新下单。"
                 "例如:想把台灯换成落地灯,请先把台灯退货,再下单购买落地灯。")]

    assert answer_sentences(hits, "能把台灯换成落地灯吗？") == \
        ["如果想要另一件商品,请先退货,再重新下单。", "例如:想把台灯换成落地灯,请先把台灯退货,再下单购买落地灯。"]


def test_the_rule_comes_first_even_when_the_examples_next_sentence_shares_more_words() -> None:
    hits = [page("Swaps", "Another lamp", "Swaps are for the same lamp only. If you want a different lamp, send "
                 "yours back and place a new order. Example: to swap a desk lamp for a floor lamp, send the desk "
                 "lamp back and order the floor lamp. The desk lamp follows the usual rules for a desk lamp.")]

    assert answer_sentences(hits, "Can I swap my desk lamp for a floor lamp?") == [
        "If you want a different lamp, send yours back and place a new order.",
        "Example: to swap a desk lamp for a floor lamp, send the desk lamp back and order the floor lamp."]


def test_an_example_that_works_out_the_value_asked_for_keeps_its_next_sentence() -> None:
    hits = [page("Coupons", "Coupons and delivery", "Free delivery needs $60 after discounts. Example: your basket "
                 "is $70 and you use a $20 coupon. It is now $50, so you pay $4.99 for delivery.")]

    answer = answer_sentences(hits, "My basket is $70 and I use a $20 coupon. What do I pay for delivery?")
    assert any("$4.99" in s for s in answer)


@pytest.mark.parametrize("question, terms", [("加急配送的运费是多少？", {"运费"}), ("哪些快递公司负责配送？", set()),
                                             ("What is the fee for gift wrapping?", {"fee"}),
                                             ("What do I pay for standard shipping?", set())])
def test_the_words_naming_the_value_asked_for_are_found(question: str, terms: set[str]) -> None:
    from assistant.turn.policy_answers import _value_terms

    assert _value_terms(question, question_terms(question)) == terms


def test_a_sentence_giving_the_amount_asked_for_has_the_word_naming_it() -> None:
    terms = question_terms("加急配送的运费是多少？")
    sentences = [Text.of("金卡会员:加急配送免运费。"), Text.of("加急配送:30元,次日送达。")]
    headings = [Text.of("要点"), Text.of("要点")]

    plain = lexical_scores(terms, sentences, headings)
    valued = lexical_scores(terms, sentences, headings, [True, True], frozenset({"运费"}))
    assert plain[1].score < plain[0].score and valued[1].score == pytest.approx(valued[0].score)
    assert valued[1].whole == 3


def test_a_how_question_is_matched_without_the_clause_that_only_times_it() -> None:
    hits = [page("Accounts", "Accounts", "Once we know who you are, we can help with your rentals. "
                 "We confirm who you are by asking for your e-mail address.")]

    assert answer_sentences(hits, "How do you confirm who I am before helping with my rentals?")[0] == \
        "We confirm who you are by asking for your e-mail address."


@pytest.mark.parametrize("question, asked", [
    ("How do you confirm who I am before helping with my rentals?", "How do you confirm who I am?"),
    ("How do I get a refund when I paid by card?", "How do I get a refund when I paid by card?"),
    ("Can I cancel after shipping?", "Can I cancel after shipping?")])
def test_only_a_clause_that_times_a_how_question_is_left_out(question: str, asked: str) -> None:
    from assistant.turn.policy_answers import _main_clause

    assert _main_clause(question) == asked


def test_meaning_still_ranks_english_sentences_that_share_no_word(monkeypatch: pytest.MonkeyPatch) -> None:
    hits = [page("Accounts", "Accounts", "We confirm your identity with your e-mail address. Orders ship daily.")]

    def similarity(question: str, sentences: Sequence[str]) -> list[float]:  # a fake embedder's closeness
        return [0.9 if "identity" in s else 0.1 for s in sentences]

    assert answer_sentences(hits, "How do you check who I am?", similarity=similarity)[0].startswith("We confirm")


def test_a_sentence_saying_nothing_new_is_left_out_and_one_adding_a_fact_kept() -> None:
    from assistant.turn.policy_answers import _without_repeats

    assert _without_repeats(["Our gift cards never expire.", "Gift cards never expire."]) == [
        "Our gift cards never expire."]
    assert _without_repeats(["Gift cards never expire.", "Gift cards can be used online and in stores."]) == [
        "Gift cards never expire.", "Gift cards can be used online and in stores."]
    assert _without_repeats(["Returns are free within 30 days.", "After 30 days, returns cost $6.95."]) == [
        "Returns are free within 30 days.", "After 30 days, returns cost $6.95."]
