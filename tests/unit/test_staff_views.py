"""The staff page's handlers check the caller's role on the server side, whatever the page shows."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import gradio as gr
import pytest

from assistant.components import Components
from assistant.staff.roles import StaffPrincipal
from ui.staff_views import StaffViews

PEOPLE = {"ada": StaffPrincipal("ada", frozenset({"agent"})), "rita": StaffPrincipal("rita", frozenset({"reviewer"})),
          "adam": StaffPrincipal("adam", frozenset({"admin"})), "mia": StaffPrincipal("mia", frozenset({"marketer"}))}


@pytest.fixture
def views(own_demo_components: Components) -> StaffViews:
    return StaffViews(own_demo_components, lambda request: PEOPLE.get(getattr(request, "who", "")))


def as_(who: str | None) -> Any:
    return SimpleNamespace(request=SimpleNamespace(who=who))


CALLS = {
    "agent": [lambda v, r: v.copilot.queue(r), lambda v, r: v.copy_review.copy_queue(r),
              lambda v, r: v.copilot.take_over("s1", r)],
    "reviewer": [lambda v, r: v.log_review.search_turns("", "", "", "", "", "", "any", "any", "any", "any", "any", r),
                 lambda v, r: v.log_review.replay("t1", r),
                 lambda v, r: v.log_review.label_turn("t1", "correct", "", r),
                 lambda v, r: v.analytics.analytics("", "", r)],
    "admin": [lambda v, r: v.admin.collections(r), lambda v, r: v.admin.settings(r), lambda v, r: v.admin.offers(r),
              lambda v, r: v.admin.save_offer("o1", "{}", r)],
}


@pytest.mark.parametrize("role", list(CALLS))
def test_nobody_signed_in_gets_nothing(views: StaffViews, role: str) -> None:
    for call in CALLS[role]:
        with pytest.raises(gr.Error, match="not signed in"):
            call(views, as_(None))


@pytest.mark.parametrize(("who", "role"), [("ada", "reviewer"), ("ada", "admin"), ("rita", "agent"),
                                           ("rita", "admin")])
def test_a_wrong_role_gets_nothing(views: StaffViews, who: str, role: str) -> None:
    for call in CALLS[role]:
        with pytest.raises(gr.Error, match=f"needs the {role} role"):
            call(views, as_(who))


def test_the_right_role_gets_its_view(views: StaffViews) -> None:
    rows, _ = views.copilot.queue(as_("ada"))
    assert isinstance(rows, list)
    rows, choices, found, links = views.log_review.search_turns("", "", "", "", "", "", "any", "any", "any",
                                                                "any", "any", as_("rita"))
    assert "turns match" in found and "/api/v1/review/export?format=jsonl" in links
    overview = views.admin.collections(as_("adam"))
    assert overview["products"] == 133
    assert views.admin.settings(as_("adam"))["security"]["token_secret"] == "********"


def test_an_admin_has_every_view(views: StaffViews) -> None:
    header, *tabs = views.on_load(as_("adam"))  # type: ignore[arg-type]
    assert "adam" in header and all(t["visible"] for t in tabs)
    header, copilot, review, analytics, campaigns, admin = views.on_load(as_("ada"))  # type: ignore[arg-type]
    assert copilot["visible"] and not any(t["visible"] for t in (review, analytics, campaigns, admin))
    header, *tabs = views.on_load(as_("mia"))  # type: ignore[arg-type]
    assert [t["visible"] for t in tabs] == [False, False, False, True, False]  # a marketer sees campaigns only


def test_bad_input_is_a_clear_message(views: StaffViews) -> None:
    with pytest.raises(gr.Error, match="date like"):
        views.log_review.search_turns("", "", "yesterday", "", "", "", "any", "any", "any", "any", "any", as_("rita"))
    with pytest.raises(gr.Error, match="no turn|There is no turn"):
        views.log_review.replay("no-such-turn", as_("rita"))
    with pytest.raises(gr.Error, match="not valid JSON"):
        views.admin.save_offer("WELCOME10", "{", as_("adam"))


def test_opening_another_conversation_clears_the_previous_draft(views: StaffViews,
                                                                own_demo_components: Components) -> None:
    from assistant.domain import ShopperIdentity

    service = own_demo_components.assistant
    first, second = service.open_session(ShopperIdentity("C001")), service.open_session(ShopperIdentity("C002"))
    list(service.respond(ShopperIdentity("C001"), first, "How long do I have to return something?"))
    list(service.respond(ShopperIdentity("C002"), second, "hello"))
    opened = views.copilot.open_conversation(first, as_("ada"))
    reply, draft, evidence = views.copilot.suggest(opened[3], as_("ada"))
    assert reply and draft == {"session_id": first, "reply": reply} and evidence

    profile, chat, holder, now_open, reply, draft, evidence, sent = views.copilot.open_conversation(second, as_("ada"))

    assert now_open == second and "C002" in profile
    assert (reply, draft, evidence, sent) == ("", None, "", "")


def test_the_tab_refuses_to_send_a_draft_to_another_conversation(views: StaffViews,
                                                                 own_demo_components: Components) -> None:
    from assistant.domain import ShopperIdentity

    service = own_demo_components.assistant
    first, second = service.open_session(ShopperIdentity("C001")), service.open_session(ShopperIdentity("C002"))
    list(service.respond(ShopperIdentity("C002"), second, "hello"))
    before = service.stores.turns.turns_for_session("C002", second)

    with pytest.raises(gr.Error, match="another conversation"):
        views.copilot.send(second, "Hi, your order is on its way.", {"session_id": first, "reply": "Hi"}, as_("ada"))

    assert service.stores.turns.turns_for_session("C002", second) == before
