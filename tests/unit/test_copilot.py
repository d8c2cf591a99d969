"""The copilot for support agents on fakes: a conversation's context, a suggested reply that records nothing,
sending (author and diff in the log), one agent per conversation (409), taking over and giving back, and the
shopper receiving the agent's reply."""

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from assistant.components import Components, build_assistant
from assistant.domain import DoneEvent, ShopperIdentity
from assistant.llm import FakeChatModel
from assistant.staff.copilot import Copilot, HeldByAnotherAgent
from assistant.staff.roles import StaffPrincipal
from assistant.store.handovers import Handover
from assistant.turn.state import HELD
from assistant.turn.turn_service import AssistantService
from tests.unit.conftest import DEMO_NOW

MAYA = ShopperIdentity("C001")  # gold, runner
LUCAS = ShopperIdentity("C004")  # platinum, hiking boots
ANA = StaffPrincipal("ana", frozenset({"agent"}))
BEN = StaffPrincipal("ben", frozenset({"agent"}))
RETURNS = "You can return an item within 30 days from the day it was delivered."


@pytest.fixture
def service(own_demo_components: Components, demo_offers: list[dict[str, Any]],
            fake_llm: FakeChatModel) -> Iterator[AssistantService]:
    yield build_assistant(own_demo_components, llm=fake_llm, offers=lambda: demo_offers, now=lambda: DEMO_NOW,
                          rng=np.random.default_rng(5))


@pytest.fixture
def copilot(service: AssistantService) -> Copilot:
    return Copilot(service)


def say(service: AssistantService, session: str, message: str, who: ShopperIdentity = MAYA) -> DoneEvent:
    done = list(service.respond(who, session, message))[-1]
    assert isinstance(done, DoneEvent)
    return done


def open_handover(service: AssistantService, session: str) -> Handover:
    handover = service.stores.handovers.open_for_session(session)
    assert handover is not None
    return handover


def state_of(service: AssistantService, session: str) -> dict[str, Any]:
    chat = service.stores.sessions.find(session)
    assert chat is not None
    return chat.state


def handed_over(service: AssistantService, who: ShopperIdentity = MAYA) -> str:
    session = service.open_session(who)
    say(service, session, "hello", who)
    say(service, session, "I want to talk to a human please", who)
    return session


# context ---------------------------------------------------------------------------------------
def test_opening_a_handover_shows_profile_conversation_and_handover(service: AssistantService,
                                                                  copilot: Copilot) -> None:
    session = handed_over(service)
    handover = open_handover(service, session)
    service.stores.customers.add_preference("C001", "colour", "teal", origin="inferred", source="turn:t1",
                                            confidence=0.6)

    context = copilot.handover_context(handover.id)

    customer = context.customer
    assert customer is not None and customer.id == "C001" and customer.tier == "gold" and customer.points > 0
    assert customer.consent.personalization is True
    origins = {p["origin"] for p in customer.preferences}
    assert origins == {"explicit", "inferred"}
    teal = next(p for p in customer.preferences if p["value"] == "teal")
    assert 0 < teal["confidence"] <= 0.6
    assert customer.orders and all(o.customer_id == "C001" for o in customer.orders)
    assert [t.message for t in context.turns] == ["hello", "I want to talk to a human please"]
    assert context.handover is not None and context.handover.reason == "customer_request"
    assert context.held_by is None
    body = context.to_dict()
    assert body["customer"]["consent"] == {"personalization": True, "marketing": customer.consent.marketing}
    assert body["turns"][1]["author"] == "assistant" and "email" not in body["customer"]


def test_the_queue_lists_handovers_oldest_first_with_reason_and_summary(service: AssistantService,
                                                                      copilot: Copilot) -> None:
    first, second = handed_over(service, MAYA), handed_over(service, LUCAS)

    items = [i for i in copilot.queue() if i.handover.session_id in (first, second)]

    assert [i.handover.session_id for i in items] == [first, second]
    assert items[0].handover.reason == "customer_request" and "talk to a human" in items[0].handover.summary
    assert items[0].to_dict()["held_by"] is None


def test_live_conversations_show_the_last_message_and_who_has_each(service: AssistantService,
                                                                   copilot: Copilot) -> None:
    quiet, taken = service.open_session(MAYA), service.open_session(LUCAS)
    say(service, quiet, "hello")
    say(service, taken, "hi", LUCAS)
    copilot.take_over(taken, ANA)
    say(service, taken, "anyone there?", LUCAS)

    live = {c.session_id: c for c in copilot.live()}

    assert live[taken].held_by == "ana" and live[taken].last_message == "anyone there?"
    assert live[taken].customer_id == "C004" and live[taken].turns == 2
    assert live[quiet].held_by is None and live[quiet].last_message == "hello"
    assert list(live).index(taken) < list(live).index(quiet)  # most recent first


def test_an_unknown_session_is_not_found(copilot: Copilot) -> None:
    from assistant.errors import NotFoundError

    with pytest.raises(NotFoundError):
        copilot.context("no-such-session")


# suggest ---------------------------------------------------------------------------------------
def test_suggest_drafts_a_reply_to_the_last_message_with_sources_and_records_nothing(
        service: AssistantService, copilot: Copilot, fake_llm: FakeChatModel) -> None:
    session = service.open_session(MAYA)
    answered = say(service, session, "How long do I have to return something?")
    turns_before = service.stores.turns.turns_for_session("C001", session)
    state_before = state_of(service, session)
    events_before = len(service.stores.events.list_for("C001"))

    draft = copilot.suggest(session)

    assert draft.message == "How long do I have to return something?"
    # issue 13: a policy answer is the policy's own sentences, then the title of the document they come from,
    # built from the facts as the shopper's was (the model is not asked)
    assert draft.reply == answered.reply and "30 days" in draft.reply and " Source: " in draft.reply
    assert draft.verdict == "fallback" and draft.intent == "policy" and fake_llm.calls == []
    assert draft.sources and all(s.kind == "policy" for s in draft.sources)
    assert service.stores.turns.turns_for_session("C001", session) == turns_before
    assert state_of(service, session) == state_before
    assert len(service.stores.events.list_for("C001")) == events_before


def test_suggest_gives_recommendations_with_reasons_and_offers_without_counting_them_shown(
        service: AssistantService, copilot: Copilot, fake_llm: FakeChatModel) -> None:
    session = service.open_session(LUCAS)
    service.stores.sessions.hold(session, "ana")  # the assistant does not answer: the message waits
    say(service, session, "Can you recommend something for me?", LUCAS)
    shown_before = service.stores.bandit.all()
    fake_llm.enqueue(["Here are a few picks for you."])

    draft = copilot.suggest(session)

    assert draft.intent == "recommendation" and draft.products
    assert all(p.reason for p in draft.products)
    assert draft.offers and draft.offers[0].code
    assert service.stores.bandit.all() == shown_before
    assert service.stores.events.list_for("C004", ["offer_shown", "recommendation_shown"]) == []


def test_suggest_in_a_handed_over_conversation_drafts_from_facts_and_opens_nothing(
        service: AssistantService, copilot: Copilot, fake_llm: FakeChatModel) -> None:
    session = handed_over(service)
    open_before = service.stores.handovers.list_open(500)

    draft = copilot.suggest(session, "I want to cancel my order NW-100073")

    assert draft.intent == "order_action" and "NW-100073" in draft.message
    assert service.stores.handovers.list_open(500) == open_before
    order = service.stores.orders.get("C001", "NW-100073")
    assert order is not None and order.status == "shipped"


def test_a_failing_lookup_while_drafting_is_an_error_for_the_agent_and_hands_nothing_over(
        service: AssistantService, copilot: Copilot, monkeypatch: pytest.MonkeyPatch) -> None:
    from assistant.errors import ConciergeError

    session = service.open_session(MAYA)
    say(service, session, "hello")

    def broken(customer_id: str | None) -> Any:
        raise RuntimeError("chroma is down")

    monkeypatch.setattr(service.deps.shop_tools, "for_shopper", broken)
    with pytest.raises(ConciergeError) as raised:
        copilot.suggest(session, "How long do I have to return something?")

    assert "write one yourself" in raised.value.user_message
    assert service.stores.handovers.open_for_session(session) is None
    assert len(service.stores.turns.turns_for_session("C001", session)) == 1


def test_suggest_without_any_shopper_message_is_refused(service: AssistantService, copilot: Copilot) -> None:
    from assistant.errors import ValidationError

    session = service.open_session(MAYA)

    with pytest.raises(ValidationError) as raised:
        copilot.suggest(session)

    assert "nothing to draft" in raised.value.user_message


# send ------------------------------------------------------------------------------------------
def test_send_records_the_agents_reply_with_author_draft_and_diff(service: AssistantService,
                                                                 copilot: Copilot) -> None:
    session = handed_over(service)
    draft = "You can return an item within 30 days. Refunds take 5 days."
    text = "You can return an item within 30 days. I have started your refund myself."

    sent = copilot.send(session, ANA, text, draft)

    stored = service.stores.turns.get_turn(str(sent.turn.id))
    assert stored is not None and stored.author == "agent:ana" and stored.reply == text and stored.message == ""
    assert stored.trace["draft"] == draft and stored.trace["sent"] == text and stored.trace["edited"] is True
    assert "-Refunds take 5 days." in stored.trace["diff"]
    assert "+I have started your refund myself." in stored.trace["diff"]
    assert stored.trace["agent"] == "ana" and stored.verdict == "agent"
    assert [e.kind for e in service.stores.events.list_for("C001", ["agent_reply"])
            if e.turn_id == stored.id] == ["agent_reply"]


def test_sending_the_draft_unchanged_is_not_an_edit(service: AssistantService, copilot: Copilot) -> None:
    session = handed_over(service)

    sent = copilot.send(session, ANA, RETURNS, RETURNS)

    assert sent.edited is False and sent.diff == "" and sent.turn.trace["edited"] is False


def test_personal_data_in_an_agents_reply_is_redacted_before_it_is_stored(service: AssistantService,
                                                                         copilot: Copilot) -> None:
    session = handed_over(service)

    sent = copilot.send(session, ANA, "Write to me at ana.private@example.com please.")

    assert sent.redacted and "ana.private@example.com" not in sent.turn.reply
    assert sent.turn.trace["from_draft"] is False and sent.turn.trace["edited"] is True


@pytest.mark.parametrize("text", ["", "   ", "x" * 4001])
def test_an_empty_or_too_long_reply_is_refused_and_nothing_is_recorded(service: AssistantService,
                                                                       copilot: Copilot, text: str) -> None:
    from assistant.errors import ValidationError

    session = handed_over(service)
    before = service.stores.turns.turns_for_session("C001", session)

    with pytest.raises(ValidationError):
        copilot.send(session, ANA, text)

    assert service.stores.turns.turns_for_session("C001", session) == before


def test_a_reply_to_a_conversation_another_agent_has_is_a_conflict_and_changes_nothing(
        service: AssistantService, copilot: Copilot) -> None:
    session = handed_over(service)
    copilot.take_over(session, ANA)
    before = service.stores.turns.turns_for_session("C001", session)

    with pytest.raises(HeldByAnotherAgent) as raised:
        copilot.send(session, BEN, "I'll handle this.")

    assert raised.value.agent == "ana" and "ana has this conversation" in raised.value.user_message
    assert service.stores.turns.turns_for_session("C001", session) == before
    assert copilot.holder(session) == "ana"
    assert open_handover(service, session).agent == "ana"


def test_a_handover_claimed_by_another_agent_is_theirs(service: AssistantService, copilot: Copilot) -> None:
    session = handed_over(service)
    service.stores.handovers.claim(open_handover(service, session).id, "ana")

    with pytest.raises(HeldByAnotherAgent):
        copilot.take_over(session, BEN)

    assert copilot.holder(session) == "ana"
    assert "taken_over_by" not in state_of(service, session)


def test_sending_in_a_conversation_nobody_has_takes_it_and_claims_its_handover(service: AssistantService,
                                                                              copilot: Copilot) -> None:
    session = handed_over(service)

    copilot.send(session, ANA, "Hi Maya, I'm Ana. How can I help?")

    handover = open_handover(service, session)
    assert copilot.holder(session) == "ana" and handover.status == "claimed" and handover.agent == "ana"
    assert next(i for i in copilot.queue() if i.handover.session_id == session).held_by == "ana"


# take over, give back --------------------------------------------------------------------------
def test_while_taken_over_the_shoppers_messages_are_recorded_for_the_agent_without_the_model(
        service: AssistantService, copilot: Copilot, fake_llm: FakeChatModel) -> None:
    session = service.open_session(MAYA)
    fake_llm.enqueue([RETURNS])
    say(service, session, "How long do I have to return something?")
    calls = len(fake_llm.calls)
    copilot.take_over(session, ANA)

    first = say(service, session, "And how much is express shipping?")
    second = say(service, session, "Hello? Anyone?")

    assert len(fake_llm.calls) == calls
    assert (first.verdict, first.reply) == ("held", HELD)
    assert (second.verdict, second.reply) == ("held", "")
    turns = service.stores.turns.turns_for_session("C001", session)
    assert [t.message for t in turns[-2:]] == ["And how much is express shipping?", "Hello? Anyone?"]
    assert all(t.trace["held_for"] == "ana" and t.status == "ok" for t in turns[-2:])
    assert copilot.holder(session) == "ana"  # the turns' own state writes kept the take-over


def test_after_giving_back_the_assistant_answers_again_and_the_handover_is_resolved(
        service: AssistantService, copilot: Copilot, fake_llm: FakeChatModel) -> None:
    session = handed_over(service)
    handover_id = open_handover(service, session).id
    copilot.take_over(session, ANA)
    say(service, session, "still there?")

    copilot.give_back(session, ANA)

    fake_llm.enqueue(["Your order NW-100073 has shipped."])
    done = say(service, session, "Where is my order NW-100073?")  # the model is asked again
    assert done.verdict == "pass" and done.reply == "Your order NW-100073 has shipped." and fake_llm.calls
    assert copilot.holder(session) is None and service.stores.handovers.open_for_session(session) is None
    resolved = service.stores.handovers.get(handover_id)
    assert resolved is not None and resolved.status == "resolved" and resolved.agent == "ana"


def test_only_the_agent_who_has_the_conversation_gives_it_back(service: AssistantService,
                                                                copilot: Copilot) -> None:
    session = service.open_session(MAYA)
    copilot.take_over(session, ANA)

    with pytest.raises(HeldByAnotherAgent):
        copilot.give_back(session, BEN)

    assert copilot.holder(session) == "ana"


def test_taking_over_twice_is_a_no_op_and_a_second_take_over_after_give_back_notifies_again(
        service: AssistantService, copilot: Copilot) -> None:
    session = service.open_session(MAYA)
    copilot.take_over(session, ANA)
    copilot.take_over(session, ANA)
    assert say(service, session, "hi there, anyone?").reply == HELD
    copilot.give_back(session, ANA)

    copilot.take_over(session, BEN)

    done = say(service, session, "hello again?")
    assert done.reply == HELD and copilot.holder(session) == "ben"


# the shopper receives it -----------------------------------------------------------------------
def test_the_shopper_sees_the_agents_reply_in_the_session_and_its_updates(service: AssistantService,
                                                                         copilot: Copilot) -> None:
    session = handed_over(service)
    last = service.history(MAYA, session)[-1]

    sent = copilot.send(session, ANA, "Hi Maya, Ana here: your refund is on its way.")

    history = service.history(MAYA, session)
    assert history[-1].id == sent.turn.id and history[-1].author == "agent:ana"
    updates = service.updates(MAYA, session, after=last.id)
    assert [(t.author, t.reply) for t in updates] == [("agent:ana", "Hi Maya, Ana here: your refund is on its way.")]
    assert service.updates(MAYA, session, after=sent.turn.id) == []


def test_another_shopper_cannot_read_the_updates(service: AssistantService, copilot: Copilot) -> None:
    from assistant.errors import NotFoundError

    session = handed_over(service)
    copilot.send(session, ANA, "Hi Maya.")

    with pytest.raises(NotFoundError):
        service.updates(LUCAS, session)


def test_updates_after_a_time_and_a_bad_after(service: AssistantService, copilot: Copilot) -> None:
    from assistant.errors import ValidationError

    session = handed_over(service)
    sent = copilot.send(session, ANA, "Hi Maya.")
    assert sent.turn.created_at is not None

    assert service.updates(MAYA, session, after="2000-01-01T00:00:00Z")[-1].id == sent.turn.id
    assert service.updates(MAYA, session, after=sent.turn.created_at.isoformat()) == []
    with pytest.raises(ValidationError) as raised:
        service.updates(MAYA, session, after="yesterday")
    assert "ISO 8601" in raised.value.user_message


# marketing copy review --------------------------------------------------------------------------
def test_copy_review_delegates_to_the_queue(service: AssistantService, copilot: Copilot) -> None:
    draft = service.stores.copy.add(kind="push", text="Hi Maya, new trail shoes are in.", facts={"lines": []},
                                    verdict={}, customer_id="C001")
    other = service.stores.copy.add(kind="push", text="Hi Maya!", facts={"lines": []}, verdict={},
                                    customer_id="C001")
    assert {d.id for d in copilot.pending_copy()} >= {draft.id, other.id}

    edited = copilot.edit_copy(draft.id, ANA, "Hi Maya, the new trail shoes are in.")
    rejected = copilot.reject_copy(other.id, ANA, "too short")

    assert (edited.status, edited.reviewer, edited.text) == ("edited", "ana", "Hi Maya, the new trail shoes are in.")
    assert rejected.status == "rejected" and draft.id not in {d.id for d in copilot.pending_copy()}


# the shopper's Gradio chat polls for agents' replies -------------------------------------------
def test_the_chat_finds_agents_replies_it_does_not_show_yet(service: AssistantService, copilot: Copilot) -> None:
    from ui.chat_page import new_agent_replies

    session = handed_over(service)
    first = copilot.send(session, ANA, "Hi Maya, Ana here.").turn
    second = copilot.send(session, ANA, "Your refund is on its way.").turn

    fresh = new_agent_replies(service, MAYA, session, [None, first.id])

    assert [t.id for t in fresh] == [second.id]
    assert new_agent_replies(service, LUCAS, session, []) == []  # not Lucas's conversation
    assert new_agent_replies(service, None, session, []) == []


def test_the_chat_timer_appends_an_agents_reply_once(own_demo_components: Components, service: AssistantService,
                                                     copilot: Copilot) -> None:
    from assistant.identity import issue_token
    from ui.chat_page import build_chat_ui

    session = handed_over(service)
    own_demo_components.stores.staff.add_user("ana", "correct horse", ["agent"], display_name="Ana Lima")
    copilot.send(session, ANA, "Hi Maya, <b>Ana</b> here.")
    own_demo_components.__dict__["assistant"] = service
    try:
        blocks = build_chat_ui(own_demo_components)
    finally:
        own_demo_components.__dict__.pop("assistant", None)
    [poll] = [f.fn for f in blocks.fns.values() if f.name == "poll_agents"]
    token = issue_token("C001", own_demo_components.settings.security.token_secret.get_secret_value(), 600)
    history = [{"role": "user", "content": "hello"}, {"role": "assistant", "content": "Hi!"}]

    shown, ids = poll(history, token, session, [None, None])
    again = poll(shown, token, session, ids)

    # the agent's display name, never the username ("ana")
    assert len(shown) == 3 and "Ana Lima · from our team" in shown[-1]["content"] and "*ana" not in shown[-1]["content"]
    assert "&lt;b&gt;Ana&lt;/b&gt;" in shown[-1]["content"] and ids[-1] is not None
    assert again == (gr_skip(), gr_skip())


def gr_skip() -> Any:
    import gradio as gr

    return gr.skip()
