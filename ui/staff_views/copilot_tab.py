"""The copilot tab for support agents: the hand-over queue and the live chats (two lists), a conversation with the
shopper's profile, a suggested reply to edit and send, taking a conversation over and giving it back.

The page keeps up by itself: a ``gr.Timer`` asks every ``WATCH_EVERY_S`` seconds whether the open conversation
changed (``Copilot.revision``) and draws it again only then, never touching the reply being written; another
refreshes the queue and the lists every ``LISTS_EVERY_S`` seconds when they changed."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import gradio as gr

from assistant.errors import ConciergeError
from assistant.records import TurnRecord, money
from assistant.staff.conversation_views import conversation_revision, live_only, shorten
from assistant.staff.copilot import ConversationContext, Copilot, LiveConversation, QueueItem, SuggestedReply
from ui.staff_views.staff_text import blocks, bullets, plain
from ui.staff_views.view_support import RoleCheck, Update, call

CHOOSE_FIRST = "Choose a conversation from the queue and open it first."
#: seconds between looks at the open conversation (cheap: ``Copilot.revision``) and at the queue and lists
WATCH_EVERY_S = 2.0
LISTS_EVERY_S = 10.0
#: the queue's columns and their widths (the summary is one line of ``QueueItem.line``, so they stay on screen)
QUEUE_COLUMNS = ("since", "reason", "summary", "customer", "held by", "session")
QUEUE_WIDTHS = ("10%", "11%", "45%", "8%", "8%", "18%")
LABEL_CHARS = 80  # the one-line summary in a list's label
#: the suggestion in the page: the session it was drafted for and its text (None: none yet)
Draft = dict[str, str] | None


class CopilotTab:
    """The copilot's handlers; each checks for the ``agent`` role first."""

    def __init__(self, need: RoleCheck, copilot: Copilot) -> None:
        self.need = need
        self.copilot = copilot

    def queue(self, request: gr.Request) -> tuple[list[list[Any]], Update]:
        """The hand-over queue (a one-line summary each) and its list to open one from, the oldest chosen."""
        self.need(request, "agent")
        items = self.copilot.queue()
        choices = handover_choices(items)
        return queue_rows(items), gr.update(choices=choices, value=choices[0][1] if choices else None)

    def live_list(self, request: gr.Request) -> Update:
        """Live conversations without a hand-over (those are in the queue), most recent first."""
        self.need(request, "agent")
        return gr.update(choices=live_choices(live_only(self.copilot.live(), self.copilot.queue())), value=None)

    def refresh_lists(self, chosen: str | None, live_chosen: str | None, shown: str | None,
                      request: gr.Request) -> tuple[Any, Any, Any, str | None]:
        """For the timer: the queue and both lists again, only when they changed since ``shown`` (else
        ``gr.skip()``, so nothing flickers); what the agent chose stays chosen while it is listed."""
        try:
            self.need(request, "agent")
        except gr.Error:  # not (or no longer) an agent: the timer stays quiet; a click says why
            return gr.skip(), gr.skip(), gr.skip(), shown
        items = self.copilot.queue()
        live = live_only(self.copilot.live(), items)
        rows, handovers, lives = queue_rows(items), handover_choices(items), live_choices(live)
        now = repr((rows, handovers, lives))
        if now == shown:
            return gr.skip(), gr.skip(), gr.skip(), shown
        keep = chosen if any(v == chosen for _, v in handovers) else (handovers[0][1] if handovers else None)
        keep_live = live_chosen if any(v == live_chosen for _, v in lives) else None
        return rows, gr.update(choices=handovers, value=keep), gr.update(choices=lives, value=keep_live), now

    def open_conversation(self, session_id: str | None, request: gr.Request
                          ) -> tuple[str, list[dict[str, str]], str, str | None, str, Draft, str, str]:
        """The conversation, its profile and who has it; the previous conversation's reply, draft, sources and
        products are cleared (so nothing meant for one shopper goes to the next)."""
        return self.open_and_watch(session_id, request)[:8]

    def open_and_watch(self, session_id: str | None, request: gr.Request
                       ) -> tuple[str, list[dict[str, str]], str, str | None, str, Draft, str, str, str]:
        """``open_conversation`` and the revision shown, for ``watch`` to compare with."""
        self.need(request, "agent")
        if not session_id:
            raise gr.Error(CHOOSE_FIRST)
        context = call(lambda: self.copilot.context(session_id))
        return (profile_view(context), conversation(context.turns), holder_view(context), session_id, "", None, "",
                "", revision_of(context))

    def open_linked(self, request: gr.Request) -> tuple[Any, ...]:
        """On page load: the hand-over named by ``?handover=<id>`` (the link in the agents' notification) is
        opened; without one, or for someone who is no agent, the page stays as it is."""
        wanted = str(dict(getattr(request, "query_params", None) or {}).get("handover") or "")
        if not wanted:
            return tuple(gr.skip() for _ in range(9))
        self.need(request, "agent")
        context = call(lambda: self.copilot.handover_context(wanted))
        return (profile_view(context), conversation(context.turns), holder_view(context), context.session_id, "",
                None, "", "", revision_of(context))

    def watch(self, session_id: str | None, shown: str | None, request: gr.Request) -> tuple[Any, Any, Any, Any]:
        """For the timer: the open conversation's profile, messages and holder drawn again only when something
        changed since ``shown`` (a shopper's message, an agent's reply, who has it); else ``gr.skip()``. The reply
        being written and its draft are not outputs: nothing the agent is editing is touched."""
        unchanged = (gr.skip(), gr.skip(), gr.skip(), gr.skip())
        if not session_id:
            return unchanged
        try:
            self.need(request, "agent")
            if self.copilot.revision(session_id) == shown:
                return unchanged
            context = self.copilot.context(session_id)
        except (gr.Error, ConciergeError):  # signed out, or the conversation is gone: leave the page as it is
            return unchanged
        return profile_view(context), conversation(context.turns), holder_view(context), revision_of(context)

    def suggest(self, session_id: str | None, request: gr.Request) -> tuple[str, Draft, str]:
        self.need(request, "agent")
        if not session_id:
            raise gr.Error(CHOOSE_FIRST)
        draft = call(lambda: self.copilot.suggest(session_id))
        return draft.reply, {"session_id": draft.session_id, "reply": draft.reply}, evidence_view(draft)

    def send(self, session_id: str | None, text: str, draft: Draft,
             request: gr.Request) -> tuple[list[dict[str, str]], str, str]:
        who = self.need(request, "agent")
        if not session_id:
            raise gr.Error(CHOOSE_FIRST)
        if not (text or "").strip():
            raise gr.Error("Write a reply (or ask for a suggestion) before sending.")
        suggested = draft.get("reply") if draft else None
        drafted_for = draft.get("session_id") if draft else None
        sent = call(lambda: self.copilot.send(session_id, who, text, suggested or None, drafted_for))
        context = self.copilot.context(session_id)
        status = "Sent" + (" (edited from the draft)" if sent.edited else " (the draft as suggested)")
        return conversation(context.turns), "", status

    def send_and_watch(self, session_id: str | None, text: str, draft: Draft,
                       request: gr.Request) -> tuple[list[dict[str, str]], str, str, str | None]:
        """``send`` and the revision shown after it (so the timer does not draw the same messages again)."""
        shown, reply, status = self.send(session_id, text, draft, request)
        try:
            revision: str | None = self.copilot.revision(session_id or "")
        except ConciergeError:
            revision = None
        return shown, reply, status, revision

    def take_over(self, session_id: str | None, request: gr.Request) -> str:
        who = self.need(request, "agent")
        if not session_id:
            raise gr.Error(CHOOSE_FIRST)
        call(lambda: self.copilot.take_over(session_id, who))
        return f"Held by <b>{plain(who.username)}</b>: the assistant waits while you reply."

    def give_back(self, session_id: str | None, request: gr.Request) -> str:
        who = self.need(request, "agent")
        if not session_id:
            raise gr.Error(CHOOSE_FIRST)
        call(lambda: self.copilot.give_back(session_id, who))
        return "Given back: the assistant answers again."

    def build(self) -> None:
        """The tab's components and events (inside the page's ``gr.Tab``)."""
        with gr.Row():
            refresh = gr.Button("Refresh", elem_id="copilot-refresh", scale=1, min_width=100)
            chosen = gr.Dropdown(label="Hand-overs (oldest first)", choices=[], elem_id="copilot-choose", scale=4)
            open_btn = gr.Button("Open hand-over", elem_id="copilot-open", scale=1, min_width=100)
        with gr.Row():
            live = gr.Dropdown(label="Live chats without a hand-over (most recent first)", choices=[],
                               elem_id="copilot-live", scale=4)
            open_live = gr.Button("Open live chat", elem_id="copilot-open-live", scale=1, min_width=100)
        queue = gr.Dataframe(headers=list(QUEUE_COLUMNS), datatype="str", label="Hand-over queue (oldest first)",
                             interactive=False, wrap=True, column_widths=list(QUEUE_WIDTHS),
                             elem_id="copilot-queue")
        with gr.Row():
            with gr.Column(scale=2):
                # shopper and model text in these is ``plain`` (staff_text): literal, never markup or maths
                profile = gr.Markdown(elem_id="copilot-profile", latex_delimiters=[])
            with gr.Column(scale=3):
                holder = gr.Markdown(elem_id="copilot-holder", latex_delimiters=[])
                # messages are ``plain`` (``conversation``) and parsed as HTML only: no Markdown, no LaTeX
                # the label stays for screen readers, not drawn over the first message; no share button (Gradio
                # draws it without a name); the toolbar keeps clear of the messages (``staff_style``)
                chat = gr.Chatbot(label="Conversation (updates by itself)", show_label=False, height=360,
                                  elem_id="copilot-conversation", render_markdown=False, latex_delimiters=[],
                                  sanitize_html=True, buttons=["copy", "copy_all"])
                with gr.Row():
                    take = gr.Button("Take over", elem_id="copilot-take")
                    give = gr.Button("Give back", elem_id="copilot-give")
                    suggest = gr.Button("Suggest reply", elem_id="copilot-suggest")
                opened = gr.State(None)  # the session shown
                shown = gr.State(None)  # its revision shown (``Copilot.revision``)
                listed = gr.State(None)  # the queue and lists shown (``refresh_lists``)
                draft = gr.State(None)  # the suggestion: {"session_id", "reply"}
                reply = gr.Textbox(label="Reply (edit, then send)", lines=4, elem_id="copilot-reply")
                evidence = gr.Markdown(elem_id="copilot-evidence", latex_delimiters=[])
                send = gr.Button("Send to shopper", variant="primary", elem_id="copilot-send")
                sent = gr.Markdown(elem_id="copilot-sent")
        conversation_timer = gr.Timer(WATCH_EVERY_S)
        lists_timer = gr.Timer(LISTS_EVERY_S)
        refresh.click(self.queue, None, [queue, chosen]).then(self.live_list, None, [live])
        # every action is on the conversation opened (shown), not on whatever a list shows chosen
        opening = [profile, chat, holder, opened, reply, draft, evidence, sent, shown]
        open_btn.click(self.open_and_watch, [chosen], opening)
        open_live.click(self.open_and_watch, [live], opening)
        gr.on(None, self.open_linked, None, opening)  # on page load: ``?handover=<id>`` from a notification
        take.click(self.take_over, [opened], [holder])
        give.click(self.give_back, [opened], [holder])
        suggest.click(self.suggest, [opened], [reply, draft, evidence])
        send.click(self.send_and_watch, [opened, reply, draft], [chat, reply, sent, shown])
        # polling: quiet (no progress overlay), and only what changed is drawn again (``gr.skip()`` otherwise)
        conversation_timer.tick(self.watch, [opened, shown], [profile, chat, holder, shown], show_progress="hidden",
                                concurrency_limit=None)
        lists_timer.tick(self.refresh_lists, [chosen, live, listed], [queue, chosen, live, listed],
                         show_progress="hidden", concurrency_limit=None)


def queue_rows(items: Iterable[QueueItem]) -> list[list[Any]]:
    """The queue's table: one short line a hand-over (``QueueItem.line``), never the whole transcript."""
    return [[i.handover.created_at.strftime("%Y-%m-%d %H:%M"), i.handover.reason.replace("_", " "), i.line(),
             i.handover.customer_id or "guest", i.held_by or "", i.handover.session_id] for i in items]


def handover_choices(items: Iterable[QueueItem]) -> list[tuple[str, str]]:
    return [(f"{i.handover.created_at:%H:%M} · {i.handover.customer_id or 'guest'} · {i.line(LABEL_CHARS)}"
             + (f" · held by {i.held_by}" if i.held_by else ""), i.handover.session_id) for i in items]


def live_choices(live: Iterable[LiveConversation]) -> list[tuple[str, str]]:
    return [((f"{c.last_at:%H:%M} · " if c.last_at else "") + f"{c.customer_id or 'guest'} · "
             + f"“{shorten(c.last_message, LABEL_CHARS)}”" + (f" · held by {c.held_by}" if c.held_by else ""),
             c.session_id) for c in live]


def holder_view(context: ConversationContext) -> str:
    return (f"Held by <b>{plain(context.held_by)}</b>" if context.held_by
            else "Nobody has taken this conversation.")


def revision_of(context: ConversationContext) -> str:
    return conversation_revision(context.turns, context.handover, context.held_by)


def profile_view(context: ConversationContext) -> str:
    """The shopper's profile (Markdown of simple HTML); every value from the store or the shopper is ``plain``."""
    c = context.customer
    if c is None:
        return blocks(["<p><b>Anonymous shopper</b> (not signed in): no profile.</p>", *handover_view(context)])
    consent = c.consent
    parts = [f"<h3>{plain(c.name)} ({plain(c.id)})</h3>",
             f"<p>Tier <b>{plain(c.tier)}</b> · {c.points} points<br>"
             f"Consent: personalization {'yes' if consent.personalization else 'no'}, "
             f"marketing {'yes' if consent.marketing else 'no'}</p>"]
    parts.extend(handover_view(context))
    if c.preferences:
        parts.append("<p><b>Preferences</b></p>" + bullets([
            f"{plain(p.get('kind'))}: {plain(p.get('value'))} ({plain(p.get('origin'))}"
            + (f", {float(p['confidence']):.2f}" if p.get("confidence") is not None else "") + ")"
            for p in c.preferences]))
    if c.orders:
        parts.append("<p><b>Orders</b></p>" + bullets([
            f"{plain(o.id)} · {plain(o.status)} · {o.placed_at:%Y-%m-%d} · "
            + (plain(money(o.total, o.currency)) if o.total is not None else "") for o in c.orders[:10]]))
    return blocks(parts)


def handover_view(context: ConversationContext) -> list[str]:
    """The hand-over's reason and summary, and the e-mail address the shopper gave to be answered at (when nobody
    was there), with what they were told it is for."""
    h = context.handover
    if h is None:
        return []
    parts = [f"<p>Hand-over: <b>{plain(h.reason)}</b> — {plain(h.summary)}</p>"]
    if h.contact_email:
        parts.append(f"<p id=\"copilot-contact\">Reply by e-mail to <b>{plain(h.contact_email)}</b> (given "
                     f"{h.contact_at:%Y-%m-%d %H:%M} UTC; the shopper was told: “{plain(h.contact_consent)}”)</p>"
                     if h.contact_at else f"<p>Reply by e-mail to <b>{plain(h.contact_email)}</b></p>")
    elif h.contact_asked_at is not None:
        parts.append("<p>Nobody was there: the shopper was asked for an e-mail address (none given yet).</p>")
    return parts


def evidence_view(draft: SuggestedReply) -> str:
    """What a suggestion rests on: the shopper's words it answers, sources, products, offers, the verdict."""
    parts = []
    if draft.message:
        parts.append(f"<p><b>Answers:</b> {plain(draft.message)}</p>")
    if draft.sources:
        parts.append("<p><b>Sources:</b> " + "; ".join(f"{plain(s.heading or s.title)} ({plain(s.source)})"
                                                      for s in draft.sources) + "</p>")
    parts.append(bullets([f"<b>{plain(p.name)}</b> {plain(money(p.price, p.currency))}"
                        + (f" — {plain(p.reason)}" if p.reason else "") for p in draft.products]
                       + [f"🎁 offer <b>{plain(o.title)}</b> code <code>{plain(o.code)}</code>" for o in draft.offers]))
    parts.append(f"<p><small>intent {plain(draft.intent or '-')} · verifier {plain(draft.verdict)}</small></p>")
    return blocks(parts)


def conversation(turns: Iterable[TurnRecord]) -> list[dict[str, str]]:
    """The turns as chat messages of ``plain`` text (the Chatbot renders no Markdown); an agent's reply says who
    wrote it."""
    messages: list[dict[str, str]] = []
    for t in turns:
        if t.message:
            messages.append({"role": "user", "content": plain(t.message)})
        if t.reply:
            who = t.author.split(":", 1)[1] if t.author.startswith("agent:") else None
            messages.append({"role": "assistant",
                             "content": (f"<b>{plain(who)} (agent):</b> " if who else "") + plain(t.reply)})
    return messages
