"""Guests on the Gradio chat page: a visitor without a shopper token chats in a guest conversation, and a guest who
signs in keeps it (it joins them) and is asked whether what they said about their tastes may go into their
profile.

Each browser tab holds one :class:`GuestTab` (a ``gr.State``): the guest token of its conversation, renewed with
every answer. The page can also continue a guest conversation opened elsewhere (``?guest=<guest token>``, e.g. a
widget that started with ``POST /api/v1/guest``): as the guest, or, with a shopper ``?token=`` too, joined to
that shopper. The checks are ``ui.shopper_access``'s and the conversation's service is
``assistant.turn.guest_sessions``; nothing here decides who may see what.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import gradio as gr

from assistant.components import Components
from assistant.domain import ShopperIdentity
from assistant.errors import ConciergeError, NotFoundError
from assistant.locales import text
from ui.chat_transcript import ChatTranscript
from ui.preferences_panel import kind_label
from ui.shopper_access import ShopperAccess


@dataclass
class GuestTab:
    """One tab's guest conversation: its guest token (``None`` before the first guest message)."""

    token: str | None = None

    def __deepcopy__(self, memo: dict[int, Any]) -> GuestTab:
        """A ``gr.State``'s initial value is deep-copied for each tab: each tab starts without a guest conversation."""
        return GuestTab()


def describe_learned(items: list[dict[str, Any]], language: str) -> str:
    return "; ".join(f"{kind_label(i['kind'], language)}: {i['value']}" for i in items)


@dataclass
class GuestConsent:
    """The row that asks a shopper who signed in whether their guest conversation's tastes go into their profile."""

    row: Any
    note: Any
    buttons: list[Any] = field(default_factory=list)

    @property
    def outputs(self) -> list[Any]:
        return [self.row, self.note, *self.buttons]

    def hidden(self) -> tuple[Any, ...]:
        return (gr.update(visible=False), gr.update(value=""), *(gr.update(visible=True) for _ in self.buttons))

    def asking(self, items: list[dict[str, Any]], language: str) -> tuple[Any, ...]:
        if not items:
            return self.hidden()
        note = text("ui.guest_preferences", language, items=html.escape(describe_learned(items, language)))
        return (gr.update(visible=True), gr.update(value=note), *(gr.update(visible=True) for _ in self.buttons))


class GuestChat:
    def __init__(self, components: Components, access: ShopperAccess,
                 identity_of: Callable[[str | None], ShopperIdentity | None]) -> None:
        self.components = components
        self.access = access
        self.identity_of = identity_of
        self.guests = components.assistant.guests

    @property
    def on(self) -> bool:
        return self.access.guests_on

    def session_for(self, tab: GuestTab, request: object) -> tuple[str | None, int | None]:
        """The tab's guest conversation (a new one when it has none, or its token expired or joined a shopper) and
        ``None``; or ``None`` and the seconds to wait when this guest or address sent too much."""
        guest = self.access.guest_or_none(tab.token)
        if guest is not None and self.guests.is_open(guest.session_id):
            wait = self.access.chat_wait(guest.guest_id, request)
            if wait is not None:
                return None, wait
            tab.token, _ = self.access.issue_guest(guest.session_id, guest.guest_id)
            return guest.session_id, None
        wait = self.access.new_guest_wait(request)
        if wait is not None:
            return None, wait
        tab.token, guest = self.access.issue_guest(self.guests.open("web"))
        return guest.session_id, None

    def join(self, tab: GuestTab | None, transcript: ChatTranscript | None, customer_id: str
             ) -> list[dict[str, Any]] | None:
        """The tab's guest conversation joins ``customer_id`` (who just signed in): what it learned, to be offered
        to their profile; ``None`` when the tab has no guest conversation to keep."""
        guest = self.access.guest_or_none(tab.token if tab is not None else None)
        if guest is None or transcript is None or transcript.closed or transcript.session_id != guest.session_id:
            return None
        try:
            offered = self.guests.join(customer_id, guest.session_id)
        except NotFoundError:
            return None
        assert tab is not None
        tab.token = None
        return offered

    def continue_from_link(self, token: str | None, guest_token: str | None, tab: GuestTab,
                           transcript: ChatTranscript) -> list[dict[str, Any]] | None:
        """``?guest=``: show that guest conversation in this tab and go on with it: as the guest, or joined to the
        signed-in shopper (then what it learned is returned, to be offered). ``None`` when there is none to show."""
        guest = self.access.guest_or_none(guest_token)
        if guest is None or not self.guests.is_open(guest.session_id):
            return None
        who = self.identity_of(token)
        try:
            offered = self.guests.join(who.customer_id, guest.session_id) if who is not None else []
            turns = self.components.assistant.history(who, guest.session_id)
        except ConciergeError:
            return None
        if who is None:
            tab.token = guest_token
        transcript.session_id = guest.session_id
        for turn in turns:
            transcript.add_past_turn(turn.message, turn.reply, turn.id)
        return offered

    def owns_session(self, tab: GuestTab | None, session_id: str | None) -> bool:
        """``session_id`` is the tab's own guest conversation."""
        guest = self.access.guest_or_none(tab.token if tab is not None else None)
        return guest is not None and session_id == guest.session_id

    def owns_turn(self, tab: GuestTab | None, turn_id: str) -> bool:
        """``turn_id`` is a turn of the tab's own guest conversation (thumbs from a guest)."""
        guest = self.access.guest_or_none(tab.token if tab is not None else None)
        if guest is None:
            return False
        try:
            self.guests.check_turn(guest.session_id, turn_id)
        except NotFoundError:
            return False
        return True

    def link_handler(self, consent: GuestConsent, language: str) -> Callable[..., tuple[Any, ...]]:
        """The page's load step for ``?guest=<guest token>``: (chat, session, turn ids, the consent row)."""

        def from_link(token: str | None, transcript: ChatTranscript | None, tab: GuestTab | None,
                      request: gr.Request) -> tuple[Any, ...]:
            asked = request.query_params.get("guest") if request else None
            offered = self.continue_from_link(token, asked, tab, transcript) \
                if asked and tab is not None and transcript is not None else None
            if offered is None or transcript is None:
                return (gr.skip(),) * (3 + len(consent.outputs))
            return (transcript.messages(), transcript.session_id, transcript.turn_ids(),
                    *consent.asking(offered, language))

        return from_link

    def decide(self, token: str | None, session_id: str | None, save: bool, language: str) -> str:
        """The signed-in shopper's answer to the offer: what the page says afterwards."""
        who = self.identity_of(token)
        if who is None or not session_id:
            return ""
        try:
            saved = self.guests.decide(who.customer_id, session_id, save)
        except NotFoundError:
            return ""
        if saved:
            return text("ui.guest_preferences.saved", language, items=html.escape(describe_learned(saved, language)))
        return text("ui.guest_preferences.not_saved", language)


def build_guest_consent(guest_chat: GuestChat, token: gr.State, session: gr.State, language: str,
                        after: Callable[[Any], Any] | None = None) -> GuestConsent:
    """The consent row (hidden until a guest conversation joins a shopper who signs in), wired to its buttons."""
    with gr.Row(visible=False, elem_id="concierge-guest-consent") as row:
        note = gr.Markdown("")
        save = gr.Button(text("ui.guest_preferences.save", language), variant="primary", scale=0, min_width=120)
        skip = gr.Button(text("ui.guest_preferences.skip", language), scale=0, min_width=100)
    consent = GuestConsent(row, note, [save, skip])

    def decided(save_it: bool) -> Callable[[str | None, str | None], tuple[Any, ...]]:
        def run(token_value: str | None, session_id: str | None) -> tuple[Any, ...]:
            said = guest_chat.decide(token_value, session_id, save_it, language)
            return gr.update(visible=bool(said)), gr.update(value=said), gr.update(visible=False), \
                gr.update(visible=False)
        run.__name__ = "save_tastes" if save_it else "skip_tastes"
        return run

    for button, save_it in ((save, True), (skip, False)):
        event = button.click(decided(save_it), [token, session], consent.outputs, api_visibility="private",
                             show_progress="hidden")
        if after is not None:
            after(event)
    return consent
