"""A reply's sources are what it uses (``assistant.turn.cited_sources``), not everything retrieved: a returns answer
that quotes only "Returns and refunds" lists only it, though the warranty was retrieved too; a written reply's
claims count for the document whose sentence states them; products and orders count when the reply uses them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from assistant.domain import Citation, Event, ProductCard, ShopperIdentity
from assistant.llm import FakeChatModel
from assistant.records import Order
from assistant.turn.cited_sources import cited_sources, used_policies
from assistant.turn.facts import Facts
from assistant.turn.policy_answers import sentences_of
from assistant.turn.turn_service import AssistantService
from knowledge.knowledge_store import Hit

Make = Callable[[FakeChatModel], AssistantService]


def chunk(id_: str, title: str, section: str, body: str, score: float) -> Hit:
    """A policy chunk as the knowledge store holds it: its headings' lines, then the body."""
    return Hit(id_, "policies", f"# {title}\n## {section}\n{body}", score,
               {"title": title, "heading": f"{title} > {section}", "source": f"{id_}.md"})


RETURNS = chunk("returns-1", "Returns and refunds", "Window", "You have 30 days to return an unworn item for a full "
                "refund. Refunds reach your card within 5 business days.", 0.8)
WARRANTY = chunk("warranty-1", "Warranty", "Cover", "Every jacket has a two-year warranty against defects in "
                 "materials. A warranty claim needs the original receipt.", 0.6)
SHIPPING = chunk("shipping-1", "Shipping", "Express", "Express shipping costs 15 dollars and arrives within two days.",
                 0.5)
HITS = [RETURNS, WARRANTY, SHIPPING]


def titles(sources: Any) -> list[str]:
    return [s.title if isinstance(s, Citation) else s["title"] for s in sources]


def sources_of(events: list[Event]) -> list[dict[str, Any]]:
    sent = [e.to_dict()["sources"] for e in events if e.type == "sources"]
    assert len(sent) == 1, sent
    return list(sent[0])


def test_a_built_answer_cites_only_the_documents_it_quotes() -> None:
    reply = "You have 30 days to return an unworn item for a full refund. Source: Returns and refunds."

    assert used_policies(reply, HITS) == [RETURNS]
    assert titles(cited_sources(Facts("How long do I have?", "policy", policies=HITS), reply)) == [
        "Returns and refunds"]


def test_sentences_of_two_documents_cite_both_in_retrieval_order() -> None:
    reply = ("Express shipping costs 15 dollars and arrives within two days. A warranty claim needs the original "
             "receipt. Sources: Shipping; Warranty.")

    assert used_policies(reply, HITS) == [WARRANTY, SHIPPING]


def test_a_written_claim_cites_the_document_whose_sentence_states_it() -> None:
    # in the reply's own words: every content word is in one sentence of the warranty
    reply = "Jackets have a two-year warranty against defects in materials."
    evidence = [*sentences_of(WARRANTY), *sentences_of(RETURNS)]  # the sentences that answer, best first

    assert used_policies(reply, HITS, evidence) == [WARRANTY]
    assert used_policies(reply, HITS) == []  # not a written policy answer: only a quote counts


def test_a_claim_two_documents_state_cites_the_best_answering_one() -> None:
    first = chunk("returns-2", "Returns and refunds", "Exchanges", "Jackets have a two-year warranty.", 0.4)
    hits = [*HITS, first]

    claim = "A jacket has a two-year warranty."  # in other words than both

    assert used_policies(claim, hits, sentences_of(first)) == [first]
    assert used_policies(claim, hits, sentences_of(WARRANTY)) == [WARRANTY]


def test_a_source_line_or_a_title_alone_uses_no_document() -> None:
    assert used_policies("Sorry, I could not find that. Source: Warranty.", HITS) == []
    assert used_policies("根据《Warranty》：", HITS) == []


def test_a_quote_in_another_language_cites_the_document_it_quotes() -> None:
    quoted = "根据《Warranty》：A warranty claim needs the original receipt."
    english = "According to \u201cReturns and refunds\u201d: Refunds reach your card within 5 business days."

    assert used_policies(quoted, HITS) == [WARRANTY]
    assert used_policies(english, HITS) == [RETURNS]


def test_a_written_reply_cites_what_it_states_not_what_its_source_line_names() -> None:
    reply = "Your refund reaches your card within 5 business days. Source: Warranty."

    assert used_policies(reply, HITS, sentences_of(RETURNS)) == [RETURNS]


def test_products_and_orders_are_cited_when_the_reply_uses_them() -> None:
    trail = ProductCard("p1", "Trail Runner", 89.0, "USD", "shoes")
    hiker = ProductCard("p2", "Summit Hiker", 129.0, "USD", "shoes")
    facts = Facts("Any running shoes?", "product_search", products=[trail, hiker], policies=[WARRANTY])

    assert titles(cited_sources(facts, "Yes, we have the trail runner for $89.00.")) == ["Trail Runner"]
    assert cited_sources(facts, "Nothing matched.") == ()


def named_sources(reply: str) -> list[str]:
    """The documents a reply's own source line names ("... Source: A." / "... Sources: A; B.")."""
    line = reply.rsplit("Source: ", 1)[-1] if "Source: " in reply else reply.rsplit("Sources: ", 1)[-1]
    return [t.strip() for t in line.rstrip(".").split(";")] if line != reply else []


def test_an_order_answer_cites_the_orders_it_names_or_the_shoppers_orders_it_was_given() -> None:
    placed = datetime(2026, 11, 2, tzinfo=UTC)
    first, second = (Order(i, "C001", "shipped", placed, "USD", ()) for i in ("NW-1001", "NW-1002"))
    facts = Facts("Where are my orders?", "order_status", orders=[first, second], policies=[SHIPPING])

    assert titles(cited_sources(facts, "Order NW-1002 has shipped.")) == ["Order NW-1002"]
    assert titles(cited_sources(facts, "It has shipped.")) == ["Order NW-1001", "Order NW-1002"]


def test_a_returns_answer_in_the_demo_shop_lists_only_the_documents_it_quotes(make_service: Make,
                                                                                fake_llm: FakeChatModel) -> None:
    service = make_service(fake_llm)

    events = list(service.respond(ShopperIdentity("C001"), None, "How long do I have to return something?"))

    done = events[-1].to_dict()
    stored = service.turns.get_turn(done["turn_id"])
    assert stored is not None and "30 days" in done["reply"]
    retrieved = {str(h["heading"]).split(" > ")[0] for h in stored.trace["retrieved"] if h.get("heading")}
    listed, named = list(dict.fromkeys(titles(sources_of(events)))), named_sources(done["reply"])
    assert named and listed == named, (listed, done["reply"])  # what the reply says it quotes, and only that
    assert retrieved - set(listed), retrieved  # another retrieved document is not listed


def test_a_written_reply_that_passes_cites_the_chunks_that_state_it(make_service: Make,
                                                                     fake_llm: FakeChatModel) -> None:
    from assistant.turn.answer_nodes import tools_node, verify_node
    from tests.unit.test_turn_nodes import Sink, prepared

    service = make_service(fake_llm)
    s = prepared(service, "How much is express shipping?")
    s.facts = tools_node(s, service.deps, Sink())["facts"]
    s.reply, s.verdict = "Express shipping costs $14.99.", "pass"
    sink = Sink()

    update = verify_node(s, service.deps, sink)

    assert update["verdict"] == "pass" and update["reply"].endswith("Source: Shipping.")
    cited = sources_of(sink.events)
    assert [c["title"] for c in cited] == ["Shipping"], cited  # the chunk that states the price, once
    assert len(s.facts.policies) > len(cited)  # the other retrieved chunks are not listed
