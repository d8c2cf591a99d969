"""The shopper chat (Gradio): streamed answers with product cards and sources, example questions,
thumbs up/down per answer, and a demo sign-in. Embeddable in a shop's pages (see docs/embedding.md).

It only talks to the assistant service and its domain types; no business logic lives here.
"""

import html
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import gradio as gr

from assistant.components import Components
from assistant.domain import Citation, OfferView, ProductCard, ReplyFold, ShopperIdentity
from assistant.errors import ConciergeError, NotFoundError
from assistant.locales import examples, supported, text
from assistant.locales.local_formats import money_in
from assistant.records import TurnRecord
from assistant.turn.shopper_language import detect_language
from assistant.turn.turn_service import AssistantService
from ui.preferences_panel import build_preferences_panel
from ui.rate_limits import RateLimiter
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


def render_sources(sources: Iterable[Citation], reply: str = "", language: str = "en") -> str:
    """The sources under a reply, by document title (never a file name), each once; a policy document the
    reply already names ("Source: Returns and refunds.") is not repeated."""
    items: list[str] = []
    for cite in sources:
        name = cite.title if cite.kind in ("policy", "product") else ""
        if name and name not in items and not (cite.kind == "policy" and f"{name}" in reply):
            items.append(name)
    label = text("ui.sources", language)
    return (f"\n\n<small>{label}: " + html.escape("; ".join(items)) + "</small>") if items else ""


def render_reply(folded: ReplyFold, language: str = "en") -> str:
    """The reply so far with its product cards, offers and sources, as the chat shows it."""
    return (folded.reply + render_cards(folded.products, language) + render_offers(folded.offers, language)
            + render_sources(folded.sources, folded.reply, language))


#: how often an open chat looks for replies a support agent sent
AGENT_POLL_S = 2.0


def new_agent_replies(assistant: AssistantService, who: ShopperIdentity | None, session_id: str | None,
                      shown: list[str | None]) -> list[TurnRecord]:
    """The support agents' replies (``TurnRecord``) in the shopper's conversation that the chat does not show
    yet, i.e. whose ids are not in ``shown`` (the chat's turn ids). Nothing when signed out or on any error:
    the next poll tries again."""
    if who is None or not session_id:
        return []
    try:
        turns = assistant.history(who, session_id)
    except ConciergeError:
        return []
    known = set(shown)
    return [t for t in turns if t.author.startswith("agent:") and t.id not in known]


def render_agent_reply(author: str, reply: str, language: str = "en") -> str:
    name = author.split(":", 1)[-1] or text("ui.our_team", language)
    return f"*{html.escape(name)} · {text('ui.from_our_team', language)}*\n\n{html.escape(reply)}"


CSS = (".concierge-card{border:1px solid #ddd;border-radius:8px;padding:6px 10px;margin:4px 0}"
       ".concierge-offer{background:#f4f9f4;border-radius:8px;padding:6px 10px;margin:4px 0}")


def build_chat_ui(components: Components, limiter: RateLimiter | None = None) -> gr.Blocks:
    """``limiter``: chat turns per shopper and per address (default: one from the ``security.*`` settings)."""
    security = components.settings.security
    default = supported(components.settings.language.default)  # the page's language before a message shows one
    access = ShopperAccess(security, components.privacy, limiter)
    identity_of = access.identity_of

    def demo_choices() -> list[tuple[str, str]]:
        try:
            return [(f"{p.name} ({p.tier})", p.id) for p in access.demo_customers(100)]
        except NotFoundError:  # the demo sign-in is off: the shop's own pages sign shoppers in
            return []

    def on_load(request: gr.Request) -> tuple[str | None, str]:
        token = request.query_params.get("token") if request else None
        # ?lang=zh, else the browser's first language, else the default
        asked = (request.query_params.get("lang") or request.headers.get("accept-language", "")) if request else ""
        lang = supported(asked.split(",")[0].strip()) if asked else default
        who = identity_of(token)
        return (token if who else None), (text("ui.signed_in", lang, customer_id=who.customer_id) if who
                                          else text("ui.not_signed_in", lang))

    def sign_in(customer_id: str | None) -> tuple[str | None, str, list[Any], None, list[Any]]:
        if not customer_id:
            return None, text("ui.not_signed_in", default), [], None, []
        try:
            return access.issue(customer_id), text("ui.signed_in", default, customer_id=customer_id), [], None, []
        except NotFoundError:
            return None, text("ui.sign_in_unavailable", default), [], None, []

    def respond(message: str, history: list[dict[str, Any]], token: str | None, session_id: str | None,
                turn_ids: list[str | None], request: gr.Request) -> Iterator[tuple[Any, ...]]:
        lang = page_language(message, history, default)
        history = [*history, {"role": "user", "content": message}, {"role": "assistant", "content": ""}]
        who = identity_of(token)
        if who is None:
            history[-1]["content"] = text("ui.sign_in_first", lang)
            yield history, "", session_id, [*turn_ids, None, None]
            return
        wait = access.chat_wait(who.customer_id, request)
        if wait is not None:
            history[-1]["content"] = text("ui.slow_down", lang, seconds=wait)
            yield history, message, session_id, [*turn_ids, None, None]
            return
        try:
            events = components.assistant.respond(who, session_id, message, channel="web")
        except NotFoundError:
            session_id = None
            events = components.assistant.respond(who, None, message, channel="web")
        folded = ReplyFold()
        for event in events:
            folded.add(event)
            if folded.done is not None:
                session_id = folded.done.session_id
            history[-1]["content"] = render_reply(folded, lang)
            yield history, "", session_id, turn_ids
        yield history, "", session_id, [*turn_ids, None, folded.done.turn_id if folded.done else None]

    def on_feedback(turn_ids: list[str | None], token: str | None, data: gr.LikeData) -> None:
        index = data.index[0] if isinstance(data.index, list | tuple) else data.index
        who = identity_of(token)
        if who is None or not isinstance(index, int) or index >= len(turn_ids) or turn_ids[index] is None:
            return
        try:
            components.assistant.feedback(who, str(turn_ids[index]), "up" if data.liked is True else "down")
        except NotFoundError:
            return

    title = components.shop_profile.title("Concierge")
    blocks = gr.Blocks(title=title)
    with blocks:
        token = gr.State(None)
        session = gr.State(None)
        turn_ids = gr.State([])
        gr.Markdown(f"### {html.escape(title)}")
        with gr.Row(visible=security.demo_sign_in):
            who = gr.Dropdown(choices=demo_choices() if security.demo_sign_in else [],
                              label=text("ui.demo_sign_in", default), scale=3)
            sign = gr.Button(text("ui.sign_in", default), scale=1)
            status = gr.Markdown(text("ui.not_signed_in", default))
        chatbot = gr.Chatbot(label=text("ui.chat", default), height=480, feedback_options=("Like", "Dislike"))
        box = gr.Textbox(placeholder=text("ui.placeholder", default), show_label=False)
        gr.Examples(list(examples(default)), inputs=box)
        preferences = build_preferences_panel(components, token, identity_of)
        sign.click(sign_in, [who], [token, status, chatbot, session, turn_ids], api_name="sign_in").then(
            preferences.refresh, [token], preferences.outputs)
        box.submit(respond, [box, chatbot, token, session, turn_ids], [chatbot, box, session, turn_ids],
                   api_name="chat").then(preferences.refresh, [token], preferences.outputs)
        chatbot.like(on_feedback, [turn_ids, token], None)

        def poll_agents(history: list[dict[str, Any]], token: str | None, session_id: str | None,
                        shown: list[str | None]) -> tuple[Any, Any]:
            fresh = new_agent_replies(components.assistant, identity_of(token), session_id, shown)
            if not fresh:
                return gr.skip(), gr.skip()
            lang = page_language("", history, default)
            replies = [{"role": "assistant", "content": render_agent_reply(t.author, t.reply, lang)} for t in fresh]
            return [*history, *replies], [*shown, *(t.id for t in fresh)]

        gr.Timer(AGENT_POLL_S).tick(poll_agents, [chatbot, token, session, turn_ids], [chatbot, turn_ids],
                                    show_progress="hidden")
        blocks.load(on_load, None, [token, status]).then(preferences.refresh, [token], preferences.outputs)
    return blocks
