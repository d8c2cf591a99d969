"""OpenAIChatModel against a stub OpenAI-compatible server on loopback (canned JSON and SSE, requests recorded).

The real llama.cpp server is exercised in tests/integration/test_llm_openai.py; the stub covers what the
small bundled model cannot show: tool calls, usage in the stream, and the errors.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from langchain_core.messages import AIMessage, AIMessageChunk
from langchain_core.tools import tool
from pydantic import SecretStr

from assistant.errors import ConfigError
from assistant.llm import ModelUnavailable
from assistant.llm.openai_compat import OpenAIChatModel


@tool
def order_status(order_id: str) -> str:
    """Look up the status of one of the shopper's orders."""
    return "shipped"


@dataclass
class StubServer:
    """Answers every POST with ``status`` and ``body`` (a dict, or a list of SSE events); keeps the requests."""

    url: str
    requests: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200
    body: Any = None
    delay_s: float = 0.0


def completion(content: str | None, tool_calls: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if tool_calls:
        message["tool_calls"] = tool_calls
    return {"id": "c1", "object": "chat.completion", "created": 1, "model": "served",
            "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if tool_calls else "stop"}],
            "usage": {"prompt_tokens": 11, "completion_tokens": 3, "total_tokens": 14}}


def delta(d: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "served",
            "choices": [{"index": 0, "delta": d, "finish_reason": finish}]}


@pytest.fixture
def stub() -> Iterator[StubServer]:
    state = StubServer(url="")

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            state.requests.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            time.sleep(state.delay_s)
            if isinstance(state.body, list):
                payload = "".join(f"data: {json.dumps(e)}\n\n" for e in state.body) + "data: [DONE]\n\n"
                kind = "text/event-stream"
            else:
                payload, kind = json.dumps(state.body), "application/json"
            data = payload.encode()
            self.send_response(state.status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def model_for(stub: StubServer, **kw: Any) -> OpenAIChatModel:
    return OpenAIChatModel(model_name="served", base_url=stub.url, api_key=SecretStr("k"), max_retries=0, **kw)


def test_stream_yields_each_delta_and_reads_usage_from_the_stream(stub: StubServer) -> None:
    stub.body = [delta({"role": "assistant"}), delta({"content": "Free "}), delta({"content": "returns."}),
                 delta({}, "stop"),
                 {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "served", "choices": [],
                  "usage": {"prompt_tokens": 20, "completion_tokens": 2, "total_tokens": 22}}]
    model = model_for(stub, max_new_tokens=33, temperature=0.1, seed=5)

    texts = [c.text for c in model.stream("Are returns free?") if c.text]

    assert texts == ["Free ", "returns."]
    assert model.last_usage is not None
    assert (model.last_usage.prompt_tokens, model.last_usage.completion_tokens) == (20, 2)
    sent = stub.requests[0]
    assert (sent["model"], sent["max_tokens"], sent["temperature"], sent["seed"], sent["stream"]) == (
        "served", 33, 0.1, 5, True)
    assert sent["stream_options"] == {"include_usage": True}


def test_a_server_without_stream_usage_gets_the_reply_counted(stub: StubServer) -> None:
    stub.body = [delta({"content": "a"}), delta({"content": "b"}), delta({}, "stop")]
    model = model_for(stub)

    list(model.stream("hi"))

    assert model.last_usage is not None and model.last_usage.completion_tokens == 2


def test_bind_tools_sends_the_tools_and_parses_the_call(stub: StubServer) -> None:
    stub.body = completion(None, [{"id": "call-1", "type": "function",
                                   "function": {"name": "order_status", "arguments": '{"order_id": "o-1"}'}}])
    model = model_for(stub)

    reply = model.bind_tools([order_status], tool_choice="order_status").invoke("Where is o-1?")

    assert isinstance(reply, AIMessage)
    assert [(c["name"], c["args"], c["id"]) for c in reply.tool_calls] == [("order_status", {"order_id": "o-1"},
                                                                            "call-1")]
    sent = stub.requests[0]
    assert sent["tools"][0]["function"]["name"] == "order_status"
    assert sent["tool_choice"] == {"type": "function", "function": {"name": "order_status"}}


def test_malformed_tool_arguments_become_invalid_tool_calls(stub: StubServer) -> None:
    stub.body = completion(None, [{"id": "call-1", "type": "function",
                                   "function": {"name": "order_status", "arguments": "{not json"}}])

    reply = model_for(stub).bind_tools([order_status]).invoke("Where is o-1?")

    assert isinstance(reply, AIMessage)
    assert reply.tool_calls == [] and reply.invalid_tool_calls[0]["name"] == "order_status"


def test_streamed_tool_call_deltas_merge_into_one_call(stub: StubServer) -> None:
    first = {"index": 0, "id": "call-1", "type": "function", "function": {"name": "order_status", "arguments": ""}}
    stub.body = [delta({"tool_calls": [first]}),
                 delta({"tool_calls": [{"index": 0, "function": {"arguments": '{"order_id": '}}]}),
                 delta({"tool_calls": [{"index": 0, "function": {"arguments": '"o-1"}'}}]}),
                 delta({}, "tool_calls")]
    model = model_for(stub)

    chunks = list(model.bind_tools([order_status]).stream("Where is o-1?"))

    total = chunks[0]
    for chunk in chunks[1:]:
        total = total + chunk
    assert isinstance(total, AIMessageChunk)
    assert [(c["name"], c["args"]) for c in total.tool_calls] == [("order_status", {"order_id": "o-1"})]
    assert model.last_usage is not None and model.last_usage.finish_reason == "tool_calls"


def test_invoke_returns_content_and_usage(stub: StubServer) -> None:
    stub.body = completion("Returns are free within 30 days.")

    reply = model_for(stub).invoke("Are returns free?")

    assert reply.content == "Returns are free within 30 days."
    assert reply.usage_metadata == {"input_tokens": 11, "output_tokens": 3, "total_tokens": 14}


def test_async_stream_and_invoke_use_the_server_too(stub: StubServer) -> None:
    model = model_for(stub)

    async def run() -> tuple[list[str], str]:
        stub.body = [delta({"content": "Yes"}), delta({}, "stop")]
        texts = [c.text async for c in model.astream("hi") if c.text]
        stub.body = completion("Sure.")
        reply = await model.ainvoke("hi")
        return texts, str(reply.content)

    assert asyncio.run(run()) == (["Yes"], "Sure.")


def test_a_rejected_api_key_is_a_config_error_naming_the_setting(stub: StubServer) -> None:
    stub.status, stub.body = 401, {"error": {"message": "bad key", "type": "auth"}}

    with pytest.raises(ConfigError, match="CONCIERGE_LLM__OPENAI__API_KEY"):
        model_for(stub).invoke("hi")


def test_a_server_error_is_model_unavailable(stub: StubServer) -> None:
    stub.status, stub.body = 500, {"error": {"message": "boom"}}

    with pytest.raises(ModelUnavailable):
        list(model_for(stub).stream("hi"))


def test_a_slow_server_times_out_as_model_unavailable(stub: StubServer) -> None:
    stub.body, stub.delay_s = completion("late"), 2.0

    with pytest.raises(ModelUnavailable, match="did not answer within 0.3 s"):
        model_for(stub, timeout_s=0.3).invoke("hi")


def test_an_unreachable_server_is_model_unavailable() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once the socket closes
    model = OpenAIChatModel(model_name="m", base_url=f"http://127.0.0.1:{port}/v1", max_retries=0)

    with pytest.raises(ModelUnavailable, match="cannot reach"):
        model.invoke("hi")
