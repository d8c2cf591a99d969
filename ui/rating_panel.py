"""The chat page's rating panel (CSAT): once the conversation is over for now (a person resolved its hand-over, or
nobody wrote for ``csat.quiet_minutes``) it asks the shopper to rate it, 1-5 with a labelled scale, an optional
comment and a Send button; the rating is stored with the session (``ui.rating_api`` is the same for widgets).

A guest rates their own conversation too (the tab's guest token names it). A timer looks every few seconds; the
panel stays hidden while nobody is signed in and the tab has no guest conversation, before the first answer,
while a person is on the conversation, and once it was rated (after the thanks, until the next conversation). It
only calls the rating service.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gradio as gr

from assistant.components import Components
from assistant.domain import ShopperIdentity
from assistant.errors import ConciergeError, ValidationError
from assistant.identity import GuestPass
from assistant.locales import text
from assistant.turn.session_rating import MAX_COMMENT_CHARS, MAX_SCORE, MIN_SCORE, ConversationRating
from ui.rating_api import conversation_rating

#: the panel's look (the chat page adds it to its styles): a white card with the page's accent, not a grey band, and
#: the five scores on one line sharing its width, also on a narrow phone (Gradio's radio row wraps the "5" to a
#: second line at 390 px)
RATING_CSS = (
    "#concierge-rating{border:2px solid #1d4ed8;border-radius:12px;padding:12px;background:#fff;gap:8px}"
    "#concierge-rating h2{font-size:1.15rem;margin:0}"
    "#concierge-rating-score .wrap{flex-wrap:nowrap;gap:6px}"
    "#concierge-rating-score .wrap label{flex:1 1 0;min-width:0;justify-content:center;padding-left:4px;"
    "padding-right:4px}"
)

#: the longest wait between two looks (a short quiet window is looked at more often)
MAX_POLL_S = 10.0


def poll_seconds(quiet_minutes: float) -> float:
    """How often the panel looks whether to ask: a quarter of the quiet window, between 1 and ``MAX_POLL_S`` s."""
    return min(MAX_POLL_S, max(1.0, quiet_minutes * 60 / 4))


@dataclass
class RatingPanel:
    #: (token, session id, the session the panel asks about[, the tab's guest]) -> updates of ``outputs``
    check: Callable[..., tuple[Any, ...]]
    #: (token, session id, score, comment[, the tab's guest]) -> updates of (the question, the status line)
    send: Callable[..., tuple[Any, Any]]
    outputs: list[Any]  # panel, question, score, comment, status, the session asked about


def build_rating_panel(components: Components, token: gr.State, session: gr.State,
                       identity_of: Callable[[str | None], ShopperIdentity | None], language: str = "en",
                       service: ConversationRating | None = None, guest: gr.State | None = None,
                       guest_pass: Callable[[str], GuestPass] | None = None) -> RatingPanel:
    """Add the (hidden) panel and its timer to the current ``gr.Blocks``; its words are in ``language``.
    ``session``: the state holding the chat's session id; ``guest``: the state holding the tab's guest conversation
    (an object with its guest ``token``), whose token ``guest_pass`` verifies."""
    ratings = service or conversation_rating(components)

    def owner(token_value: str | None, session_id: str, guest_value: Any) -> tuple[bool, str | None]:
        """Whether the tab may rate ``session_id``, and for which customer (``None``: the tab's guest)."""
        who = identity_of(token_value)
        if who is not None:
            return True, who.customer_id
        guest_token = getattr(guest_value, "token", None)
        if guest_pass is None or not guest_token:
            return False, None
        try:
            return guest_pass(guest_token).session_id == session_id, None
        except ConciergeError:  # expired or guests turned off: nothing to rate
            return False, None
    hidden = (gr.update(visible=False), gr.skip(), gr.skip(), gr.skip(), gr.skip(), None)
    unchanged = (gr.skip(),) * 6

    def check(token_value: str | None, session_id: str | None, asked_for: str | None,
              guest_value: Any = None) -> tuple[Any, ...]:
        """Show the question when the conversation is over and not rated; keep the thanks until the next one."""
        allowed, customer_id = owner(token_value, session_id, guest_value) if session_id else (False, None)
        if not allowed or not session_id:
            return hidden if asked_for else unchanged
        try:
            prompt = ratings.prompt(customer_id, session_id)
        except ConciergeError:  # gone, or the store is down: the next look tries again
            return unchanged
        if prompt.ask:
            if asked_for == session_id:  # already asking: leave what the shopper is typing alone
                return unchanged
            return (gr.update(visible=True), gr.update(visible=True), gr.update(value=None), gr.update(value=""),
                    "", session_id)
        if prompt.rating is not None and asked_for == session_id:  # rated here: the thanks stay
            return unchanged
        return hidden if asked_for else unchanged

    def send(token_value: str | None, session_id: str | None, score: Any, comment: str | None,
             guest_value: Any = None) -> tuple[Any, Any]:
        """Store the rating; the question goes and a thank-you stays (or a line saying what to fix)."""
        allowed, customer_id = owner(token_value, session_id, guest_value) if session_id else (False, None)
        if not allowed or not session_id:
            return gr.skip(), text("ui.rating.failed", language)
        if score is None or str(score) not in {str(s) for s in range(MIN_SCORE, MAX_SCORE + 1)}:
            return gr.skip(), text("ui.rating.pick", language)
        if len((comment or "").strip()) > MAX_COMMENT_CHARS:
            return gr.skip(), text("ui.rating.too_long", language, limit=MAX_COMMENT_CHARS)
        try:
            ratings.rate(customer_id, session_id, int(score), comment)
        except ValidationError:
            return gr.skip(), text("ui.rating.too_long", language, limit=MAX_COMMENT_CHARS)
        except ConciergeError:
            return gr.skip(), text("ui.rating.failed", language)
        return gr.update(visible=False), text("ui.rating.thanks", language)

    asked_for = gr.State(None)
    # a column of its own (not a grey ``gr.Group``), placed by the page right under the conversation: the chat page
    # brings it into view when it shows (``ui.chat_page.PAGE_HEAD``)
    with gr.Column(visible=False, elem_id="concierge-rating") as panel:
        gr.Markdown(f"## {text('ui.rating.title', language)}", elem_id="concierge-rating-title")
        with gr.Column(elem_id="concierge-rating-question") as question:
            score = gr.Radio(choices=[(str(s), s) for s in range(MIN_SCORE, MAX_SCORE + 1)], value=None,
                             label=text("ui.rating.question", language), info=text("ui.rating.scale", language),
                             elem_id="concierge-rating-score")
            comment = gr.Textbox(label=text("ui.rating.comment", language), lines=2, max_lines=5,
                                 max_length=MAX_COMMENT_CHARS, elem_id="concierge-rating-comment")
            button = gr.Button(text("ui.rating.send", language), variant="primary", elem_id="concierge-rating-send")
        status = gr.Markdown("", elem_id="concierge-rating-status")
    outputs = [panel, question, score, comment, status, asked_for]
    tab_guest = [guest] if guest is not None else []
    gr.Timer(poll_seconds(components.settings.csat.quiet_minutes)).tick(
        check, [token, session, asked_for, *tab_guest], outputs, show_progress="hidden", api_visibility="private")
    button.click(send, [token, session, score, comment, *tab_guest], [question, status], show_progress="hidden",
                 api_visibility="private")
    return RatingPanel(check, send, outputs)
