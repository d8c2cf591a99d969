"""The model's part in another language: the bundled model writes English only, so a Chinese shopper's reply is
built from the facts; a model that writes Chinese (llm.mode openai, language.model_writes) is asked for Chinese
and checked by the same verifier, sentence by sentence (Chinese sentences end at 。！？)."""

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest

from assistant.components import Components, build_assistant
from assistant.config.loading import load_settings
from assistant.domain import DoneEvent, ReplaceText, ShopperIdentity, TextDelta
from assistant.llm import FakeChatModel
from assistant.turn.shopper_language import model_writes
from assistant.turn.turn_service import AssistantService
from tests.demo_reset import reset_customers
from tests.unit.conftest import DEMO_NOW

MAYA = ShopperIdentity("C001")


@pytest.fixture
def multilingual(demo_components: Components, demo_offers: list[dict[str, Any]], fake_llm: FakeChatModel
                 ) -> Iterator[AssistantService]:
    """The demo shop with a chat model that writes English and Chinese."""
    settings = demo_components.settings.model_copy(
        update={"language": demo_components.settings.language.model_copy(update={"model_writes": ["en", "zh"]})})
    components = dataclasses.replace(demo_components, settings=settings)
    yield build_assistant(components, llm=fake_llm, offers=lambda: demo_offers, now=lambda: DEMO_NOW)
    reset_customers(demo_components.stores, "C001")


def ask(service: AssistantService, message: str) -> list[Any]:
    return list(service.respond(MAYA, service.open_session(MAYA), message))


@pytest.mark.parametrize("mode, writes, language, expected", [
    ("llamacpp", ["en"], "zh", False),
    ("llamacpp", ["en", "zh"], "zh", False),  # the bundled model writes English, whatever the list says
    ("transformers", ["en"], "en", True),
    ("openai", ["en"], "zh", False),
    ("openai", ["en", "zh"], "zh", True),
])
def test_only_a_configured_multilingual_model_writes_chinese(mode: str, writes: list[str], language: str,
                                                             expected: bool) -> None:
    settings = load_settings(env={}, overrides={"llm": {"mode": mode}, "language": {"model_writes": writes}})

    assert model_writes(settings, language) is expected


def test_a_multilingual_model_is_asked_for_chinese_and_its_verified_sentences_stream(
        multilingual: AssistantService, fake_llm: FakeChatModel) -> None:
    fake_llm.enqueue(["您的订单 NW-100073 已发货。物流单号是 UPS 1Z5GAGTR0388899375。"])

    events = ask(multilingual, "我的订单NW-100073在哪里？")

    done = events[-1]
    assert isinstance(done, DoneEvent) and done.verdict == "pass"
    assert [e.text for e in events if isinstance(e, TextDelta)] == ["您的订单 NW-100073 已发货。",
                                                                    "物流单号是 UPS 1Z5GAGTR0388899375。"]
    assert done.reply == "您的订单 NW-100073 已发货。物流单号是 UPS 1Z5GAGTR0388899375。"
    system = fake_llm.calls[0][0].content
    assert "Write the answer in 简体中文" in system


def test_a_made_up_amount_next_to_chinese_characters_is_caught(multilingual: AssistantService,
                                                               fake_llm: FakeChatModel) -> None:
    fake_llm.enqueue(["您的订单 NW-100073 已发货，运费为99元。"])

    events = ask(multilingual, "我的订单NW-100073在哪里？")

    done = events[-1]
    replaced = [e for e in events if isinstance(e, ReplaceText)]
    assert done.verdict == "fallback" and replaced and "99" in replaced[0].reason
    assert done.reply.startswith("您的订单 NW-100073 已发货。")  # built from the facts, in Chinese


def test_an_english_shopper_still_gets_the_models_english(multilingual: AssistantService,
                                                          fake_llm: FakeChatModel) -> None:
    fake_llm.enqueue(["Your order NW-100073 is shipped."])

    done = ask(multilingual, "Where is my order NW-100073?")[-1]

    assert done.verdict == "pass" and done.reply == "Your order NW-100073 is shipped."
    assert "Write the answer in" not in fake_llm.calls[0][0].content
