"""The shopper chat (Gradio): streamed answers with product cards and sources, example questions,
thumbs up/down per answer, and a demo sign-in. Embeddable in a shop's pages (see docs/embedding.md).

Messages sent while an answer streams are never lost: each shows at once and waits in the tab's queue
(``ui.chat_transcript``); one loop answers them in the order they were sent. The page is the shop's:
``mount_chat_page`` mounts it without Gradio's developer footer.

It only talks to the assistant service and its domain types; no business logic lives here.
"""

import html
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import gradio as gr
from fastapi import FastAPI

from assistant.components import Components
from assistant.domain import Citation, OfferView, ProductCard, ReplyFold, ShopperIdentity
from assistant.errors import ConciergeError, NotFoundError
from assistant.locales import examples, fixed_prefix, supported, text
from assistant.locales.local_formats import money_in
from assistant.records import TurnRecord
from assistant.turn.shopper_language import detect_language
from assistant.turn.turn_service import AssistantService
from ui.chat_transcript import ChatTranscript
from ui.guest_chat import GuestChat, GuestTab, build_guest_consent
from ui.preferences_panel import build_preferences_panel
from ui.rate_limits import RateLimiter
from ui.rating_panel import RATING_CSS, build_rating_panel
from ui.shopper_access import ShopperAccess

#: the example questions, in English (each language's: the ``EXAMPLES`` of its catalogue in assistant/locales)
EXAMPLES = list(examples("en"))


def page_language(message: str, history: Sequence[dict[str, Any]], default: str) -> str:
    """The language the page answers a message in: the message's, else the latest one of the shopper's
    earlier messages that shows one, else ``default`` (as the assistant's session does)."""
    for said in [message, *(str(m.get("content") or "") for m in reversed(history) if m.get("role") == "user")]:
        found = detect_language(said)
        if found:
            return found
    return supported(default)


def render_cards(cards: Iterable[ProductCard], language: str = "en") -> str:
    rows = []
    for card in cards:
        reason = f"<br><small>{html.escape(card.reason)}</small>" if card.reason else ""
        stock = text("ui.in_stock" if card.in_stock else "ui.out_of_stock", language)
        rows.append(f"<div class='concierge-card'><b>{html.escape(card.name)}</b><br>"
                    f"{html.escape(money_in(card.price, card.currency, language))} · {stock}"
                    f"{reason}</div>")
    return "\n\n" + "".join(rows) if rows else ""


def render_offers(offers: Iterable[OfferView], language: str = "en") -> str:
    code = text("ui.code", language)
    shown = "".join(f"<div class='concierge-offer'>🎁 <b>{html.escape(o.title)}</b> · {code} "
                    f"<code>{html.escape(o.code)}</code></div>" for o in offers)
    return "\n\n" + shown if shown else ""


def render_sources(sources: Iterable[Citation], reply: str = "", language: str = "en",
                   shown: Iterable[str] = ()) -> str:
    """The sources under a reply, by document title (never a file name), each once. A reply that states its
    policy source itself ("Source: Returns and refunds.") gets no policy listed again: the others were only
    looked at, not used; a product already ``shown`` as a card is not listed either."""
    states_its_source = any(prefix.strip() and prefix in reply for prefix in fixed_prefix("policy.source"))
    skip = set(shown)
    items: list[str] = []
    for cite in sources:
        if cite.kind == "policy" and (states_its_source or cite.title in reply):
            continue
        name = cite.title if cite.kind in ("policy", "product") else ""
        if name and name not in items and name not in skip:
            items.append(name)
    label = text("ui.sources", language)
    return (f"\n\n<small>{label}: " + html.escape("; ".join(items)) + "</small>") if items else ""


def render_reply(folded: ReplyFold, language: str = "en") -> str:
    """The reply so far with its product cards, offers and sources, as the chat shows it."""
    return (folded.reply + render_cards(folded.products, language) + render_offers(folded.offers, language)
            + render_sources(folded.sources, folded.reply, language, (card.name for card in folded.products)))


#: how often an open chat looks for replies a support agent sent
AGENT_POLL_S = 2.0


def new_agent_replies(assistant: AssistantService, who: ShopperIdentity | None, session_id: str | None,
                      shown: list[str | None], guest: bool = False) -> list[TurnRecord]:
    """The support agents' replies (``TurnRecord``) in the shopper's conversation that the chat does not show
    yet, i.e. whose ids are not in ``shown`` (the chat's turn ids). Nothing when signed out (unless ``guest``: the
    session is the tab's own guest conversation) or on any error: the next poll tries again."""
    if (who is None and not guest) or not session_id:
        return []
    try:
        turns = assistant.history(who, session_id)
    except ConciergeError:
        return []
    known = set(shown)
    return [t for t in turns if t.author.startswith("agent:") and t.id not in known]


def render_agent_reply(author: str, reply: str, language: str = "en") -> str:
    """A person's reply: "*Ana · from our team*", or "*from our team*" when they have no display name."""
    name = author.split(":", 1)[-1]
    said = f"{html.escape(name)} · {text('ui.from_our_team', language)}" if name else text("ui.from_our_team", language)
    return f"*{said}*\n\n{html.escape(reply)}"


CSS = (".concierge-card{border:1px solid #ddd;border-radius:8px;padding:6px 10px;margin:4px 0}"
       ".concierge-offer{background:#f4f9f4;border-radius:8px;padding:6px 10px;margin:4px 0}")

#: the shopper page's own look on top of ``CSS``: text and buttons at 4.5:1 contrast or more, a focus ring that
#: shows, and a message row that stays whole on a phone
PAGE_CSS = CSS + (
    ":root,.gradio-container{--button-primary-background-fill:#1d4ed8;--button-primary-background-fill-hover:#1e40af;"
    "--button-primary-text-color:#fff;--button-primary-border-color:#1d4ed8;--color-accent:#1d4ed8;"
    "--body-text-color-subdued:#4b5563;--block-info-text-color:#4b5563;--input-placeholder-color:#6b7280}"
    ":focus-visible{outline:3px solid #1d4ed8 !important;outline-offset:2px}"
    "#concierge-sign-in{align-items:flex-end}#concierge-sign-in-button{max-height:48px}"
    "#concierge-message-row{align-items:stretch}"
    + RATING_CSS  # the rating question's card, its five scores on one line
    + "@media (max-width:640px){#concierge-title h1{font-size:1.4rem;margin:0}#concierge-message-row{flex-wrap:nowrap}"
    "#concierge-chat{height:min(480px,58vh) !important}}"
)

#: the page's margins on a phone: outside the part of the page ``css`` reaches (Gradio scopes it to the app's body)
PAGE_HEAD = ("<style>@media (max-width:640px){.gradio-container .main.app{padding:8px 10px !important}}"
             # in the widget's panel (?embed=1) the panel's heading names the chat: the title is only read out
             ".concierge-embed #concierge-title{position:absolute !important;clip-path:inset(50%)}</style><script>"
             "if(new URLSearchParams(location.search).get('embed')==='1')"
             "document.documentElement.classList.add('concierge-embed');"
             # the rating question (ui.rating_panel) scrolls into view as it shows, e.g. below a phone's fold (again
             # as its parts finish drawing)
             "(()=>{let shown=false;new MutationObserver(()=>{const p=document.getElementById('concierge-rating');"
             "const on=!!(p&&p.getClientRects().length&&document.getElementById('concierge-rating-score'));"
             "if(on&&!shown)for(const ms of[0,400,1200])setTimeout(()=>p.isConnected&&"
             "p.scrollIntoView({block:'nearest',behavior:'smooth'}),ms);shown=on})"
             ".observe(document.documentElement,{childList:true,subtree:true,attributes:true,"
             "attributeFilter:['class','style']})})()</script>")


def mount_chat_page(app: FastAPI, page: gr.Blocks, path: str = "/") -> FastAPI:
    """Mount the shopper chat as a shop's page, not a developer's: no Gradio footer (its API page, "Built with
    Gradio", settings), nothing of the chat kept in the browser's run history, and the page's own styles."""
    mounted: FastAPI = gr.mount_gradio_app(app, page, path=path, css=PAGE_CSS, head=PAGE_HEAD,
                                             footer_links=[], run_history=False)
    return mounted


def first_name(name: str | None) -> str:
    """What the page calls a shopper: the first word of their name ("Maya Chen" -> "Maya"; "王芳" stays whole)."""
    words = (name or "").split()
    return words[0] if words else ""


@dataclass(frozen=True)
class ChatAnswer:
    """The answer to one message so far, as the chat shows it."""

    content: str
    session_id: str | None
    turn_id: str | None = None
    #: the message was not taken (too many too fast): the shopper sends it again
    refused: bool = False


def build_chat_ui(components: Components, limiter: RateLimiter | None = None) -> gr.Blocks:
    """``limiter``: chat turns per shopper and per address (default: one from the ``security.*`` settings)."""
    security = components.settings.security
    default = supported(components.settings.language.default)  # the page's language before a message shows one
    profile_of = components.stores.customers.get
    access = ShopperAccess(security, components.privacy, limiter, customer=profile_of)
    identity_of = access.identity_of
    guest_chat = GuestChat(components, access, identity_of)  # no token: a guest conversation (ui.guest_chat)

    def demo_choices() -> list[tuple[str, str]]:
        try:
            return [(f"{p.name} ({p.tier})", p.id) for p in access.demo_customers(100)]
        except NotFoundError:  # the demo sign-in is off: the shop's own pages sign shoppers in
            return []

    def signed_in_as(who: ShopperIdentity, language: str) -> str:
        profile = profile_of(who.customer_id)
        name = first_name(profile.name if profile is not None else "")
        return text("ui.signed_in", language, name=name) if name else text("ui.signed_in_no_name", language)

    def on_load(request: gr.Request) -> tuple[str | None, str, Any]:
        token = request.query_params.get("token") if request else None
        # ?lang=zh, else the browser's first language, else the default
        asked = (request.query_params.get("lang") or request.headers.get("accept-language", "")) if request else ""
        lang = supported(asked.split(",")[0].strip()) if asked else default
        who = identity_of(token)
        if who is None:
            return None, text("ui.not_signed_in", lang), gr.update(value=None)
        picked = who.customer_id if who.customer_id in {value for _, value in demo_choices()} else None
        return token, signed_in_as(who, lang), gr.update(value=picked)

    def sign_in(customer_id: str | None, transcript: ChatTranscript | None,
                guest: GuestTab | None = None) -> tuple[Any, ...]:
        """A new conversation as the chosen demo customer; the tab's old one stops (its loop, its waiting messages).
        A guest conversation is kept instead: it joins the customer, who is asked about what it learned."""
        token = None
        if not customer_id:
            status = text("ui.not_signed_in", default)
        else:
            try:
                token = access.issue(customer_id)
                status = signed_in_as(ShopperIdentity(customer_id), default)
            except NotFoundError:
                status, customer_id = text("ui.sign_in_unavailable", default), None
        offered = guest_chat.join(guest, transcript, customer_id) if token and customer_id else None
        if offered is not None and transcript is not None:
            return (token, status, transcript.messages(), transcript.session_id, transcript.turn_ids(), transcript,
                    gr.update(value=customer_id), *consent.asking(offered, default))
        if transcript is not None:
            transcript.close()
        return token, status, [], None, [], ChatTranscript(), gr.update(value=customer_id), *consent.hidden()

    def answer(message: str, token: str | None, session_id: str | None, request: gr.Request | None,
               lang: str, guest: GuestTab | None = None) -> Iterator[ChatAnswer]:
        """One message answered: the reply as it streams (verified sentences, then cards, offers and sources).
        Without a shopper token, as a guest in the tab's guest conversation (``guest``)."""
        who = identity_of(token)
        if who is None and (guest is None or not guest_chat.on):
            yield ChatAnswer(text("ui.sign_in_first", lang), session_id)
            return
        if who is None:
            assert guest is not None
            session_id, wait = guest_chat.session_for(guest, request)
        else:
            wait = access.chat_wait(who.customer_id, request)
        if wait is not None:
            yield ChatAnswer(text("ui.slow_down", lang, seconds=wait), session_id, refused=True)
            return
        try:
            events = components.assistant.respond(who, session_id, message, channel="web")
        except NotFoundError:  # the conversation is gone (a guest's: joined a shopper elsewhere): a new one
            if who is not None or guest is None:
                session_id = None
            elif (session_id := guest_chat.session_for(GuestTab(), request)[0]) is None:
                return
            else:
                guest.token = guest_chat.access.issue_guest(session_id)[0]
            events = components.assistant.respond(who, session_id, message, channel="web")
        folded = ReplyFold()
        for event in events:
            folded.add(event)
            if folded.done is not None:
                session_id = folded.done.session_id
            yield ChatAnswer(render_reply(folded, lang), session_id, folded.done.turn_id if folded.done else None)

    def respond(message: str, history: list[dict[str, Any]], token: str | None, session_id: str | None,
                turn_ids: list[str | None], request: gr.Request, guest: GuestTab | None = None
                ) -> Iterator[tuple[Any, ...]]:
        """The ``chat`` API endpoint (Gradio clients): one message, the history it follows, the answer streamed."""
        lang = page_language(message, history, default)
        history = [*history, {"role": "user", "content": message}, {"role": "assistant", "content": ""}]
        last = ChatAnswer("", session_id)
        for last in answer(message, token, session_id, request, lang, guest):
            history[-1]["content"] = last.content
            yield history, (message if last.refused else ""), last.session_id, turn_ids
        yield history, (message if last.refused else ""), last.session_id, [*turn_ids, None, last.turn_id]

    def send(message: str, transcript: ChatTranscript | None) -> tuple[Any, Any, ChatTranscript]:
        """Show the message at once and queue it: the box is free for the next one while answers stream."""
        transcript = transcript if transcript is not None and not transcript.closed else ChatTranscript()
        if not transcript.add_message(message or ""):
            return gr.skip(), gr.skip(), transcript
        return "", transcript.messages(), transcript

    def answer_waiting(transcript: ChatTranscript | None, token: str | None,
                       request: gr.Request, guest: GuestTab | None = None) -> Iterator[tuple[Any, Any, Any]]:
        """Answer the tab's waiting messages one after the other, in the order they were sent. One loop per tab:
        a message sent while it runs is answered by it, after the one before."""
        unchanged = (gr.skip(), gr.skip(), gr.skip())  # an event that yields nothing would empty the chat
        if transcript is None or not transcript.claim():
            yield unchanged
            return
        holding = True
        try:
            if not transcript.waiting():  # the loop before this one answered this event's message too
                yield unchanged
            while (asked := transcript.next_message()) is not None:
                message, bubble = asked
                lang = page_language(message, transcript.messages_before(bubble), default)
                yield transcript.messages(), transcript.session_id, transcript.turn_ids()
                for part in answer(message, token, transcript.session_id, request, lang, guest):
                    if transcript.closed:
                        return
                    transcript.session_id = part.session_id
                    transcript.show_answer(bubble, part.content, part.turn_id)
                    yield transcript.messages(), transcript.session_id, transcript.turn_ids()
            holding = False
        finally:
            if holding:
                transcript.release()

    def start_over(transcript: ChatTranscript | None,
                   guest: GuestTab | None = None) -> tuple[ChatTranscript, None, list[str | None]]:
        """The chat's Clear button: a new conversation for the same shopper (the old one's loop stops)."""
        if transcript is not None:
            transcript.close()
        if guest is not None:
            guest.token = None
        return ChatTranscript(), None, []

    def on_feedback(transcript: ChatTranscript | None, token: str | None, data: gr.LikeData,
                    guest: GuestTab | None = None) -> None:
        index = data.index[0] if isinstance(data.index, list | tuple) else data.index
        who = identity_of(token)
        turn_id = transcript.turn_id_at(index) if transcript is not None and isinstance(index, int) else None
        if turn_id is None or (who is None and not guest_chat.owns_turn(guest, turn_id)):
            return
        try:
            components.assistant.feedback(who, turn_id, "up" if data.liked is True else "down")
        except NotFoundError:
            return

    def poll_agents(history: list[dict[str, Any]], token: str | None, session_id: str | None,
                    shown: list[str | None], transcript: ChatTranscript | None = None,
                    guest: GuestTab | None = None) -> tuple[Any, Any]:
        """Support agents' replies the chat does not show yet, added at its end (to ``transcript`` when given)."""
        known = transcript.turn_ids() if transcript is not None else shown
        who = identity_of(token)
        fresh = new_agent_replies(components.assistant, who, session_id, known,
                                  guest=who is None and guest_chat.owns_session(guest, session_id))
        if not fresh:
            return gr.skip(), gr.skip()
        lang = page_language("", history, default)
        if transcript is None:
            replies = [{"role": "assistant", "content": render_agent_reply(t.shopper_author, t.reply, lang)}
                       for t in fresh]
            return [*history, *replies], [*shown, *(t.id for t in fresh)]
        for t in fresh:
            transcript.add_agent_reply(render_agent_reply(t.shopper_author, t.reply, lang), t.id)
        return transcript.messages(), transcript.turn_ids()

    title = components.shop_profile.title("Concierge")
    blocks = gr.Blocks(title=title)
    with blocks:
        token = gr.State(None)
        session = gr.State(None)
        turn_ids = gr.State([])
        transcript = gr.State(ChatTranscript())  # each tab gets its own (ChatTranscript.__deepcopy__)
        guest = gr.State(GuestTab())  # the tab's guest conversation, while no shopper is signed in
        gr.Markdown(f"# {html.escape(title)}", elem_id="concierge-title")
        with gr.Row(visible=security.demo_sign_in, elem_id="concierge-sign-in"):
            who = gr.Dropdown(choices=demo_choices() if security.demo_sign_in else [], value=None, scale=3,
                              min_width=200, label=text("ui.demo_sign_in", default),
                              info=text("ui.choose_customer", default))
            sign = gr.Button(text("ui.sign_in", default), scale=1, min_width=90, elem_id="concierge-sign-in-button")
        status = gr.Markdown(text("ui.not_signed_in", default), elem_id="concierge-status")
        # no "share" button (it posts to Hugging Face); copy a message or the whole chat
        chatbot = gr.Chatbot(label=text("ui.chat", default), show_label=False, height=480, buttons=["copy", "copy_all"],
                             feedback_options=("Like", "Dislike"), elem_id="concierge-chat")
        with gr.Row(elem_id="concierge-message-row", equal_height=True):
            box = gr.Textbox(label=text("ui.message_label", default), show_label=False, scale=5, min_width=160,
                             placeholder=text("ui.placeholder", default), lines=1, max_lines=6,
                             elem_id="concierge-message")
            send_button = gr.Button(text("ui.send", default), variant="primary", scale=1, min_width=72,
                                    elem_id="concierge-send")
        # the rating question right under the conversation it asks about (brought into view when it shows)
        build_rating_panel(components, token, session, identity_of, default, guest=guest, guest_pass=access.guest_pass)
        gr.Examples(list(examples(default)), inputs=box)
        preferences = build_preferences_panel(components, token, identity_of, default)
        consent = build_guest_consent(guest_chat, token, session, default, after=lambda event: event.then(
            preferences.refresh, [token], preferences.outputs, show_progress="hidden"))

        sign.click(sign_in, [who, transcript, guest],
                   [token, status, chatbot, session, turn_ids, transcript, who, *consent.outputs],
                   api_name="sign_in").then(preferences.refresh, [token], preferences.outputs, show_progress="hidden")
        # sending only queues (instant, any number while an answer streams); one loop per tab answers in order
        gr.on([box.submit, send_button.click], send, [box, transcript], [box, chatbot, transcript],
              trigger_mode="multiple", concurrency_limit=None, show_progress="hidden", api_visibility="private",
              ).then(answer_waiting, [transcript, token, guest], [chatbot, session, turn_ids], trigger_mode="multiple",
                     show_progress="hidden", api_visibility="private",
                     ).then(preferences.refresh, [token], preferences.outputs, show_progress="hidden")
        # the API form of the chat (Gradio clients): one message in, its answer streamed; the page uses the queue
        gr.on([], respond, [box, chatbot, token, session, turn_ids, guest], [chatbot, box, session, turn_ids],
              api_name="chat")
        chatbot.like(on_feedback, [transcript, token, guest], None, api_visibility="private")
        chatbot.clear(start_over, [transcript, guest], [transcript, session, turn_ids], api_visibility="private")
        gr.Timer(AGENT_POLL_S).tick(poll_agents, [chatbot, token, session, turn_ids, transcript, guest],
                                    [chatbot, turn_ids], show_progress="hidden", api_visibility="private")
        # no loading overlays while the page settles (an overlay makes the status a scrollable region for a moment)
        blocks.load(on_load, None, [token, status, who], api_visibility="private", show_progress="hidden").then(
            guest_chat.link_handler(consent, default), [token, transcript, guest],
            [chatbot, session, turn_ids, *consent.outputs], api_visibility="private", show_progress="hidden").then(
            preferences.refresh, [token], preferences.outputs, show_progress="hidden")
    return blocks
