"""Offers in the turn: one offer chosen by the bandit with its propensity, logged in offer_shown and counted;
a reply naming a code not chosen fails verification; feedback updates the bandit; caps come from events."""

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from assistant.components import Components, build_assistant
from assistant.domain import DoneEvent, Event, ShopperIdentity
from assistant.errors import NotFoundError, ValidationError
from assistant.llm import FakeChatModel
from assistant.personalization.offer_bandit import record_offer_feedback
from assistant.turn.turn_service import AssistantService
from assistant.turn.verifier import Verifier
from tests.unit.conftest import DEMO_NOW

LUCAS = ShopperIdentity("C004")  # platinum, hiking boots
DANIEL = ShopperIdentity("C002")  # opted out of personalization

Make = Callable[[FakeChatModel], AssistantService]


@pytest.fixture
def make(own_demo_components: Components, demo_offers: list[dict[str, Any]]) -> Make:
    def build(llm: FakeChatModel) -> AssistantService:
        return build_assistant(own_demo_components, llm=llm, offers=lambda: demo_offers, now=lambda: DEMO_NOW,
                               rng=np.random.default_rng(11))
    return build


def turn(service: AssistantService, who: ShopperIdentity, message: str) -> list[Event]:
    return list(service.respond(who, None, message))


def offers_of(events: list[Event]) -> list[dict[str, Any]]:
    return [o for e in events if e.type == "offers" for o in e.to_dict()["offers"]]


def test_asking_for_offers_shows_one_offer_with_its_propensity_logged_and_counted(make: Make) -> None:
    service = make(FakeChatModel())
    bandit = service.stores.bandit
    before = bandit.all()

    events = turn(service, LUCAS, "Do I have any offers?")

    [offer] = offers_of(events)
    assert 0 < offer["propensity"] <= 1
    shown = service.stores.events.list_for("C004", ["offer_shown"])[-1]
    assert shown.payload["offer_id"] == offer["id"] and shown.payload["propensity"] == offer["propensity"]
    assert shown.payload["segment"] == "platinum/hiking-boots" and shown.payload["policy"] == "thompson"
    key = ("platinum/hiking-boots", offer["id"])
    assert bandit.all()[key].shown == (before[key].shown if key in before else 0) + 1


def test_a_recommendation_turn_carries_an_eligible_offer_on_what_it_recommends(make: Make) -> None:
    service = make(FakeChatModel())

    events = turn(service, LUCAS, "Can you recommend some hiking boots for me?")

    [offer] = offers_of(events)
    assert offer["code"] in {"TRAIL20", "PLAT30", "GOLD2X"} and offer["propensity"] is not None


def test_a_reply_naming_a_real_code_not_chosen_for_the_shopper_fails_verification(make: Make) -> None:
    # all three are real offers he is eligible for; one offer is chosen per turn, so two were not
    service = make(FakeChatModel().enqueue(["Use TRAIL20, PLAT30 or GOLD2X on your next order."]))

    events = turn(service, LUCAS, "Do I have any offers?")

    done = events[-1]
    [offer] = offers_of(events)
    assert isinstance(done, DoneEvent) and done.verdict == "fallback"
    assert offer["code"] in done.reply
    assert not {"TRAIL20", "PLAT30", "GOLD2X"} - {offer["code"]} & set(done.reply.replace(".", " ").split())


def test_the_verifiers_allowed_codes_are_exactly_the_chosen_offers(own_demo_components: Components) -> None:
    verifier = Verifier(own_demo_components.catalog.get(), {"TRAIL20", "PLAT30"})
    corpus = "Offer for this shopper: Trail: 20% off with code TRAIL20.\nPolicy: members may use PLAT30 too."

    assert verifier.check("Use TRAIL20.", corpus, offer_codes=["TRAIL20"]).ok
    assert not verifier.check("Use PLAT30.", corpus, offer_codes=["TRAIL20"]).ok  # in a policy, not chosen
    assert not verifier.check("Use PLAT30.", corpus, "can I use PLAT30?", offer_codes=["TRAIL20"]).ok
    assert not verifier.check("Use TRAIL20.", corpus, offer_codes=[]).ok  # no offer chosen this turn


def test_feedback_updates_the_bandit_for_the_segment_the_offer_was_shown_in(make: Make) -> None:
    service = make(FakeChatModel())
    [offer] = offers_of(turn(service, LUCAS, "Any discounts for me?"))
    key = ("platinum/hiking-boots", offer["id"])
    before = service.stores.bandit.all()[key]

    outcome = record_offer_feedback(service.stores, "C004", offer["id"], "accepted")

    after = service.stores.bandit.all()[key]
    assert outcome.recorded and outcome.converted
    assert (after.accepted, after.conversions) == (before.accepted + 1, before.conversions + 1)


def test_feedback_on_an_offer_never_shown_is_refused_and_nothing_changes(make: Make) -> None:
    service = make(FakeChatModel())
    before = (service.stores.bandit.all(), service.stores.events.list_for("C002"))

    with pytest.raises(NotFoundError):
        record_offer_feedback(service.stores, "C002", "welcome10", "clicked")

    assert (service.stores.bandit.all(), service.stores.events.list_for("C002")) == before


def test_an_order_that_is_not_the_shoppers_cannot_carry_a_redemption(make: Make) -> None:
    service = make(FakeChatModel())
    [offer] = offers_of(turn(service, LUCAS, "Do I have any coupons?"))
    before = service.stores.bandit.all()

    with pytest.raises(NotFoundError):
        record_offer_feedback(service.stores, "C004", offer["id"], "redeemed", order_id="NW-100080")
    with pytest.raises(ValidationError):
        record_offer_feedback(service.stores, "C004", offer["id"], "liked")

    assert service.stores.bandit.all() == before


def test_an_offer_used_up_to_its_cap_is_no_longer_offered(make: Make, demo_offers: list[dict[str, Any]]) -> None:
    service = make(FakeChatModel())
    seen: set[str] = set()
    for _ in range(40):  # each showing is accepted: every offer runs into its per-shopper cap
        shown = offers_of(turn(service, ShopperIdentity("C012"), "Do I have any offers?"))
        if not shown:
            break
        seen.add(shown[0]["id"])
        record_offer_feedback(service.stores, "C012", shown[0]["id"], "accepted")

    assert seen and not offers_of(turn(service, ShopperIdentity("C012"), "Do I have any offers?"))
    caps = {o["id"]: o["eligibility"]["per_customer_cap"] for o in demo_offers}
    accepted = service.stores.events.list_for("C012", ["offer_accepted"])
    assert all(sum(e.payload["offer_id"] == offer_id for e in accepted) == caps[offer_id] for offer_id in seen)


def test_a_shopper_without_personalization_is_shown_no_offer_and_nothing_is_counted(make: Make) -> None:
    service = make(FakeChatModel())
    before = service.stores.bandit.all()

    assert not offers_of(turn(service, DANIEL, "Do I have any offers?"))
    assert service.stores.bandit.all() == before
