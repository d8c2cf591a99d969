"""The staff views (Gradio, mounted at ``/staff``): the copilot for support agents, the marketing copy queue,
log review and analytics for reviewers, and the admin page.

Sign-in is the staff login (``/staff/login``, ``ui/staff_auth.py``): Gradio's ``auth_dependency`` lets only signed-in
staff load the page, and every event handler checks the role again on the server side (``_need``): hiding a tab
is only a convenience, never the check. The views hold no business logic; they call ``Copilot``, ``ReviewStore``,
``AnalyticsStore`` and ``Admin``.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import gradio as gr

from assistant.components import Components
from assistant.errors import ConciergeError
from assistant.staff.admin import Admin
from assistant.staff.copilot import Copilot
from assistant.staff.roles import StaffPrincipal

LOGIN = "/staff/login"
ANALYTICS = (
    ("turns_per_day", "Conversations and turns per day"),
    ("resolution", "Resolved without hand-over"),
    ("handover_reasons", "Hand-over reasons"),
    ("feedback_per_day", "Thumbs up / down"),
    ("fallbacks_per_day", "Verifier fallbacks"),
    ("offer_conversion", "Offer shown → accepted, per offer"),
    ("segment_conversion", "Offer shown → accepted, per segment"),
    ("arm_shares", "Bandit arm shares over time"),
)


class StaffViews:
    """The handlers behind the staff page, each checking the caller's role first."""

    def __init__(self, components: Components, principal_of: Callable[[Any], StaffPrincipal | None]) -> None:
        self.components = components
        self.principal_of = principal_of
        self._copilot: Copilot | None = None
        self.admin = Admin(components)

    @property
    def copilot(self) -> Copilot:
        if self._copilot is None:
            self._copilot = Copilot(self.components.assistant, self.components.stores)
        return self._copilot

    @property
    def stores(self) -> Any:
        return self.components.stores

    def need(self, request: gr.Request | None, role: str) -> StaffPrincipal:
        """The signed-in staff member if they have ``role``; a ``gr.Error`` otherwise (server-side check)."""
        who = self.principal_of(getattr(request, "request", None)) if request is not None else None
        if who is None:
            raise gr.Error(f"Your session has expired or you are not signed in: sign in again at {LOGIN}.")
        if not who.has(role):
            raise gr.Error(f"This needs the {role} role; {who.username} has {', '.join(sorted(who.roles))}.")
        return who

    # ---- header ------------------------------------------------------------------------------------------
    def on_load(self, request: gr.Request) -> tuple[Any, ...]:
        who = self.principal_of(getattr(request, "request", None))
        if who is None:
            return (f"Not signed in: [sign in]({LOGIN})", *(gr.update(visible=False),) * 4)
        header = (f"Signed in as **{html.escape(who.username)}** ({', '.join(sorted(who.roles))}) · "
                  "<form method='post' action='/api/v1/staff/logout?next=/staff/login' style='display:inline'>"
                  "<button id='staff-logout' type='submit'>Sign out</button></form>")
        return (header, gr.update(visible=who.has("agent")), gr.update(visible=who.has("reviewer")),
                gr.update(visible=who.has("reviewer")), gr.update(visible=who.has("admin")))

    # ---- copilot ----------------------------------------------------------------------------------------
    def queue(self, request: gr.Request) -> tuple[list[list[Any]], Any]:
        self.need(request, "agent")
        items = self.copilot.queue()
        rows = [[i.handover.created_at.strftime("%Y-%m-%d %H:%M"), i.handover.reason, i.handover.summary,
                 i.handover.customer_id or "anonymous", i.held_by or "", i.handover.session_id]
                for i in items]
        choices = [(f"{i.handover.created_at:%H:%M} · {i.handover.reason} · {i.handover.customer_id or 'anon'}",
                    i.handover.session_id) for i in items]
        for live in self.copilot.live():
            if all(c[1] != live.session_id for c in choices):
                choices.append((f"live · {live.customer_id or 'anon'} · {live.last_message[:40]}", live.session_id))
        return rows, gr.update(choices=choices, value=choices[0][1] if choices else None)

    def open_conversation(self, session_id: str | None, request: gr.Request) -> tuple[Any, ...]:
        self.need(request, "agent")
        if not session_id:
            raise gr.Error("Choose a conversation from the queue first.")
        context = self._call(lambda: self.copilot.context(session_id))
        return (self._profile_md(context), self._conversation(context.turns),
                f"Held by **{context.held_by}**" if context.held_by else "Nobody has taken this conversation.")

    def suggest(self, session_id: str | None, request: gr.Request) -> tuple[str, str, str]:
        self.need(request, "agent")
        if not session_id:
            raise gr.Error("Choose a conversation from the queue first.")
        draft = self._call(lambda: self.copilot.suggest(session_id))
        lines = []
        if draft.sources:
            lines.append("**Sources:** " + "; ".join(html.escape(s.heading or s.title) + f" ({s.source})"
                                                      for s in draft.sources))
        for p in draft.products:
            lines.append(f"- **{html.escape(p.name)}** ${p.price:,.2f}" + (f" — {html.escape(p.reason)}"
                                                                            if p.reason else ""))
        for o in draft.offers:
            lines.append(f"- 🎁 offer **{html.escape(o.title)}** code `{o.code}`")
        lines.append(f"<small>intent {draft.intent} · verifier {draft.verdict}</small>")
        return draft.reply, draft.reply, "\n".join(lines)

    def send(self, session_id: str | None, text: str, draft: str, request: gr.Request) -> tuple[Any, ...]:
        who = self.need(request, "agent")
        if not session_id:
            raise gr.Error("Choose a conversation from the queue first.")
        if not (text or "").strip():
            raise gr.Error("Write a reply (or ask for a suggestion) before sending.")
        sent = self._call(lambda: self.copilot.send(session_id, who, text, draft or None))
        context = self.copilot.context(session_id)
        status = "Sent" + (" (edited from the draft)" if sent.edited else " (the draft as suggested)")
        return self._conversation(context.turns), "", status

    def take_over(self, session_id: str | None, request: gr.Request) -> str:
        who = self.need(request, "agent")
        if not session_id:
            raise gr.Error("Choose a conversation from the queue first.")
        self._call(lambda: self.copilot.take_over(session_id, who))
        return f"Held by **{who.username}**: the assistant waits while you reply."

    def give_back(self, session_id: str | None, request: gr.Request) -> str:
        who = self.need(request, "agent")
        if not session_id:
            raise gr.Error("Choose a conversation from the queue first.")
        self._call(lambda: self.copilot.give_back(session_id, who))
        return "Given back: the assistant answers again."

    # ---- marketing copy ----------------------------------------------------------------------------------
    def copy_queue(self, request: gr.Request) -> tuple[list[list[Any]], Any]:
        self.need(request, "agent")
        drafts = self.copilot.pending_copy()
        rows = [[d.id, d.kind, d.customer_id or d.segment or "", d.text] for d in drafts]
        return rows, gr.update(choices=[(f"{d.kind} · {d.customer_id or d.segment} · {d.id[:8]}", d.id)
                                        for d in drafts], value=drafts[0].id if drafts else None)

    def copy_text(self, draft_id: str | None, request: gr.Request) -> str:
        self.need(request, "agent")
        found = self.stores.copy.get(draft_id) if draft_id else None
        return found.text if found else ""

    def review_copy(self, action: str, draft_id: str | None, text: str, request: gr.Request) -> str:
        who = self.need(request, "agent")
        if not draft_id:
            raise gr.Error("Choose a draft first.")
        if action == "approve":
            done = self._call(lambda: self.copilot.approve_copy(draft_id, who))
        elif action == "edit":
            done = self._call(lambda: self.copilot.edit_copy(draft_id, who, text))
        else:
            done = self._call(lambda: self.copilot.reject_copy(draft_id, who))
        return f"Copy {done.id[:8]} is now **{done.status}** (by {done.reviewer})."

    def approve_copy(self, draft_id: str | None, text: str, request: gr.Request) -> str:
        return self.review_copy("approve", draft_id, text, request)

    def edit_copy(self, draft_id: str | None, text: str, request: gr.Request) -> str:
        return self.review_copy("edit", draft_id, text, request)

    def reject_copy(self, draft_id: str | None, text: str, request: gr.Request) -> str:
        return self.review_copy("reject", draft_id, text, request)

    # ---- log review --------------------------------------------------------------------------------------
    def search_turns(self, text: str, customer: str, start: str, end: str, intent: str, verdict: str,
                     handover: str, feedback: str, offer: str, label: str, author: str,
                     request: gr.Request) -> tuple[Any, ...]:
        self.need(request, "reviewer")
        f = _review_filter(text, customer, start, end, intent, verdict, handover, feedback, offer, label, author)
        page = self._call(lambda: self.stores.review.search(f, limit=100))
        rows = [[t.created_at.strftime("%Y-%m-%d %H:%M:%S"), t.id, t.customer_id or "", t.intent or "",
                 t.verdict or "", t.status, t.author, "yes" if t.handover else "", t.feedback or "", t.label or "",
                 f"{t.offers_shown}{' ✓' if t.offer_accepted else ''}" if t.offers_shown else "",
                 t.message[:200], t.reply[:300]] for t in page.items]
        query = {"q": f.text, "customer_id": f.customer_id, "start": start.strip() or None,
                 "end": end.strip() or None, "intent": f.intent, "verdict": f.verdict,
                 "handover": None if f.handover is None else str(f.handover).lower(), "feedback": f.feedback,
                 "offer_shown": None if f.offer_shown is None else str(f.offer_shown).lower(),
                 "offer_accepted": None if f.offer_accepted is None else str(f.offer_accepted).lower(),
                 "label": f.label, "author": f.author}
        jsonl, csv = html.escape(export_link(query, "jsonl")), html.escape(export_link(query, "csv"))
        links = (f"Export these {page.total} turns: <a id='export-jsonl' href='{jsonl}' download>JSONL</a> · "
                 f"<a id='export-csv' href='{csv}' download>CSV</a> (streamed)")
        shown = f"**{page.total}** turns match" + (f"; showing the newest {len(rows)}" if page.total > len(rows)
                                                    else "")
        return rows, gr.update(choices=[t.id for t in page.items], value=page.items[0].id if page.items else None), \
            shown, links

    def replay(self, turn_id: str | None, request: gr.Request) -> str:
        self.need(request, "reviewer")
        if not turn_id:
            raise gr.Error("Choose a turn first (search, then pick one).")
        found = self._call(lambda: self.stores.review.get_replay(turn_id.strip()))
        if found is None:
            raise gr.Error(f"There is no turn {turn_id!r}.")
        t = found.turn
        lines = [f"### Turn {t.id}", f"{t.created_at:%Y-%m-%d %H:%M:%S} · shopper {t.customer_id or 'anonymous'} · "
                 f"replied by {t.author} · verdict **{t.verdict}** · {t.latency_ms} ms",
                 f"> **Shopper:** {html.escape(t.message)}", f"> **Reply:** {html.escape(t.reply)}", ""]
        for i, step in enumerate(found.steps, 1):
            ms = f" · {step.ms:.0f} ms" if step.ms is not None else ""
            lines.append(f"**{i}. {html.escape(step.title)}**{ms}")
            if step.detail:
                lines.append("```json\n" + json.dumps(step.detail, indent=1, default=str)[:3000] + "\n```")
        if found.labels:
            lines.append("**Labels:** " + "; ".join(f"{lab.label} by {lab.reviewer}" + (f" ({lab.note})" if lab.note
                                                                                        else "")
                                                     for lab in found.labels))
        return "\n".join(lines)

    def label_turn(self, turn_id: str | None, label: str | None, note: str, request: gr.Request) -> str:
        who = self.need(request, "reviewer")
        if not turn_id:
            raise gr.Error("Choose a turn first.")
        if not label:
            raise gr.Error("Choose a label.")
        done = self._call(lambda: self.stores.review.add_label(turn_id.strip(), label, who.username, note or None))
        return f"Labelled {done.turn_id[:12]} **{done.label}** (by {done.reviewer})."

    # ---- analytics -----------------------------------------------------------------------------------------
    def analytics(self, start: str, end: str, request: gr.Request) -> tuple[Any, ...]:
        import pandas as pd

        self.need(request, "reviewer")
        first, last = parse_day(start, "From"), parse_day(end, "To")
        a = self.stores.analytics

        def run(name: str) -> list[dict[str, Any]]:
            return list(self._call(lambda: a.run(name, first, last)))

        def frame(rows: list[dict[str, Any]], columns: list[str]) -> Any:
            df = pd.DataFrame(rows, columns=columns)
            if "day" in df:
                df["day"] = pd.to_datetime(df["day"])
            return df

        volume = run("volume")
        resolution, feedback, fallbacks = run("resolution"), run("feedback"), run("fallbacks")
        total = run("resolution_total")[0]
        long_volume = [{"day": r["day"], "series": s, "count": r[s]} for r in volume for s in ("conversations",
                                                                                                 "turns")]
        rates = ([{"day": r["day"], "series": "resolved without hand-over", "rate": r["resolution_rate"]}
                  for r in resolution if r["resolution_rate"] is not None]
                 + [{"day": r["day"], "series": "thumbs up", "rate": r["up_rate"]} for r in feedback
                    if r["up_rate"] is not None]
                 + [{"day": r["day"], "series": "verifier fallback", "rate": r["fallback_rate"]} for r in fallbacks
                    if r["fallback_rate"] is not None])
        thumbs = [{"day": r["day"], "thumbs": s, "count": r[s]} for r in feedback for s in ("up", "down")]
        rate = total["resolution_rate"]
        summary = (f"{total['conversations']} conversations, {total['handed_over']} handed over; resolved without "
                   f"hand-over: **{rate:.0%}**" if rate is not None else "No conversations in this period.")
        return (summary, frame(long_volume, ["day", "series", "count"]), frame(rates, ["day", "series", "rate"]),
                frame(run("handover_reasons"), ["reason", "count", "share"]), frame(thumbs, ["day", "thumbs", "count"]),
                frame(run("offer_conversion"), ["offer_id", "shown", "converted", "conversion_rate"]),
                frame(run("segment_conversion"), ["segment", "shown", "converted", "conversion_rate"]),
                frame(run("arm_shares"), ["day", "offer_id", "shown", "share"]))

    # ---- admin -------------------------------------------------------------------------------------------
    def upload(self, files: list[Any] | None, kind: str, request: gr.Request,
               progress: gr.Progress = gr.Progress()) -> str:  # noqa: B008 - Gradio's progress injection
        self.need(request, "admin")
        if not files:
            raise gr.Error("Choose one or more files to upload.")
        payload = []
        for f in files:
            path = f if isinstance(f, str) else getattr(f, "name", str(f))
            with open(path, "rb") as fh:
                payload.append((path.rsplit("/", 1)[-1], fh.read()))
        summary = self._call(lambda: self.admin.upload(payload, kind,  # type: ignore[arg-type]
                                                       progress=lambda x, d: progress(x, desc=d)))
        return self._summary_md(summary)

    def reingest(self, request: gr.Request, progress: gr.Progress = gr.Progress()) -> str:  # noqa: B008
        self.need(request, "admin")
        summary = self._call(lambda: self.admin.reingest(progress=lambda x, d: progress(x, desc=d)))
        return self._summary_md(summary)

    def collections(self, request: gr.Request) -> dict[str, Any]:
        self.need(request, "admin")
        return self._call(lambda: self.admin.collections().to_dict())

    def offers(self, request: gr.Request) -> tuple[list[list[Any]], Any]:
        self.need(request, "admin")
        views = self.admin.offers()
        rows = [[v.offer["id"], v.offer.get("title", ""), v.offer.get("code", ""), v.status] for v in views]
        return rows, gr.update(choices=[str(v.offer["id"]) for v in views])

    def offer_json(self, offer_id: str | None, request: gr.Request) -> str:
        self.need(request, "admin")
        if not offer_id:
            return ""
        return json.dumps(self._call(lambda: self.admin.offer(offer_id)).offer, indent=2)

    def save_offer(self, offer_id: str | None, text: str, request: gr.Request) -> str:
        self.need(request, "admin")
        if not offer_id:
            raise gr.Error("Choose an offer first.")
        try:
            changes = json.loads(text)
        except json.JSONDecodeError as e:
            raise gr.Error(f"The offer is not valid JSON: {e}") from e
        if not isinstance(changes, dict):
            raise gr.Error("The offer must be a JSON object.")
        view = self._call(lambda: self.admin.update_offer(offer_id, changes))
        return f"Saved offer {view.offer['id']} ({view.status})."

    def settings(self, request: gr.Request) -> dict[str, Any]:
        self.need(request, "admin")
        return self.admin.settings_view()

    # ---- helpers -----------------------------------------------------------------------------------------
    @staticmethod
    def _call(action: Callable[[], Any]) -> Any:
        try:
            return action()
        except ConciergeError as e:
            raise gr.Error(e.user_message) from e

    @staticmethod
    def _summary_md(summary: Any) -> str:
        data = summary.to_dict() if hasattr(summary, "to_dict") else summary
        text = summary.summary() if hasattr(summary, "summary") else ""
        errors = data.get("errors") or [] if isinstance(data, dict) else []
        lines = [f"**{html.escape(text)}**" if text else "**Done.**"]
        lines += [f"- {html.escape(str(e))}" for e in errors[:50]]
        return "\n".join(lines)

    @staticmethod
    def _profile_md(context: Any) -> str:
        c = context.customer
        if c is None:
            return "**Anonymous shopper** (not signed in): no profile."
        consent = c.consent
        lines = [f"### {html.escape(c.name)} ({c.id})", f"Tier **{c.tier}** · {c.points} points  ",
                 f"Consent: personalization {'yes' if consent.personalization else 'no'}, "
                 f"marketing {'yes' if consent.marketing else 'no'}", ""]
        if context.handover is not None:
            lines += [f"Hand-over: **{context.handover.reason}** — {html.escape(context.handover.summary)}", ""]
        if c.preferences:
            lines += ["**Preferences**", ""]
            lines += [f"- {p.get('kind')}: {html.escape(str(p.get('value')))} ({p.get('origin')}"
                      + (f", {float(p['confidence']):.2f}" if p.get("confidence") is not None else "") + ")"
                      for p in c.preferences]
        if c.orders:
            lines += ["", "**Orders**", ""]
            lines += [f"- {o.id} · {o.status} · {o.placed_at:%Y-%m-%d} · "
                      + (f"${o.total:,.2f}" if o.total is not None else "") for o in c.orders[:10]]
        return "\n".join(lines)

    @staticmethod
    def _conversation(turns: Any) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = []
        for t in turns:
            if t.message:
                messages.append({"role": "user", "content": t.message})
            if t.reply:
                who = t.author.split(":", 1)[1] if t.author.startswith("agent:") else None
                messages.append({"role": "assistant",
                                 "content": (f"**{who} (agent):** " if who else "") + t.reply})
        return messages


def export_link(filters: dict[str, Any], fmt: str) -> str:
    query = urlencode({k: v for k, v in {**filters, "format": fmt}.items() if v not in (None, "", "any")})
    return f"/api/v1/review/export?{query}"


def default_range() -> tuple[str, str]:
    today = date.today()
    return (today - timedelta(days=30)).isoformat(), today.isoformat()


def parse_day(value: str, what: str) -> datetime | None:
    if not (value or "").strip():
        return None
    try:
        return datetime.fromisoformat(value.strip())
    except ValueError as e:
        raise gr.Error(f"{what} must be a date like 2026-11-29.") from e


def build_staff_ui(components: Components, principal_of: Callable[[Any], StaffPrincipal | None]) -> gr.Blocks:
    """The staff page; ``principal_of(starlette_request)`` is ``StaffAuth.principal_from_request``."""
    views = StaffViews(components, principal_of)
    with gr.Blocks(title=f"{components.settings.app.shop_name} · Concierge staff") as blocks:
        gr.Markdown(f"## {html.escape(components.settings.app.shop_name)} · Concierge staff")
        header = gr.Markdown("…", elem_id="staff-header")
        with gr.Tabs():
            with gr.Tab("Copilot", id="copilot", visible=False) as copilot_tab:
                _copilot_tab(views)
            with gr.Tab("Log review", id="review", visible=False) as review_tab:
                _review_tab(views)
            with gr.Tab("Analytics", id="analytics", visible=False) as analytics_tab:
                _analytics_tab(views)
            with gr.Tab("Admin", id="admin", visible=False) as admin_tab:
                _admin_tab(views)
        blocks.load(views.on_load, None, [header, copilot_tab, review_tab, analytics_tab, admin_tab])
    return blocks


def _copilot_tab(views: StaffViews) -> None:
    with gr.Row():
        refresh = gr.Button("Refresh queue", elem_id="copilot-refresh", scale=1)
        chosen = gr.Dropdown(label="Conversation", choices=[], elem_id="copilot-choose", scale=4)
        open_btn = gr.Button("Open", elem_id="copilot-open", scale=1)
    queue = gr.Dataframe(headers=["since", "reason", "summary", "customer", "held by", "session"],
                         label="Hand-over queue (oldest first)", interactive=False, wrap=True)
    with gr.Row():
        with gr.Column(scale=2):
            profile = gr.Markdown(elem_id="copilot-profile")
        with gr.Column(scale=3):
            holder = gr.Markdown(elem_id="copilot-holder")
            conversation = gr.Chatbot(label="Conversation", height=360, elem_id="copilot-conversation")
            with gr.Row():
                take = gr.Button("Take over", elem_id="copilot-take")
                give = gr.Button("Give back", elem_id="copilot-give")
                suggest = gr.Button("Suggest reply", elem_id="copilot-suggest")
            draft = gr.State("")
            reply = gr.Textbox(label="Reply (edit, then send)", lines=4, elem_id="copilot-reply")
            evidence = gr.Markdown(elem_id="copilot-evidence")
            send = gr.Button("Send to shopper", variant="primary", elem_id="copilot-send")
            sent = gr.Markdown(elem_id="copilot-sent")
    refresh.click(views.queue, None, [queue, chosen])
    open_btn.click(views.open_conversation, [chosen], [profile, conversation, holder])
    take.click(views.take_over, [chosen], [holder])
    give.click(views.give_back, [chosen], [holder])
    suggest.click(views.suggest, [chosen], [reply, draft, evidence])
    send.click(views.send, [chosen, reply, draft], [conversation, reply, sent])
    with gr.Accordion("Marketing copy waiting for review", open=False):
        copy_refresh = gr.Button("Refresh copy queue", elem_id="copy-refresh")
        copies = gr.Dataframe(headers=["id", "kind", "audience", "text"], interactive=False, wrap=True)
        copy_id = gr.Dropdown(label="Draft", choices=[])
        copy_text = gr.Textbox(label="Text", lines=4)
        with gr.Row():
            approve = gr.Button("Approve")
            edit = gr.Button("Save edit")
            reject = gr.Button("Reject")
        copy_status = gr.Markdown()
    copy_refresh.click(views.copy_queue, None, [copies, copy_id])
    copy_id.change(views.copy_text, [copy_id], [copy_text])
    approve.click(views.approve_copy, [copy_id, copy_text], [copy_status])
    edit.click(views.edit_copy, [copy_id, copy_text], [copy_status])
    reject.click(views.reject_copy, [copy_id, copy_text], [copy_status])


def _admin_tab(views: StaffViews) -> None:
    with gr.Row():
        with gr.Column():
            files = gr.File(label="Knowledge files (catalogue, policies, customers, offers)", file_count="multiple",
                            elem_id="admin-files")
            kind = gr.Radio(["auto", "catalog", "policies", "customers", "offers"], value="auto", label="Kind")
            with gr.Row():
                upload = gr.Button("Upload and import", variant="primary", elem_id="admin-upload")
                reingest = gr.Button("Re-ingest everything", elem_id="admin-reingest")
            summary = gr.Markdown(elem_id="admin-summary")
        with gr.Column():
            counts_btn = gr.Button("Collections and counts")
            counts = gr.JSON(label="Collections")
    upload.click(views.upload, [files, kind], [summary])
    reingest.click(views.reingest, None, [summary])
    counts_btn.click(views.collections, None, [counts])
    with gr.Accordion("Offers", open=False):
        offers_btn = gr.Button("Load offers")
        offers = gr.Dataframe(headers=["id", "title", "code", "status"], interactive=False)
        offer_id = gr.Dropdown(label="Offer", choices=[])
        offer = gr.Code(language="json", label="Offer (edit and save)")
        save = gr.Button("Save offer")
        saved = gr.Markdown()
    offers_btn.click(views.offers, None, [offers, offer_id])
    offer_id.change(views.offer_json, [offer_id], [offer])
    save.click(views.save_offer, [offer_id, offer], [saved])
    with gr.Accordion("Settings (secrets masked)", open=False):
        settings_btn = gr.Button("Show settings")
        settings = gr.JSON()
    settings_btn.click(views.settings, None, [settings])


REVIEW_HEADERS = ["when", "turn", "customer", "intent", "verdict", "status", "author", "hand-over", "thumbs",
                  "label", "offers", "message", "reply"]
ANY = "any"


def _review_filter(text: str, customer: str, start: str, end: str, intent: str, verdict: str, handover: str,
                   feedback: str, offer: str, label: str, author: str) -> Any:
    from assistant.store.review_queries import TurnFilter

    def yes_no(value: str) -> bool | None:
        return None if value in (ANY, "", None) else value == "yes"

    first, last = parse_day(start, "From"), parse_day(end, "To")
    return TurnFilter(
        text=text.strip() or None, customer_id=customer.strip() or None,
        start=first.replace(tzinfo=first.tzinfo or _utc()) if first else None,
        end=(last.replace(tzinfo=last.tzinfo or _utc()) + timedelta(days=1)) if last else None,
        intent=intent.strip() or None, verdict=verdict.strip() or None, handover=yes_no(handover),
        feedback=None if feedback == ANY else feedback,
        offer_shown=True if offer in ("shown", "accepted") else (False if offer == "not shown" else None),
        offer_accepted=True if offer == "accepted" else None,
        label=None if label == ANY else label, author=None if author == ANY else author)


def _utc() -> Any:
    from datetime import UTC

    return UTC


def _review_tab(views: StaffViews) -> None:
    from assistant.store.models import TURN_LABELS

    with gr.Row():
        text = gr.Textbox(label="Text", elem_id="review-text", scale=2)
        customer = gr.Textbox(label="Shopper id", elem_id="review-customer")
        start = gr.Textbox(label="From (YYYY-MM-DD)", elem_id="review-start")
        end = gr.Textbox(label="To (YYYY-MM-DD)", elem_id="review-end")
        intent = gr.Textbox(label="Intent", elem_id="review-intent")
        verdict = gr.Textbox(label="Verdict", elem_id="review-verdict")
    with gr.Row():
        handover = gr.Dropdown([ANY, "yes", "no"], value=ANY, label="Hand-over")
        feedback = gr.Dropdown([ANY, "up", "down", "none"], value=ANY, label="Thumbs")
        offer = gr.Dropdown([ANY, "shown", "accepted", "not shown"], value=ANY, label="Offer")
        label = gr.Dropdown([ANY, *TURN_LABELS, "none"], value=ANY, label="Label")
        author = gr.Dropdown([ANY, "assistant", "agent"], value=ANY, label="Replied by")
        search = gr.Button("Search", variant="primary", elem_id="review-search")
    filters = [text, customer, start, end, intent, verdict, handover, feedback, offer, label, author]
    found = gr.Markdown(elem_id="review-found")
    exports = gr.HTML(elem_id="review-exports")
    turns = gr.Dataframe(headers=REVIEW_HEADERS, interactive=False, wrap=True, elem_id="review-turns")
    with gr.Row():
        turn_id = gr.Dropdown(label="Turn to open", choices=[], allow_custom_value=True, elem_id="review-turn",
                              scale=3)
        open_btn = gr.Button("Replay", elem_id="review-open", scale=1)
    replay = gr.Markdown(elem_id="review-replay")
    with gr.Row():
        chosen = gr.Radio(list(TURN_LABELS), label="Label this turn", elem_id="review-label")
        note = gr.Textbox(label="Note", elem_id="review-note", scale=2)
        save = gr.Button("Save label", elem_id="review-save")
    saved = gr.Markdown(elem_id="review-saved")
    search.click(views.search_turns, filters, [turns, turn_id, found, exports])
    open_btn.click(views.replay, [turn_id], [replay])
    save.click(views.label_turn, [turn_id, chosen, note], [saved])


def _analytics_tab(views: StaffViews) -> None:
    first, last = default_range()
    with gr.Row():
        start = gr.Textbox(first, label="From (YYYY-MM-DD)", elem_id="analytics-start")
        end = gr.Textbox(last, label="To (YYYY-MM-DD)", elem_id="analytics-end")
        go = gr.Button("Show", variant="primary", elem_id="analytics-show")
    summary = gr.Markdown(elem_id="analytics-summary")
    with gr.Row():
        volume = gr.LinePlot(x="day", y="count", color="series", title="Conversations and turns per day",
                             y_lim=[0, None])
        resolution = gr.LinePlot(x="day", y="rate", color="series", title="Resolved without hand-over; "
                                 "thumbs-up rate; verifier fallback rate", y_lim=[0, 1])
    with gr.Row():
        reasons = gr.BarPlot(x="reason", y="count", title="Hand-over reasons", y_lim=[0, None])
        thumbs = gr.BarPlot(x="day", y="count", color="thumbs", title="Thumbs up / down per day", y_lim=[0, None])
    with gr.Row():
        per_offer = gr.BarPlot(x="offer_id", y="conversion_rate", title="Offer shown → accepted, per offer",
                               y_lim=[0, 1])
        per_segment = gr.BarPlot(x="segment", y="conversion_rate", title="Offer shown → accepted, per segment",
                                 y_lim=[0, 1])
    shares = gr.LinePlot(x="day", y="share", color="offer_id", title="Bandit arm shares over time", y_lim=[0, 1])
    go.click(views.analytics, [start, end],
             [summary, volume, resolution, reasons, thumbs, per_offer, per_segment, shares])
