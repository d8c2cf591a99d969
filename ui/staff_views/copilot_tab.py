"""The copilot tab for support agents: the hand-over queue, a conversation with the shopper's profile, a
suggested reply to edit and send, taking a conversation over and giving it back."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import gradio as gr

from assistant.records import TurnRecord, money
from assistant.staff.copilot import ConversationContext, Copilot, SuggestedReply
from ui.staff_views.staff_text import blocks, bullets, plain
from ui.staff_views.view_support import RoleCheck, Update, call

CHOOSE_FIRST = "Choose a conversation from the queue and open it first."
#: the suggestion in the page: the session it was drafted for and its text (None: none yet)
Draft = dict[str, str] | None


class CopilotTab:
    """The copilot's handlers; each checks for the ``agent`` role first."""

    def __init__(self, need: RoleCheck, copilot: Copilot) -> None:
        self.need = need
        self.copilot = copilot

    def queue(self, request: gr.Request) -> tuple[list[list[Any]], Update]:
        self.need(request, "agent")
        items = self.copilot.queue()
        rows: list[list[Any]] = [[i.handover.created_at.strftime("%Y-%m-%d %H:%M"), i.handover.reason,
                                  i.handover.summary, i.handover.customer_id or "anonymous", i.held_by or "",
                                  i.handover.session_id] for i in items]
        choices = [(f"{i.handover.created_at:%H:%M} · {i.handover.reason} · {i.handover.customer_id or 'anon'}",
                    i.handover.session_id) for i in items]
        for live in self.copilot.live():
            if all(c[1] != live.session_id for c in choices):
                choices.append((f"live · {live.customer_id or 'anon'} · {live.last_message[:40]}", live.session_id))
        return rows, gr.update(choices=choices, value=choices[0][1] if choices else None)

    def open_conversation(self, session_id: str | None, request: gr.Request
                          ) -> tuple[str, list[dict[str, str]], str, str | None, str, Draft, str, str]:
        """The conversation, its profile and who has it; the previous conversation's reply, draft, sources and
        products are cleared (so nothing meant for one shopper goes to the next)."""
        self.need(request, "agent")
        if not session_id:
            raise gr.Error(CHOOSE_FIRST)
        context = call(lambda: self.copilot.context(session_id))
        holder = (f"Held by <b>{plain(context.held_by)}</b>" if context.held_by
                  else "Nobody has taken this conversation.")
        return profile_view(context), conversation(context.turns), holder, session_id, "", None, "", ""

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
            refresh = gr.Button("Refresh queue", elem_id="copilot-refresh", scale=1)
            chosen = gr.Dropdown(label="Conversation", choices=[], elem_id="copilot-choose", scale=4)
            open_btn = gr.Button("Open", elem_id="copilot-open", scale=1)
        queue = gr.Dataframe(headers=["since", "reason", "summary", "customer", "held by", "session"],
                             datatype="str", label="Hand-over queue (oldest first)", interactive=False, wrap=True,
                             elem_id="copilot-queue")
        with gr.Row():
            with gr.Column(scale=2):
                # shopper and model text in these is ``plain`` (staff_text): literal, never markup or maths
                profile = gr.Markdown(elem_id="copilot-profile", latex_delimiters=[])
            with gr.Column(scale=3):
                holder = gr.Markdown(elem_id="copilot-holder", latex_delimiters=[])
                # messages are ``plain`` (``conversation``) and parsed as HTML only: no Markdown, no LaTeX
                chat = gr.Chatbot(label="Conversation", height=360, elem_id="copilot-conversation",
                                  render_markdown=False, latex_delimiters=[], sanitize_html=True)
                with gr.Row():
                    take = gr.Button("Take over", elem_id="copilot-take")
                    give = gr.Button("Give back", elem_id="copilot-give")
                    suggest = gr.Button("Suggest reply", elem_id="copilot-suggest")
                opened = gr.State(None)  # the session shown
                draft = gr.State(None)  # the suggestion: {"session_id", "reply"}
                reply = gr.Textbox(label="Reply (edit, then send)", lines=4, elem_id="copilot-reply")
                evidence = gr.Markdown(elem_id="copilot-evidence", latex_delimiters=[])
                send = gr.Button("Send to shopper", variant="primary", elem_id="copilot-send")
                sent = gr.Markdown(elem_id="copilot-sent")
        refresh.click(self.queue, None, [queue, chosen])
        # every action is on the conversation opened (shown), not on whatever the list shows chosen
        open_btn.click(self.open_conversation, [chosen],
                       [profile, chat, holder, opened, reply, draft, evidence, sent])
        take.click(self.take_over, [opened], [holder])
        give.click(self.give_back, [opened], [holder])
        suggest.click(self.suggest, [opened], [reply, draft, evidence])
        send.click(self.send, [opened, reply, draft], [chat, reply, sent])

def profile_view(context: ConversationContext) -> str:
    """The shopper's profile (Markdown of simple HTML); every value from the store or the shopper is ``plain``."""
    c = context.customer
    if c is None:
        return "<p><b>Anonymous shopper</b> (not signed in): no profile.</p>"
    consent = c.consent
    parts = [f"<h3>{plain(c.name)} ({plain(c.id)})</h3>",
             f"<p>Tier <b>{plain(c.tier)}</b> · {c.points} points<br>"
             f"Consent: personalization {'yes' if consent.personalization else 'no'}, "
             f"marketing {'yes' if consent.marketing else 'no'}</p>"]
    if context.handover is not None:
        parts.append(f"<p>Hand-over: <b>{plain(context.handover.reason)}</b> — {plain(context.handover.summary)}</p>")
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
