"""The transformers backend with the real bundled GGUF: conversion cache, streaming, greedy, int8.

The module converts the GGUF once (~20 s) into a temporary cache folder shared by its tests.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import HumanMessage, SystemMessage

from assistant.llm import build_chat_model
from assistant.llm import hf as hf_module
from assistant.llm.hf import MARKER, TransformersChatModel
from assistant.settings import LLMSettings

pytestmark = [pytest.mark.integration, pytest.mark.model]

MESSAGES = [SystemMessage("You are a helpful assistant for an online shoe shop. Answer briefly."),
            HumanMessage("Can I return running shoes I have worn once?")]
SETTINGS = LLMSettings(mode="transformers", temperature=0, max_new_tokens=16)


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="module")
def model(cache_dir: Path) -> TransformersChatModel:
    built = build_chat_model(SETTINGS, cache_dir)
    assert isinstance(built, TransformersChatModel)
    return built


def test_first_build_writes_the_converted_model_and_its_marker(model: TransformersChatModel, cache_dir: Path) -> None:
    folder = cache_dir / "smollm2-135m-instruct"

    marker = json.loads((folder / MARKER).read_text("utf-8"))

    assert marker["gguf"] == "SmolLM2-135M-Instruct.Q4_1.gguf" and marker["size"] > 0
    assert (folder / "model.safetensors").is_file() and (folder / "tokenizer.json").is_file()
    assert Path(model.model_dir) == folder


def test_second_build_reuses_the_conversion(model: TransformersChatModel, cache_dir: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    folder = cache_dir / "smollm2-135m-instruct"
    marker_before = (folder / MARKER).stat().st_mtime_ns
    conversions: list[Any] = []
    real = hf_module.convert_gguf
    monkeypatch.setattr(hf_module, "convert_gguf", lambda *a: (conversions.append(a), real(*a)))
    gguf_loads: list[Any] = []
    import transformers

    real_from_pretrained = transformers.AutoModelForCausalLM.from_pretrained

    def spy(*args: Any, **kwargs: Any) -> Any:
        if "gguf_file" in kwargs:
            gguf_loads.append(args)
        return real_from_pretrained(*args, **kwargs)

    monkeypatch.setattr(transformers.AutoModelForCausalLM, "from_pretrained", spy)

    again = build_chat_model(LLMSettings(mode="transformers", transformers={"quantize": "none"}), cache_dir)

    assert isinstance(again, TransformersChatModel) and again.model_dir == model.model_dir
    assert conversions == [] and gguf_loads == []
    assert (folder / MARKER).stat().st_mtime_ns == marker_before


def test_stream_yields_several_chunks(model: TransformersChatModel) -> None:
    chunks = [c.text for c in model.stream(MESSAGES) if c.text]

    assert len(chunks) > 1
    assert "".join(chunks).strip()


def test_greedy_output_is_repeatable(model: TransformersChatModel) -> None:
    first = model.invoke(MESSAGES).content

    second = model.invoke(MESSAGES).content

    assert first == second


def test_max_new_tokens_bounds_the_reply(model: TransformersChatModel) -> None:
    model.invoke(MESSAGES, max_new_tokens=4)

    usage = model.last_usage
    assert usage is not None and usage.completion_tokens <= 4
    assert usage.finish_reason == "length" and usage.completion_tokens == 4


def test_usage_is_recorded_for_the_trace(model: TransformersChatModel) -> None:
    reply = model.invoke(MESSAGES)

    usage = model.last_usage
    assert usage is not None and usage.prompt_tokens > 20 and usage.completion_tokens > 1
    assert usage.time_to_first_token_s is not None
    assert reply.usage_metadata is not None and reply.usage_metadata["output_tokens"] == usage.completion_tokens


def test_int8_setting_quantizes_the_linear_layers(model: TransformersChatModel) -> None:
    import torch

    model.load()
    kinds = {type(m) for m in model._model.modules()}

    assert torch.ao.nn.quantized.dynamic.Linear in kinds
    assert torch.nn.Linear not in kinds


def test_an_abandoned_stream_stops_generation_records_usage_and_frees_the_model(model: TransformersChatModel) -> None:
    stream = model.stream(MESSAGES, max_new_tokens=200)
    next(stream)
    stream.close()
    usage = model.last_usage

    assert usage is not None and usage.finish_reason == "cancelled" and usage.completion_tokens >= 1
    assert model.invoke(MESSAGES, max_new_tokens=2).content
