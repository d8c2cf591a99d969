"""The "What we think you like" panel of the shopper chat: the signed-in shopper's preferences, stated and
inferred from their chats, each removable for good, and the switch that turns personalization off and on (the
shopper's consent, kept with time and source like ``POST /api/v1/me/consent``). It only calls the assistant's
services."""

import contextlib
import html
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gradio as gr

from assistant.components import Components
from assistant.domain import ShopperIdentity
from assistant.errors import NotFoundError
from assistant.locales import template, text

#: where a consent change made in the chat's panel is recorded as coming from
CONSENT_SOURCE = "chat"


def kind_label(kind: str, language: str = "en") -> str:
    """A preference kind as the shopper reads it ("Brand"); a kind without a label is shown capitalised."""
    try:
        return template(f"ui.kind.{kind}", language)
    except KeyError:
        return kind.capitalize()


def render_preferences(items: list[dict[str, Any]], language: str = "en") -> str:
    """A table of preferences: what, where it came from, how sure we are, whether it is used."""
    if not items:
        return text("ui.preferences.empty", language)
    head = [text(f"ui.preferences.{column}", language) for column in ("what", "from", "confidence", "used")]
    rows = ["| | " + " | ".join(head) + " |", "| --- | --- | --- | --- | --- |"]
    for p in items:
        origin = (text("ui.preferences.told", language) if p["origin"] == "explicit"
                  else text("ui.preferences.inferred", language, count=p["evidence_count"]))
        used = text("ui.preferences.yes", language) if p["in_use"] else html.escape(p["note"])
        rows.append(f"| {kind_label(p['kind'], language)} | {html.escape(p['value'])} | {origin} "
                    f"| {p['confidence']:.0%} | {used} |")
    return "\n".join(rows)


def choices_of(items: list[dict[str, Any]], language: str = "en") -> list[tuple[str, str]]:
    return [(f"{kind_label(p['kind'], language)}: {p['value']}", str(p["id"])) for p in items]


@dataclass
class PreferencesPanel:
    refresh: Callable[[str | None], tuple[str, Any, Any]]  # (token) -> (table, dropdown update, switch update)
    remove: Callable[[str | None, str | None], tuple[str, Any, Any]]  # (token, preference id) -> the same
    personalize: Callable[[str | None, bool], tuple[str, Any, Any]]  # (token, on) -> the same
    outputs: list[Any]  # the components ``refresh`` updates: chain it after sign-in and each answer


def build_preferences_panel(components: Components, token: gr.State,
                            identity_of: Callable[[str | None], ShopperIdentity | None],
                            language: str = "en") -> PreferencesPanel:
    """Add the panel to the current ``gr.Blocks``; its words are in ``language``."""
    signed_out = text("ui.preferences.signed_out", language)

    def refresh(token_value: str | None) -> tuple[str, Any, Any]:
        who = identity_of(token_value)
        if who is None:
            return signed_out, gr.update(choices=[], value=None), gr.update(value=True, interactive=False)
        try:
            consent = components.privacy.consent(who.customer_id)
            items = components.assistant.preferences(who)
        except NotFoundError:  # the token names no customer of this shop
            return (render_preferences([], language), gr.update(choices=[], value=None),
                    gr.update(value=True, interactive=False))
        return (render_preferences(items, language), gr.update(choices=choices_of(items, language), value=None),
                gr.update(value=consent.personalization, interactive=True))

    def remove(token_value: str | None, preference_id: str | None) -> tuple[str, Any, Any]:
        who = identity_of(token_value)
        if who is not None and preference_id:
            with contextlib.suppress(NotFoundError, ValueError):  # gone already, or not a number: just refresh
                components.assistant.remove_preference(who, int(preference_id))
        return refresh(token_value)

    def personalize(token_value: str | None, on: bool) -> tuple[str, Any, Any]:
        who = identity_of(token_value)
        if who is not None:
            with contextlib.suppress(NotFoundError):  # no such customer any more: the refresh says so
                components.privacy.set_consent(who.customer_id, CONSENT_SOURCE, personalization=bool(on))
        return refresh(token_value)

    with gr.Accordion(text("ui.preferences.title", language), open=False, elem_id="concierge-preferences"):
        switch = gr.Checkbox(value=True, interactive=False, label=text("ui.personalize", language),
                             info=text("ui.personalize_info", language), elem_id="concierge-personalize")
        table = gr.Markdown(signed_out)
        with gr.Row():
            pick = gr.Dropdown(choices=[], value=None, label=text("ui.preferences.remove_label", language), scale=3)
            button = gr.Button(text("ui.preferences.remove", language), scale=1)
        outputs = [table, pick, switch]
        button.click(remove, [token, pick], outputs, api_name="remove_preference")
        # .input: only the shopper's own clicks (a refresh setting the value must not change the consent)
        switch.input(personalize, [token, switch], outputs, api_visibility="private")
    return PreferencesPanel(refresh, remove, personalize, outputs)
