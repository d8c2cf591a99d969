"""Policy answers from the shop's own sentences; a written claim passes only when one sentence states it."""

import pytest

from assistant.shop.catalog_index import CatalogIndex
from assistant.turn.policy_answers import answer_sentences, claim_problems, policy_reply, sentences_of
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
