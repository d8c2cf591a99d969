"""The shopper chat page: a message sent while an answer streams is shown at once, answered after it, in order,
and both turns are stored; the signed-in shopper is greeted by first name and the demo picker shows them."""

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import gradio as gr
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from assistant.components import Components, build_assistant, build_components
from assistant.config.loading import load_settings
from assistant.domain import ShopperIdentity
from assistant.identity import issue_token
from assistant.llm import FakeChatModel
from assistant.shop.shop_import import demo_shop_path, ingest_shop
from ui.chat_page import build_chat_ui, first_name, mount_chat_page
from ui.chat_transcript import PENDING, ChatTranscript


class _Client:
    host = "127.0.0.1"


class _Request:
    client = _Client()
    headers: dict[str, str] = {}

    def __init__(self, **query: str) -> None:
        self.query_params = query


@pytest.fixture(scope="module")
def own_demo_components(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Components]:
    """The demo shop on fakes with the demo sign-in on, and a scripted model."""
    settings = load_settings(["test"], env={}, overrides={
        "app": {"data_dir": str(tmp_path_factory.mktemp("chat-page"))},
        "knowledge": {"collection_prefix": f"q{uuid.uuid4().hex[:8]}_"}, "embeddings": {"dimensions": 4096},
        "security": {"demo_sign_in": True}})
    components = build_components(settings)
    reports = ingest_shop(demo_shop_path(), components.knowledge, components.stores.customers,
                          components.stores.offers, shop_profiles=components.stores.shop)
    assert all(r.ok for r in reports), [r.summary() for r in reports]
    components.__dict__["assistant"] = build_assistant(components, llm=FakeChatModel())
    yield components
    components.stores.close()


@pytest.fixture
def page(own_demo_components: Components) -> dict[str, Callable[..., Any]]:
    """The page's event functions by name."""
    blocks = build_chat_ui(own_demo_components)
    return {str(f.name): f.fn for f in blocks.fns.values() if f.fn is not None}


def token_for(components: Components, customer_id: str) -> str:
    return issue_token(customer_id, components.settings.security.token_secret.get_secret_value(), 600)


def test_a_message_sent_while_an_answer_streams_is_answered_after_it(page: dict[str, Callable[..., Any]],
                                                                   own_demo_components: Components) -> None:
    token, chat = token_for(own_demo_components, "C001"), ChatTranscript()
    box, shown, _ = page["send"]("Hello", chat)
    loop = page["answer_waiting"](chat, token, _Request())
    next(loop)  # the first answer is on its way

    box_after, shown_after, _ = page["send"]("Where is my latest order?", chat)
    other_loop = list(page["answer_waiting"](chat, token, _Request()))  # its own event finds the loop at work
    *_, (final, session_id, turn_ids) = list(loop)

    assert box == box_after == "" and shown_after[-1] == {"role": "user", "content": "Where is my latest order?"}
    assert other_loop == [(gr.skip(), gr.skip(), gr.skip())]
    assert [(m["role"], m["content"]) for m in final[::2]] == [("user", "Hello"), ("user", "Where is my latest order?")]
    assert all(m["role"] == "assistant" and m["content"] not in ("", PENDING) for m in final[1::2])
    stored = own_demo_components.assistant.history(ShopperIdentity("C001"), session_id)
    assert [t.message for t in stored] == ["Hello", "Where is my latest order?"]
    assert turn_ids == [None, stored[0].id, None, stored[1].id] == chat.turn_ids()


def test_a_blank_message_is_not_sent(page: dict[str, Callable[..., Any]]) -> None:
    chat = ChatTranscript()

    assert page["send"]("  ", chat)[:2] == (gr.skip(), gr.skip()) and chat.messages() == []


def test_signing_in_starts_a_new_conversation_and_stops_the_old_loop(page: dict[str, Callable[..., Any]],
                                                                   own_demo_components: Components) -> None:
    token, chat = token_for(own_demo_components, "C001"), ChatTranscript()
    page["send"]("Hello", chat)
    page["send"]("Where is my latest order?", chat)
    loop = page["answer_waiting"](chat, token, _Request())
    next(loop)

    signed = page["sign_in"]("C003", chat)
    rest = list(loop)

    assert signed[1] == "Signed in as Priya" and signed[2] == [] and signed[6]["value"] == "C003"
    assert isinstance(signed[5], ChatTranscript) and signed[5] is not chat
    assert rest == [] and chat.waiting() == 0  # the old conversation's waiting message is dropped with it


def test_the_page_names_the_signed_in_shopper_by_first_name_and_picks_them(page: dict[str, Callable[..., Any]],
                                                                         own_demo_components: Components) -> None:
    token = token_for(own_demo_components, "C003")

    kept, status, picker = page["on_load"](_Request(token=token))
    _, signed_out, empty = page["on_load"](_Request())
    _, chinese, _ = page["on_load"](_Request(token=token, lang="zh"))

    assert kept == token and status == "Signed in as Priya" and picker["value"] == "C003"
    assert signed_out == "Not signed in" and empty["value"] is None
    assert chinese == "已登录：Priya"


def test_the_demo_picker_shows_nobody_before_sign_in(own_demo_components: Components) -> None:
    blocks = build_chat_ui(own_demo_components)

    pickers = [c for c in blocks.config["components"] if c.get("type") == "dropdown"]

    assert pickers and all(c["props"].get("value") in (None, [], "") for c in pickers)


@pytest.mark.parametrize("name, first", [("Maya Chen", "Maya"), ("王芳", "王芳"), ("  ", ""), (None, "")])
def test_first_name(name: str | None, first: str) -> None:
    assert first_name(name) == first


def test_the_mounted_page_has_no_gradio_footer_and_keeps_no_run_history(own_demo_components: Components) -> None:
    app = mount_chat_page(FastAPI(), build_chat_ui(own_demo_components))

    config = TestClient(app).get("/config").json()

    assert config["footer_links"] == [] and config.get("run_history") is not True


def test_a_loop_that_finds_nothing_waiting_leaves_the_chat_as_it_is(page: dict[str, Callable[..., Any]],
                                                                     own_demo_components: Components) -> None:
    """Each sent message starts an answering event; when an earlier loop answered its message already, the event
    must still say "unchanged": a Gradio event that yields nothing would empty the chat."""
    token, chat = token_for(own_demo_components, "C001"), ChatTranscript()
    page["send"]("Hello", chat)
    list(page["answer_waiting"](chat, token, _Request()))

    late = list(page["answer_waiting"](chat, token, _Request()))

    assert late == [(gr.skip(), gr.skip(), gr.skip())] and len(chat.messages()) == 2


def test_clearing_the_chat_starts_a_new_conversation(page: dict[str, Callable[..., Any]]) -> None:
    chat = ChatTranscript()
    page["send"]("Hello", chat)

    fresh, session_id, turn_ids = page["start_over"](chat)

    assert chat.closed and fresh is not chat and fresh.messages() == [] and (session_id, turn_ids) == (None, [])


def test_an_agents_reply_is_signed_with_the_display_name_or_from_our_team() -> None:
    from ui.chat_page import render_agent_reply

    assert render_agent_reply("agent:Ana", "<b>Hi</b>") == "*Ana · from our team*\n\n&lt;b&gt;Hi&lt;/b&gt;"
    assert render_agent_reply("agent:", "Hi") == "*from our team*\n\nHi"  # never "our team · from our team"
    assert render_agent_reply("agent:", "你好", "zh") == "*来自我们的团队*\n\n你好"
