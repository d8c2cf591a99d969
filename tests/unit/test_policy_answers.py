"""Policy answers from the shop's own sentences; a written claim passes only when one sentence states it."""

import pytest

from assistant.shop.catalog_index import CatalogIndex
from assistant.turn.policy_answers import answer_sentences, policy_reply, sentences_of
from assistant.turn.policy_claims import claim_problems
from assistant.turn.verifier import SupportIndex, Verifier
from knowledge.embeddings import HashEmbedder
from knowledge.knowledge_store import Hit

TITLE = "Parcels, gifts and tea points"


def hit(heading: str, body: str, n: int = 0) -> Hit:
    return Hit(f"p#{n}", "policies", f"{TITLE}\n{heading}\n{body}", 0.8,
               {"title": TITLE, "heading": f"{TITLE} > {heading}", "source": "parcels.md"})


HITS = [
    hit("Sending tea back", "You can send unopened tea back within 14 days of delivery. Opened tins cannot be sent "
        "back.\n\nWe pay refunds to your original card within 5-7 business days after the tin reaches our "
        "warehouse.", 0),
    hit("Gift wrapping", "Gift messages are free. A gift box costs $4.50.", 1),
    hit("Tea points", "You earn 2 tea points for every $1 you spend. Tea points can be used on any order.\n\n"
        "These orders **cannot** earn points:\n- Orders paid with a gift card.\n- Orders of sample tins.", 2),
]
SOURCES = [s for h in HITS for s in sentences_of(h)]


def test_list_items_are_read_with_their_lead_in_and_without_markdown() -> None:
    sentences = sentences_of(HITS[2])

    assert "These orders cannot earn points: Orders paid with a gift card." in sentences
    assert not any("**" in s or s.startswith("-") for s in sentences)


@pytest.mark.parametrize("question, expected", [
    ("Can I add a gift message?", "Gift messages are free."),
    ("How long until I get my refund?", "We pay refunds to your original card within 5-7 business days"),
    ("How much is a gift box?", "A gift box costs $4.50."),
])
def test_the_sentence_that_answers_comes_first(question: str, expected: str) -> None:
    assert answer_sentences(HITS, question)[0].startswith(expected)


def test_the_extractive_reply_names_the_document_title_not_the_file() -> None:
    reply = policy_reply(HITS, "Can I add a gift message?")

    assert reply.startswith("Gift messages are free.") and reply.endswith(f"Source: {TITLE}.")
    assert "parcels.md" not in reply


@pytest.mark.parametrize("claim", [
    "No, we only allow gift cards.",  # the policy says gift messages are free
    "Tea points are only available on your first order.",
    "We will refund your order within 14 days of delivery.",  # 14 days is the window to send back, not the refund
    "The 14-day return window is a 14-day window, and the return label is a 14-day return label.",
    "Opened tins can be sent back.",  # the policy says they cannot
    "You earn 3 tea points for every $1 you spend.",
    "No.",
])
def test_claims_no_single_sentence_states_fail(claim: str) -> None:
    assert claim_problems(claim, SOURCES)


@pytest.mark.parametrize("claim", [
    "Gift messages are free.", "You can send unopened tea back within 14 days of delivery.",
    "Opened tins cannot be sent back.", "Yes, gift messages are free.",
    "We pay refunds to your original card within 5-7 business days.",
])
def test_claims_one_sentence_states_pass(claim: str) -> None:
    assert claim_problems(claim, SOURCES) == []


def test_topical_similarity_alone_does_not_pass_a_claim() -> None:
    verifier = Verifier(CatalogIndex({}), support_threshold=0.1, embedder=HashEmbedder(dimensions=256))
    corpus = "\n".join(SOURCES)
    wrong = "We pay refunds to your original card within 14 days."
    support = SupportIndex(verifier.embedder, corpus)  # type: ignore[arg-type]

    assert support.support(wrong) >= 0.1  # close enough in topic ...
    verdict = verifier.check(wrong, corpus, "How long until my refund?", [], support, "\n".join(SOURCES[:3]))
    assert not verdict.ok and any("not stated by any one sentence" in p for p in verdict.problems)  # ... not a fact


def test_a_written_answer_opens_with_a_sentence_that_answers_best() -> None:
    best_first = ["Gift messages are free.", "Tea points can be used on any order.", "A gift box costs $4.50."]

    assert claim_problems("A gift box costs $4.50. Gift messages are free.", best_first, opening=2)
    assert claim_problems("Gift messages are free. A gift box costs $4.50.", best_first, opening=2) == []


def test_amounts_compare_by_value_and_a_different_amount_fails() -> None:
    sources = ["Orders of $1,200 or more ship free.", "Express delivery takes two business days."]

    assert claim_problems("Orders of $1200.00 or more ship free.", sources) == []
    assert claim_problems("Express delivery takes 2 business days.", sources) == []
    assert claim_problems("Orders of $1,000 or more ship free.", sources)


@pytest.mark.parametrize("question", ["Which delivery options do you have?", "What are your delivery options?"])
def test_a_question_for_the_choices_gets_the_whole_list(question: str) -> None:
    options = hit("Delivery", "We deliver every weekday.\n\nDelivery options:\n- Courier: 2 days\n- Post: 5 days\n"
                  "- Pick-up: same day", 3)

    assert answer_sentences([options], question) == ["Delivery options: Courier: 2 days; Post: 5 days; Pick-up: "
                                                     "same day."]


# A made-up shop's pages, written for these tests (no shop's own wording).
LOANS = [
    hit("Swapping a lamp", "Each lamp can be returned only once. If the second lamp still flickers, you can send "
        "it back for your money.", 10),
    hit("Renting a lamp", "You can rent a lamp for a weekend. The lamp comes with a spare bulb.", 11),
    hit("Sold-out lamps", "A swap needs the lamp you want to be on the shelf.\n\nIf the lamp you want is gone, we "
        "cannot swap yours. You can send it back for your money instead, within 20 days.", 12),
    hit("Paying for a rental", "A rental can be paid with a single card. Rentals are paid when you collect the "
        "lamp.", 13),
]


def test_a_no_is_followed_by_what_can_be_done_instead() -> None:
    answer = answer_sentences([LOANS[2]], "The lamp I want is gone. What can I do instead of a swap?")

    assert answer[0] == "If the lamp you want is gone, we cannot swap yours."
    assert "You can send it back for your money instead, within 20 days." in answer


def test_the_sentence_before_the_best_is_added_only_when_the_best_leans_on_it() -> None:
    plain = hit("Renting a lamp", "Every rental is checked by hand. A rented lamp includes a spare bulb.", 15)
    leaning = hit("Renting a lamp", "Every rental is checked by hand. This includes a spare bulb.", 16)

    assert answer_sentences([plain], "Does it include a spare bulb?", close=False) == \
        ["A rented lamp includes a spare bulb."]
    assert answer_sentences([leaning], "Does it include a spare bulb?", close=False) == \
        ["This includes a spare bulb.", "Every rental is checked by hand."]


@pytest.mark.parametrize("question, expected", [
    ("If the second lamp still flickers, can I return the lamp again?", "Each lamp can be returned only once."),
    ("Can I split the payment for my rental across two cards?", "A rental can be paid with a single card."),
])
def test_a_question_about_how_many_times_or_how_many_gets_the_sentence_with_the_count(question: str,
                                                                                        expected: str) -> None:
    assert expected in answer_sentences([LOANS[0], LOANS[3]], question)


def test_an_item_and_then_its_whole_list_is_said_once_as_the_list() -> None:
    from assistant.turn.policy_answers import _without_repeats

    item = "If you opt out: You get no personal offers."
    whole = "If you opt out: We stop learning your tastes; You get no personal offers; You only see popular items."

    assert _without_repeats([item, whole]) == [whole]
    assert _without_repeats([whole, item]) == [whole]
    assert _without_repeats([item, "A gift box costs $4.50."]) == [item, "A gift box costs $4.50."]


def test_a_chinese_list_said_whole_keeps_chinese_punctuation() -> None:
    # as stored: the import folds full-width punctuation (NFKC), so the lead-in ends with ":"
    optout = hit("关闭", "您可以随时关闭。关闭以后:\n\n- 我们不再了解您的喜好。\n- 您不会再收到专属优惠。\n"
                       "- 只展示热门商品。", 21)

    said = answer_sentences([optout], "关闭以后会怎样？")

    assert "关闭以后：我们不再了解您的喜好；您不会再收到专属优惠；只展示热门商品。" in said, said


def test_two_items_of_one_list_are_said_as_one_sentence_under_their_lead_in() -> None:
    optout = hit("Opting out", "You can opt out at any time in your settings. If you opt out:\n- We stop learning your "
                 "tastes from your chats.\n- You get no personal recommendations.\n- The assistant only shows you "
                 "popular items.\n\nYou can opt in again later.", 30)

    said = answer_sentences([optout], "What will the assistant show me if I turn off personal recommendations?")

    assert said == ["If you opt out: You get no personal recommendations; The assistant only shows you popular items."]
