"""The chat's "What we think you like" panel: it lists the shopper's preferences, removes one for good, and turns
personalization off and on (the shopper's consent)."""

from datetime import UTC, datetime

import gradio as gr

from assistant.components import Components, build_assistant
from assistant.domain import ShopperIdentity
from assistant.identity import issue_token, verify_token
from assistant.llm import FakeChatModel
from ui.chat_page import build_chat_ui
from ui.preferences_panel import build_preferences_panel, render_preferences


def test_an_empty_profile_says_so() -> None:
    assert render_preferences([]).startswith("Nothing yet")


def test_the_panel_lists_and_removes_preferences(own_demo_components: Components) -> None:
    service = build_assistant(own_demo_components, llm=FakeChatModel(), now=lambda: datetime.now(UTC))
    own_demo_components.__dict__["assistant"] = service
    secret = own_demo_components.settings.security.token_secret.get_secret_value()
    try:
        list(service.respond(ShopperIdentity("C009"), None, "Any Ridgeline backpacks?"))
        with gr.Blocks():
            panel = build_preferences_panel(own_demo_components, gr.State(None),
                                            lambda t: verify_token(t, secret) if t else None)
        token = issue_token("C009", secret, 600)

        table, pick, _ = panel.refresh(token)
        ridgeline = next(value for label, value in pick["choices"] if label == "Brand: Ridgeline")
        assert "| Category | outerwear | you told us" in table and "| Brand | Ridgeline | our chats (1×)" in table

        table, pick, _ = panel.remove(token, ridgeline)
        assert "Ridgeline" not in table and all("Ridgeline" not in label for label, _ in pick["choices"])
        list(service.respond(ShopperIdentity("C009"), None, "Ridgeline backpacks, please"))
        assert "Ridgeline" not in panel.refresh(token)[0]  # removed for good
        assert panel.refresh(None)[0].startswith("Sign in")
    finally:
        own_demo_components.__dict__.pop("assistant", None)


def test_the_chat_ui_builds_with_the_panel(own_demo_components: Components) -> None:
    own_demo_components.__dict__["assistant"] = build_assistant(own_demo_components, llm=FakeChatModel())
    try:
        blocks = build_chat_ui(own_demo_components)
    finally:
        own_demo_components.__dict__.pop("assistant", None)

    assert "What we think you like" in str(blocks.config)


def test_the_shopper_turns_personalization_off_and_on_in_the_panel(own_demo_components: Components) -> None:
    secret = own_demo_components.settings.security.token_secret.get_secret_value()
    with gr.Blocks():
        panel = build_preferences_panel(own_demo_components, gr.State(None),
                                        lambda t: verify_token(t, secret) if t else None)
    token = issue_token("C002", secret, 600)  # opted out of personalization in the demo shop
    assert panel.refresh(token)[2]["value"] is False

    _, _, switch_on = panel.personalize(token, True)
    on = own_demo_components.privacy.consent("C002")
    _, _, switch_off = panel.personalize(token, False)

    assert switch_on["value"] is True and switch_on["interactive"] is True and on.personalization is True
    assert switch_off["value"] is False and own_demo_components.privacy.consent("C002").personalization is False
    consents = own_demo_components.privacy.export("C002")["tables"]["consents"]
    assert [(c["granted"], c["source"]) for c in consents if c["kind"] == "personalization"][-2:] == [
        (True, "chat"), (False, "chat")]


def test_signed_out_the_switch_cannot_be_used(own_demo_components: Components) -> None:
    with gr.Blocks():
        panel = build_preferences_panel(own_demo_components, gr.State(None), lambda t: None)

    table, _, switch = panel.personalize(None, False)

    assert table.startswith("Sign in") and switch["interactive"] is False


def test_the_panel_speaks_chinese(own_demo_components: Components) -> None:
    items = [{"kind": "brand", "value": "Ridgeline", "origin": "inferred", "evidence_count": 2, "confidence": 0.5,
              "in_use": True, "note": ""}]

    assert render_preferences(items, "zh").splitlines()[2] == "| 品牌 | Ridgeline | 我们的对话（2 次） | 50% | 是 |"
    assert render_preferences([], "zh").startswith("暂无内容")
