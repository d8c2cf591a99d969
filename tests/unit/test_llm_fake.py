"""FakeChatModel: scripted replies in order, recorded calls, word-by-word streaming, tool calls, strictness."""

from __future__ import annotations

import asyncio

import pytest
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, SystemMessage
from langchain_core.tools import tool

from assistant.llm import DEFAULT_REPLY, FakeChatModel, ScriptExhausted, Usage


@tool
def order_status(order_id: str) -> str:
    """Look up the status of one of the shopper's orders."""
    return "shipped"


def merged(chunks: list[AIMessageChunk]) -> AIMessageChunk:
    total = chunks[0]
    for chunk in chunks[1:]:
        total = total + chunk
    return total


def test_enqueued_replies_come_back_in_order() -> None:
    model = FakeChatModel().enqueue(["first", "second"])

    replies = [model.invoke("a").content, model.invoke("b").content]

    assert replies == ["first", "second"]
    assert model.pending == 0


def test_every_call_records_its_messages() -> None:
    model = FakeChatModel()
    messages = [SystemMessage("You are a shop assistant."), HumanMessage("Where is my order?")]

    model.invoke(messages)

    assert model.calls == [messages]


def test_stream_yields_the_reply_word_by_word() -> None:
    model = FakeChatModel().enqueue(["Your order ships tomorrow."])

    chunks = list(model.stream("Where is my order?"))

    texts = [c.text for c in chunks if c.text]
    assert texts == ["Your ", "order ", "ships ", "tomorrow."]
    assert merged(chunks).text == "Your order ships tomorrow."


def test_empty_queue_answers_the_default_reply() -> None:
    model = FakeChatModel()

    assert model.invoke("anything").content == DEFAULT_REPLY


def test_strict_model_raises_when_no_reply_is_queued() -> None:
    model = FakeChatModel(strict=True)

    with pytest.raises(ScriptExhausted, match="enqueue"):
        model.invoke("anything")


def test_scripted_tool_call_comes_back_as_tool_calls() -> None:
    call = {"name": "order_status", "args": {"order_id": "o-1"}, "id": "call-1"}
    model = FakeChatModel().enqueue([AIMessage("", tool_calls=[call])])

    reply = model.invoke("Where is o-1?")

    assert isinstance(reply, AIMessage)
    assert [(c["name"], c["args"], c["id"]) for c in reply.tool_calls] == [("order_status", {"order_id": "o-1"},
                                                                            "call-1")]


def test_streamed_tool_call_merges_into_tool_calls() -> None:
    call = {"name": "order_status", "args": {"order_id": "o-1"}, "id": "call-1"}
    model = FakeChatModel().enqueue([AIMessage("Let me check.", tool_calls=[call])])

    total = merged(list(model.stream("Where is o-1?")))

    assert total.text == "Let me check."
    assert [(c["name"], c["args"]) for c in total.tool_calls] == [("order_status", {"order_id": "o-1"})]


def test_bind_tools_returns_the_model_with_the_tools_recorded() -> None:
    model = FakeChatModel()

    bound = model.bind_tools([order_status], tool_choice="auto")

    assert bound is model
    assert [t["function"]["name"] for t in model.bound_tools] == ["order_status"]
    assert model.tool_choice == "auto"


def test_last_usage_and_usage_metadata_count_the_reply() -> None:
    model = FakeChatModel().enqueue(["one two three"])

    reply = model.invoke("hi there")

    assert isinstance(model.last_usage, Usage)
    assert (model.last_usage.prompt_tokens, model.last_usage.completion_tokens) == (2, 3)
    assert reply.usage_metadata == {"input_tokens": 2, "output_tokens": 3, "total_tokens": 5}
    assert reply.response_metadata["usage"]["finish_reason"] == "stop"


def test_max_new_tokens_cuts_the_reply_in_words() -> None:
    model = FakeChatModel().enqueue(["one two three four"])

    reply = model.invoke("hi", max_new_tokens=2)

    assert reply.content == "one two "
    assert model.last_usage is not None and model.last_usage.finish_reason == "length"


def test_astream_yields_the_same_words() -> None:
    model = FakeChatModel().enqueue(["Returns are free."])

    async def collect() -> list[str]:
        return [c.text async for c in model.astream("Are returns free?") if c.text]

    assert asyncio.run(collect()) == ["Returns ", "are ", "free."]


def test_call_kwargs_record_per_call_options() -> None:
    model = FakeChatModel()

    model.invoke("hi", max_new_tokens=5)

    assert model.call_kwargs[-1]["max_new_tokens"] == 5


def test_a_stream_closed_early_still_records_what_was_streamed() -> None:
    model = FakeChatModel().enqueue(["one two three four"])
    stream = model.stream("hi")
    next(stream)
    next(stream)

    stream.close()

    assert model.last_usage is not None
    assert (model.last_usage.completion_tokens, model.last_usage.finish_reason) == (2, "cancelled")
