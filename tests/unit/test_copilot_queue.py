"""The copilot keeps up and fits on screen (on fakes): a one-line summary of each hand-over cut at a word boundary,
hand-overs and live chats in separate lists, and a conversation that is drawn again by the timer only when it
changed, never touching the reply the agent is writing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import gradio as gr
import numpy as np
import pytest

from assistant.components import Components, build_assistant
from assistant.domain import ShopperIdentity
from assistant.llm import FakeChatModel
from assistant.staff.conversation_views import live_only, shorten, summary_line
from assistant.staff.copilot import Copilot
from assistant.staff.roles import StaffPrincipal
from assistant.turn.turn_service import AssistantService
from tests.unit.conftest import DEMO_NOW
from ui.staff_views.copilot_tab import CopilotTab
from ui.staff_views.staff_text import plain

MAYA = ShopperIdentity("C001")
LUCAS = ShopperIdentity("C004")
ANA = StaffPrincipal("ana", frozenset({"agent"}))
SKIP = gr.skip()
LONG = ("Where is my order? It was supposed to arrive last week and the tracking page has not changed since "
        "Monday, which is really worrying me")


@pytest.fixture
def service(own_demo_components: Components, demo_offers: list[dict[str, Any]],
            fake_llm: FakeChatModel) -> Iterator[AssistantService]:
    yield build_assistant(own_demo_components, llm=fake_llm, offers=lambda: demo_offers, now=lambda: DEMO_NOW,
                          rng=np.random.default_rng(5))


@pytest.fixture
def copilot(service: AssistantService) -> Copilot:
    return Copilot(service)


@pytest.fixture
def tab(copilot: Copilot) -> CopilotTab:
    return CopilotTab(lambda request, role: ANA, copilot)


def say(service: AssistantService, session: str, message: str, who: ShopperIdentity = MAYA) -> None:
    list(service.respond(who, session, message))


def handed_over(service: AssistantService, first: str = "hello", who: ShopperIdentity = MAYA) -> str:
    session = service.open_session(who)
    say(service, session, first, who)
    say(service, session, "I want to talk to a human please", who)
    return session


# the one-line summary -----------------------------------------------------------------------------------------
def test_a_long_text_is_cut_at_a_word_boundary_with_an_ellipsis() -> None:
    cut = shorten(LONG, 40)

    assert len(cut) <= 40 and cut.endswith("…")
    kept = cut[:-1]
    assert LONG.startswith(kept) and LONG[len(kept)] in " ,.?"  # the next character ends a word: none was cut


def test_a_short_text_is_kept_whole_on_one_line() -> None:
    assert shorten("Where is\n my   order?", 40) == "Where is my order?"


def test_a_text_without_spaces_is_cut_within_the_limit() -> None:
    chinese = "你好我的订单在哪里已经一个星期了还没有到请帮我查一下" * 3

    cut = shorten(chinese, 20)

    assert len(cut) == 20 and cut.endswith("…") and chinese.startswith(cut[:-1])


def test_the_summary_line_names_the_reason_and_the_first_and_latest_words() -> None:
    line = summary_line("The shopper asked for a person", LONG, "I want to talk to a human please, now", 96)

    assert len(line) <= 96 and "\n" not in line
    assert line.startswith("The shopper asked for a person · “Where is my order?")
    assert "→ “I want to talk to a human" in line
    assert "…" in line and "mon…" not in line.lower()  # cut between words


def test_the_summary_line_quotes_one_message_once_and_the_reason_alone_without_any() -> None:
    assert summary_line("The shopper is upset", "This is useless", "This is useless") == \
        "The shopper is upset · “This is useless”"
    assert summary_line("The assistant could not answer", "", "") == "The assistant could not answer"


@pytest.mark.parametrize("limit", [30, 60, 96, 140])
def test_the_summary_line_never_exceeds_its_limit(limit: int) -> None:
    assert len(summary_line("A lookup failed while answering: the order service timed out twice", LONG,
                            LONG[::-1], limit)) <= limit


# the queue and the lists --------------------------------------------------------------------------------------
def test_the_queue_carries_the_shoppers_first_and_latest_words(service: AssistantService, copilot: Copilot) -> None:
    session = handed_over(service, LONG)

    [item] = [i for i in copilot.queue() if i.handover.session_id == session]

    assert (item.first_message, item.last_message) == (LONG, "I want to talk to a human please")
    assert len(item.line()) <= 96 and "“Where is my order?" in item.line() and "“I want to talk to a human" in \
        item.line()


def test_the_queue_table_shows_one_short_line_not_the_transcript(service: AssistantService,
                                                                 tab: CopilotTab) -> None:
    session = handed_over(service, LONG)

    rows, chosen = tab.queue(None)  # type: ignore[arg-type]

    [row] = [r for r in rows if r[-1] == session]
    assert "\n" not in row[2] and len(row[2]) <= 96 and "Shopper:" not in row[2]
    assert session in [value for _, value in chosen["choices"]]


def test_hand_overs_and_live_chats_are_separate_lists(service: AssistantService, copilot: Copilot,
                                                      tab: CopilotTab) -> None:
    handed = handed_over(service)
    chatting = service.open_session(LUCAS)
    say(service, chatting, "Do you ship to Canada?", LUCAS)

    live = tab.live_list(None)  # type: ignore[arg-type]
    _, handovers = tab.queue(None)  # type: ignore[arg-type]

    live_ids = [value for _, value in live["choices"]]
    assert chatting in live_ids and handed not in live_ids
    assert handed in [value for _, value in handovers["choices"]]
    assert chatting not in [value for _, value in handovers["choices"]]
    assert handed not in [c.session_id for c in live_only(copilot.live(), copilot.queue())]


def test_the_lists_are_sent_again_only_when_they_changed(service: AssistantService, tab: CopilotTab) -> None:
    first = handed_over(service)
    rows, handovers, live, shown = tab.refresh_lists(first, None, None, None)  # type: ignore[arg-type]
    assert rows != SKIP and handovers["value"] == first

    again = tab.refresh_lists(first, None, shown, None)  # type: ignore[arg-type]
    second = handed_over(service, who=LUCAS)
    changed = tab.refresh_lists(first, None, shown, None)  # type: ignore[arg-type]

    assert again == (SKIP, SKIP, SKIP, shown)
    assert changed[1]["value"] == first  # what the agent chose stays chosen
    assert second in [value for _, value in changed[1]["choices"]] and changed[3] != shown


# the open conversation keeps up -------------------------------------------------------------------------------
def test_the_open_conversation_is_drawn_again_only_when_the_shopper_writes(service: AssistantService,
                                                                           tab: CopilotTab) -> None:
    session = handed_over(service)
    *_, shown = tab.open_and_watch(session, None)  # type: ignore[arg-type]

    quiet = tab.watch(session, shown, None)  # type: ignore[arg-type]
    say(service, session, "Are you still there? My parcel is late")
    profile, chat, holder, now = tab.watch(session, shown, None)  # type: ignore[arg-type]

    assert quiet == (SKIP, SKIP, SKIP, SKIP)
    assert {"role": "user", "content": plain("Are you still there? My parcel is late")} in chat
    assert now != shown and "C001" in profile and holder
    assert tab.watch(session, now, None) == (SKIP, SKIP, SKIP, SKIP)  # type: ignore[arg-type]


def test_taking_over_changes_what_the_open_conversation_shows(service: AssistantService, copilot: Copilot,
                                                              tab: CopilotTab) -> None:
    session = handed_over(service)
    shown = copilot.revision(session)

    copilot.take_over(session, ANA)
    _, _, holder, _ = tab.watch(session, shown, None)  # type: ignore[arg-type]

    assert "Held by <b>ana</b>" in holder


def test_someone_not_signed_in_gets_no_updates_and_no_error(service: AssistantService, copilot: Copilot) -> None:
    def refuse(request: Any, role: str) -> StaffPrincipal:
        raise gr.Error("Your session has expired or you are not signed in")

    session = handed_over(service)
    outsider = CopilotTab(refuse, copilot)

    assert outsider.watch(session, None, None) == (SKIP, SKIP, SKIP, SKIP)  # type: ignore[arg-type]
    assert outsider.refresh_lists(None, None, None, None) == (SKIP, SKIP, SKIP, None)  # type: ignore[arg-type]


def test_the_timers_never_write_to_the_reply_being_edited(own_demo_components: Components) -> None:
    from ui.staff_views import build_staff_ui

    blocks = build_staff_ui(own_demo_components, lambda request: None)
    timers = {b._id for b in blocks.blocks.values() if isinstance(b, gr.Timer)}
    ticks = [fn for fn in blocks.fns.values() if any(target[0] in timers for target in fn.targets)]
    written = {getattr(o, "elem_id", None) for fn in ticks for o in fn.outputs}

    assert len(ticks) == 2 and "copilot-conversation" in written and "copilot-queue" in written
    assert "copilot-reply" not in written
