"""Copilot drafts that help: after a hand-over the suggested reply answers what the shopper needs (found in the
earlier turns) from facts, addressed to the shopper, and never offers a person; a draft goes only to the
conversation it was suggested for. On a shop made here (bike parts, in pounds)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from assistant.components import Components, build_assistant, build_components
from assistant.config.loading import load_settings
from assistant.domain import ShopperIdentity
from assistant.errors import ValidationError
from assistant.llm import FakeChatModel
from assistant.records import TurnRecord
from assistant.staff.agent_drafts import PERSON_OFFER, shopper_needs, without_person_offers
from assistant.staff.copilot import Copilot
from assistant.staff.roles import StaffPrincipal
from assistant.turn.prompts import HANDOVER, NOTHING_FOUND, UNAVAILABLE
from assistant.turn.turn_service import AssistantService

ROSA = ShopperIdentity("r1")
NOOR = ShopperIdentity("r2")
ANA = StaffPrincipal("ana", frozenset({"agent"}))
TRACKING = "RM123456789GB"
LATE = "If a parcel is late by more than 5 working days, we send a replacement or refund it in full."
NOW = datetime(2026, 2, 20, 12, 0, tzinfo=UTC)


def write_bike_shop(root: Path) -> Path:
    root.mkdir(parents=True)
    products = [{"id": "BP-1", "name": "Alloy Chainring 42T", "category": "drivetrain", "description": "A chainring.",
                 "price": 34.0, "currency": "GBP", "stock": 6},
                {"id": "BP-2", "name": "Tubeless Valve Pair", "category": "wheels", "description": "Two valves.",
                 "price": 9.5, "currency": "GBP", "stock": 20}]
    customers = [
        {"id": "r1", "name": "Rosa Alvarez", "orders": [
            {"id": "HB-5521", "status": "shipped", "placed_at": "2026-02-02T10:00:00Z", "currency": "GBP",
             "total": 34.0, "tracking": {"carrier": "Royal Mail", "number": TRACKING},
             "items": [{"product_id": "BP-1", "name": "Alloy Chainring 42T", "quantity": 1, "unit_price": 34.0}]}]},
        {"id": "r2", "name": "Noor Haddad"},
    ]
    (root / "products.jsonl").write_text("\n".join(json.dumps(p) for p in products))
    (root / "customers.jsonl").write_text("\n".join(json.dumps(c) for c in customers))
    (root / "policies").mkdir()
    (root / "policies" / "delivery.md").write_text(
        "# Delivery\n\n## Late parcels\n\n" + LATE + "\n\n## Returns\n\nUnused parts can be returned within 60 days.\n")
    (root / "shop.json").write_text(json.dumps({"name": "Harbour Bike Parts", "currency": "GBP", "locale": "en_GB"}))
    return root


@pytest.fixture(scope="module")
def bike_components(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Components]:
    root = tmp_path_factory.mktemp("bikes")
    settings = load_settings(["test"], env={}, overrides={
        "app": {"data_dir": str(root / "data")}, "knowledge": {"collection_prefix": f"b{uuid.uuid4().hex[:8]}_"},
        "embeddings": {"dimensions": 1024}})
    components = build_components(settings)
    reports = components.ingest_shop(write_bike_shop(root / "harbour-bikes"))
    assert all(r.ok for r in reports), [r.summary() for r in reports]
    yield components
    components.stores.close()


@pytest.fixture
def llm() -> FakeChatModel:
    return FakeChatModel()


@pytest.fixture
def service(bike_components: Components, llm: FakeChatModel) -> AssistantService:
    return build_assistant(bike_components, llm=llm, offers=lambda: [], now=lambda: NOW)


@pytest.fixture
def copilot(service: AssistantService) -> Copilot:
    return Copilot(service)


def say(service: AssistantService, session: str, message: str, who: ShopperIdentity = ROSA) -> None:
    list(service.respond(who, session, message))


def late_order_handed_over(service: AssistantService) -> str:
    session = service.open_session(ROSA)
    say(service, session, "Hi there")
    say(service, session, "Where is my order? The parcel is late.")
    say(service, session, "This is useless. I want to talk to a human.")
    assert service.stores.handovers.open_for_session(session) is not None
    return session


def no_person_offered(text: str) -> bool:
    return PERSON_OFFER.search(text) is None and "don't know" not in text


# the draft after a hand-over -----------------------------------------------------------------------
def test_after_a_handover_the_draft_answers_the_shoppers_problem_from_facts(service: AssistantService,
                                                                             copilot: Copilot) -> None:
    session = late_order_handed_over(service)
    turns_before = service.stores.turns.turns_for_session("r1", session)

    draft = copilot.suggest(session)

    assert draft.session_id == session
    assert draft.message == "Where is my order? The parcel is late."  # not "I want to talk to a human"
    assert draft.intent == "order_status" and draft.verdict in ("pass", "fallback")
    assert draft.reply.startswith("Hi Rosa, thanks for waiting.")
    assert "shipped" in draft.reply and TRACKING in draft.reply  # the order's status and tracking
    assert LATE in draft.reply  # the policy that applies, as written
    assert {s.kind for s in draft.sources} >= {"order", "policy"}
    assert no_person_offered(draft.reply)
    assert service.stores.turns.turns_for_session("r1", session) == turns_before  # nothing recorded


def test_a_model_draft_offering_a_person_loses_that_sentence(service: AssistantService, copilot: Copilot,
                                                             llm: FakeChatModel) -> None:
    session = late_order_handed_over(service)
    llm.enqueue([f"Your order HB-5521 has shipped, tracking {TRACKING}. "
                 "Would you like me to connect you with a person from our team?"])

    draft = copilot.suggest(session)

    assert TRACKING in draft.reply and no_person_offered(draft.reply)


def test_a_conversation_with_no_need_yet_gets_a_question_not_i_dont_know(service: AssistantService,
                                                                         copilot: Copilot) -> None:
    session = service.open_session(NOOR)
    say(service, session, "hello", NOOR)
    say(service, session, "I want to talk to a human please", NOOR)

    draft = copilot.suggest(session)

    assert draft.reply == "Hi Noor, thanks for waiting. I'm here to help: what can I do for you?"
    assert draft.message == "I want to talk to a human please" and draft.verdict == "no_facts"


def test_a_need_without_facts_gets_a_holding_reply(service: AssistantService, copilot: Copilot) -> None:
    session = service.open_session(NOOR)
    say(service, session, "Do you repair carbon frames in Lisbon?", NOOR)
    say(service, session, "Get me a real person.", NOOR)

    draft = copilot.suggest(session)

    assert draft.reply == "Hi Noor, thanks for waiting. I'm looking into this for you now."
    assert draft.message == "Do you repair carbon frames in Lisbon?" and draft.verdict == "no_facts"


def test_without_a_handover_the_draft_answers_the_last_message_unadorned(service: AssistantService,
                                                                        copilot: Copilot, llm: FakeChatModel
                                                                        ) -> None:
    session = service.open_session(ROSA)
    say(service, session, "How long do I have to return unused parts?")
    llm.enqueue(["Unused parts can be returned within 60 days."])

    draft = copilot.suggest(session)

    assert draft.reply.startswith("Unused parts can be returned within 60 days.")  # no greeting, as the turn has it
    assert draft.message == "How long do I have to return unused parts?"


def test_an_agents_own_message_is_drafted_as_asked(service: AssistantService, copilot: Copilot) -> None:
    session = late_order_handed_over(service)

    draft = copilot.suggest(session, "Where is my order HB-5521?")

    assert draft.message == "Where is my order HB-5521?" and TRACKING in draft.reply
    assert no_person_offered(draft.reply)


# a draft belongs to its conversation --------------------------------------------------------------
def test_a_draft_suggested_for_another_conversation_is_refused(service: AssistantService,
                                                               copilot: Copilot) -> None:
    first, second = late_order_handed_over(service), service.open_session(NOOR)
    say(service, second, "hello", NOOR)
    draft = copilot.suggest(first)
    before = service.stores.turns.turns_for_session("r2", second)

    with pytest.raises(ValidationError) as refused:
        copilot.send(second, ANA, draft.reply, draft.reply, draft_session_id=draft.session_id)

    assert "another conversation" in refused.value.user_message
    assert service.stores.turns.turns_for_session("r2", second) == before
    sent = copilot.send(first, ANA, draft.reply, draft.reply, draft_session_id=draft.session_id)
    assert sent.turn.session_id == first and not sent.edited


# the pieces --------------------------------------------------------------------------------------
def turn(message: str, author: str = "assistant") -> TurnRecord:
    return TurnRecord(session_id="s", customer_id="c", message=message, reply="", author=author)


def test_needs_are_newest_first_without_asking_for_a_person_or_greetings() -> None:
    turns = [turn("Hello!"), turn("Can I return a worn saddle?"), turn("", author="agent:ana"),
             turn("My order is late. I want a human now."), turn("yes"), turn("Can I return a worn saddle?")]

    assert shopper_needs(turns) == ["Can I return a worn saddle?", "My order is late."]


@pytest.mark.parametrize("fixed", [NOTHING_FOUND.format(shop="Harbour Bike Parts"), UNAVAILABLE, HANDOVER])
def test_the_fixed_person_offers_are_taken_out(fixed: str) -> None:
    kept = without_person_offers(f"Your order has shipped. {fixed}")

    assert kept.startswith("Your order has shipped.") and PERSON_OFFER.search(kept) is None
