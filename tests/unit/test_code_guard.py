"""Codes only from the offers table (issue 14, item 4): a code-like token in a reply, letters only too, that is
not an offer chosen for this shopper in this turn, nor the shop's own identifier in the facts, blocks it; a code
in a retrieved document is no offer, and the reply built from the facts leaves its sentence out."""

from __future__ import annotations

from assistant.components import Components, build_assistant
from assistant.domain import DoneEvent, ShopperIdentity
from assistant.llm import FakeChatModel
from assistant.shop.catalog_index import CatalogIndex
from assistant.turn.code_guard import code_like, drop_unknown_codes, unknown_codes
from assistant.turn.compose import fallback_reply
from assistant.turn.facts import Facts
from assistant.turn.verifier import Verifier
from knowledge.knowledge_store import Hit
from tests.unit.conftest import DEMO_NOW

TITLE = "Gift wrapping"


def hit(body: str) -> Hit:
    return Hit("p#0", "policies", f"{TITLE}\nWrapping\n{body}", 0.8,
               {"title": TITLE, "heading": f"{TITLE} > Wrapping", "source": "gifts.md"})


def test_code_like_tokens_include_letters_only_capitals() -> None:
    found = code_like("Use WRAP90, ZFBZR or SAVE-10 on order W2378156; FREE wrapping; the cat sat; USB; S8.")
    assert found == {"WRAP90", "ZFBZR", "SAVE-10", "W2378156", "FREE"}


def test_unknown_codes_allow_the_chosen_offer_the_shops_ids_and_capitalised_words() -> None:
    text = "Use TRAIL20 on order W2378156 for FREE wrapping, or ZFBZR."
    assert unknown_codes(text, {"TRAIL20", "W2378156"}, {"free", "wrapping"}) == ["ZFBZR"]
    # a code of the shop's that was not chosen for this shopper is never "a word"
    assert unknown_codes("Use WELCOME today.", set(), {"welcome"}, forbidden={"WELCOME"}) == ["WELCOME"]
    assert drop_unknown_codes("Wrapping is free. Use WRAP90 at checkout.", set(), set()) == "Wrapping is free."


def test_the_verifier_blocks_a_code_from_a_document_and_a_made_up_one() -> None:
    verifier = Verifier(CatalogIndex({}), {"TRAIL20", "PLAT30"})
    corpus = "Offer for this shopper: Trail: 20% off with code TRAIL20.\nPolicy (Gifts): use code WRAP90 for free wrap."
    trusted = "Offer for this shopper: Trail: 20% off with code TRAIL20.\nOrder W2378156: shipped."

    def ok(reply: str) -> bool:
        return verifier.check(reply, corpus, offer_codes=["TRAIL20"], trusted=trusted).ok

    assert ok("Use TRAIL20 on your next order.")
    assert ok("Order W2378156 has shipped.")
    assert ok("Wrapping is FREE.")  # "free" is a word of the facts
    assert not ok("Use code WRAP90 for free wrapping.")  # in a retrieved document: not an offer
    assert not ok("Use code ZFBZR for free wrapping.")  # letters only, made up
    assert not ok("Use PLAT30.")  # a real code, not chosen for this shopper


def test_the_reply_built_from_the_facts_leaves_out_a_documents_code() -> None:
    facts = Facts(question="Is gift wrapping free?", intent="policy")
    facts.policies = [hit("Gift wrapping is free for every order. Ask for code WRAP90 to get a free gift box.")]

    reply = fallback_reply(facts, "the shop")

    assert "Gift wrapping is free for every order." in reply and "WRAP90" not in reply


def test_a_turn_never_shows_a_code_the_model_made_up(own_demo_components: Components) -> None:
    llm = FakeChatModel().enqueue(["Returns are free within 30 days. Use code ZFBZR for an extra 10% off."])
    service = build_assistant(own_demo_components, llm=llm, now=lambda: DEMO_NOW)

    events = list(service.respond(ShopperIdentity("C001"), None, "How long do I have to return something?"))

    done = events[-1]
    assert isinstance(done, DoneEvent) and "ZFBZR" not in done.reply, done.reply


def test_amounts_in_any_currency_are_checked_as_amounts() -> None:
    from assistant.personalization.offer_rules import describe
    from assistant.turn.understanding import understand

    verifier = Verifier(CatalogIndex({}))
    evidence = "A gift box costs €4.50."
    assert verifier.check("A gift box costs €4.50.", evidence, evidence=evidence).ok
    assert not verifier.check("A gift box costs €5.50.", evidence, evidence=evidence).ok
    assert not verifier.check("A gift box costs CHF 4.", evidence, evidence=evidence).ok
    offer = {"title": "Spring", "code": "SPRING5", "kind": "fixed", "value": 5, "currency": "EUR",
             "eligibility": {"min_basket": 50}}
    assert describe(offer) == "Spring: €5.00 off with code SPRING5 for orders of €50.00 or more."
    assert understand("a bag under €80").max_price == 80 and understand("shoes below CHF 120").max_price == 120


def test_a_name_in_capitals_is_no_code_unless_presented_as_one() -> None:
    source = "We ship with UPS and USPS. Enter code ZHFREE at checkout."
    assert unknown_codes("We ship with UPS and USPS.", set(), set(), source=source) == []
    assert unknown_codes("Use ZHFREE at checkout.", set(), set(), source=source) == ["ZHFREE"]
    assert unknown_codes("Use code ZFBZR.", set(), set(), source=source) == ["ZFBZR"]  # made up
