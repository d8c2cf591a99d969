"""The "What we think you like" panel of the shopper chat: the signed-in shopper's preferences, stated and
inferred from their chats, each removable for good. It only calls the assistant service."""

import contextlib
import html
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gradio as gr

from assistant.components import Components
from assistant.domain import ShopperIdentity
from assistant.errors import NotFoundError

KIND_LABELS = {"category": "Category", "brand": "Brand", "size": "Size", "colour": "Colour", "budget": "Budget",
               "occasion": "Occasion", "dislike": "Dislikes", "style": "Style", "material": "Material"}


def render_preferences(items: list[dict[str, Any]]) -> str:
    """A table of preferences: what, where it came from, how sure we are, whether it is used."""
    if not items:
        return "Nothing yet: as you chat, what you tell us about your tastes shows up here."
    rows = ["| | what | from | confidence | used |", "| --- | --- | --- | --- | --- |"]
    for p in items:
        origin = "you told us" if p["origin"] == "explicit" else f"our chats ({p['evidence_count']}×)"
        used = "yes" if p["in_use"] else html.escape(p["note"])
        rows.append(f"| {KIND_LABELS.get(p['kind'], p['kind'].capitalize())} | {html.escape(p['value'])} | {origin} "
                    f"| {p['confidence']:.0%} | {used} |")
    return "\n".join(rows)


def choices_of(items: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(f"{KIND_LABELS.get(p['kind'], p['kind'])}: {p['value']}", str(p["id"])) for p in items]


@dataclass
class PreferencesPanel:
    refresh: Callable[[str | None], tuple[str, Any]]  # (token) -> (table, dropdown update)
    remove: Callable[[str | None, str | None], tuple[str, Any]]  # (token, preference id) -> the same
    outputs: list[Any]  # the components ``refresh`` updates: chain it after sign-in and each answer


def build_preferences_panel(components: Components, token: gr.State,
                            identity_of: Callable[[str | None], ShopperIdentity | None]) -> PreferencesPanel:
    """Add the panel to the current ``gr.Blocks``."""

    def refresh(token_value: str | None) -> tuple[str, Any]:
        who = identity_of(token_value)
        if who is None:
            return "Sign in to see what we think you like.", gr.update(choices=[], value=None)
        try:
            items = components.assistant.preferences(who)
        except NotFoundError:
            items = []
        return render_preferences(items), gr.update(choices=choices_of(items), value=None)

    def remove(token_value: str | None, preference_id: str | None) -> tuple[str, Any]:
        who = identity_of(token_value)
        if who is not None and preference_id:
            with contextlib.suppress(NotFoundError, ValueError):  # gone already, or not a number: just refresh
                components.assistant.remove_preference(who, int(preference_id))
        return refresh(token_value)

    with gr.Accordion("What we think you like", open=False):
        table = gr.Markdown("Sign in to see what we think you like.")
        with gr.Row():
            pick = gr.Dropdown(choices=[], label="Remove a preference (for good: we will not guess it again)",
                               scale=3)
            button = gr.Button("Remove", scale=1)
        button.click(remove, [token, pick], [table, pick], api_name="remove_preference")
    return PreferencesPanel(refresh, remove, [table, pick])
