"""The log review tab for reviewers: search the interaction log, export what matches, replay a turn step by
step and label it."""

from __future__ import annotations

import html
import json
from datetime import UTC, timedelta
from typing import Any
from urllib.parse import urlencode

import gradio as gr

from assistant.staff.log_review import TURN_LABELS, LogReview, TurnFilter, TurnReplay
from ui.staff_views.staff_text import blocks, plain, plain_block
from ui.staff_views.view_support import RoleCheck, Update, call, parse_day

REVIEW_HEADERS = ["when", "turn", "customer", "language", "intent", "verdict", "status", "author", "hand-over",
                  "thumbs", "label", "offers", "message", "reply"]
ANY = "any"


class LogReviewTab:
    """The log review's handlers; each checks for the ``reviewer`` role first."""

    def __init__(self, need: RoleCheck, log_review: LogReview) -> None:
        self.need = need
        self.log_review = log_review

    def search_turns(self, text: str, customer: str, start: str, end: str, intent: str, verdict: str,
                     handover: str, feedback: str, offer: str, label: str, author: str, request: gr.Request,
                     language: str = ANY) -> tuple[list[list[Any]], Update, str, str]:
        """One page of matching turns. (Gradio puts the request where the signature has it, so the language
        filter, the last input, comes after it.)"""
        self.need(request, "reviewer")
        f = review_filter(text, customer, start, end, intent, verdict, handover, feedback, offer, label, author,
                          language)
        page = call(lambda: self.log_review.search(f, limit=100))
        rows: list[list[Any]] = [
            [t.created_at.strftime("%Y-%m-%d %H:%M:%S"), t.id, t.customer_id or "guest", t.language or "",
             t.intent or "", t.verdict or "",
             t.status, t.author, "yes" if t.handover else "", t.feedback or "", t.label or "",
             f"{t.offers_shown}{' ✓' if t.offer_accepted else ''}" if t.offers_shown else "",
             t.message[:200], t.reply[:300]] for t in page.items]
        query = {"q": f.text, "customer_id": f.customer_id, "start": start.strip() or None,
                 "end": end.strip() or None, "intent": f.intent, "verdict": f.verdict,
                 "handover": None if f.handover is None else str(f.handover).lower(), "feedback": f.feedback,
                 "offer_shown": None if f.offer_shown is None else str(f.offer_shown).lower(),
                 "offer_accepted": None if f.offer_accepted is None else str(f.offer_accepted).lower(),
                 "label": f.label, "author": f.author, "language": f.language}
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
        found = call(lambda: self.log_review.replay(turn_id.strip()))
        if found is None:
            raise gr.Error(f"There is no turn {turn_id!r}.")
        return replay_view(found)

    def label_turn(self, turn_id: str | None, label: str | None, note: str, request: gr.Request) -> str:
        who = self.need(request, "reviewer")
        if not turn_id:
            raise gr.Error("Choose a turn first.")
        if not label:
            raise gr.Error("Choose a label.")
        done = call(lambda: self.log_review.label(turn_id.strip(), label, who.username, note or None))
        return f"Labelled {done.turn_id[:12]} **{done.label}** (by {done.reviewer})."

    def build(self) -> None:
        """The tab's components and events (inside the page's ``gr.Tab``)."""
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
            language = gr.Dropdown([ANY, *self.log_review.languages()], value=ANY, label="Language",
                                   elem_id="review-language")
            search = gr.Button("Search", variant="primary", elem_id="review-search")
        filters = [text, customer, start, end, intent, verdict, handover, feedback, offer, label, author, language]
        found = gr.Markdown(elem_id="review-found")
        exports = gr.Markdown(elem_id="review-exports")
        turns = gr.Dataframe(headers=REVIEW_HEADERS, datatype="str", interactive=False, wrap=True,
                             elem_id="review-turns")
        with gr.Row():
            turn_id = gr.Dropdown(label="Turn to open", choices=[], allow_custom_value=True, elem_id="review-turn",
                                  scale=3)
            open_btn = gr.Button("Replay", elem_id="review-open", scale=1)
        replay = gr.Markdown(elem_id="review-replay", latex_delimiters=[])  # ``replay_view``: values are plain
        with gr.Row():
            chosen = gr.Radio(list(TURN_LABELS), label="Label this turn", elem_id="review-label")
            note = gr.Textbox(label="Note", elem_id="review-note", scale=2)
            save = gr.Button("Save label", elem_id="review-save")
        saved = gr.Markdown(elem_id="review-saved")
        search.click(self.search_turns, filters, [turns, turn_id, found, exports])
        open_btn.click(self.replay, [turn_id], [replay])
        save.click(self.label_turn, [turn_id, chosen, note], [saved])


def replay_view(found: TurnReplay) -> str:
    """A turn and its steps (Markdown of simple HTML); the shopper's words, the reply, every trace value and note
    are ``plain`` (a trace's JSON goes into ``<pre>``)."""
    t = found.turn
    parts = [f"<h3>Turn {plain(t.id)}</h3>",
             f"<p>{t.created_at:%Y-%m-%d %H:%M:%S} · shopper {plain(t.customer_id or 'guest')} · replied by "
             f"{plain(t.author)} in {plain(t.language or 'unknown')} · verdict <b>{plain(t.verdict)}</b> · "
             f"{plain(t.latency_ms)} ms</p>",
             f"<blockquote><p><b>Shopper:</b> {plain(t.message)}</p><p><b>Reply:</b> {plain(t.reply)}</p></blockquote>"]
    for i, step in enumerate(found.steps, 1):
        ms = f" · {step.ms:.0f} ms" if step.ms is not None else ""
        parts.append(f"<p><b>{i}. {plain(step.title)}</b>{ms}</p>")
        if step.detail:
            parts.append(f"<pre>{plain_block(json.dumps(step.detail, indent=1, default=str)[:3000])}</pre>")
    if found.labels:
        parts.append("<p><b>Labels:</b> " + "; ".join(
            f"{plain(lab.label)} by {plain(lab.reviewer)}" + (f" ({plain(lab.note)})" if lab.note else "")
            for lab in found.labels) + "</p>")
    return blocks(parts)


def review_filter(text: str, customer: str, start: str, end: str, intent: str, verdict: str, handover: str,
                  feedback: str, offer: str, label: str, author: str, language: str = ANY) -> TurnFilter:
    """The search form as a filter: a day ``To`` includes that day; times without a zone are UTC."""
    def yes_no(value: str) -> bool | None:
        return None if value in (ANY, "", None) else value == "yes"

    first, last = parse_day(start, "From"), parse_day(end, "To")
    return TurnFilter(
        text=text.strip() or None, customer_id=customer.strip() or None,
        start=first.replace(tzinfo=first.tzinfo or UTC) if first else None,
        end=(last.replace(tzinfo=last.tzinfo or UTC) + timedelta(days=1)) if last else None,
        intent=intent.strip() or None, verdict=verdict.strip() or None, handover=yes_no(handover),
        feedback=None if feedback == ANY else feedback,
        offer_shown=True if offer in ("shown", "accepted") else (False if offer == "not shown" else None),
        offer_accepted=True if offer == "accepted" else None,
        label=None if label == ANY else label, author=None if author == ANY else author,
        language=None if language in (ANY, "", None) else language)


def export_link(filters: dict[str, Any], fmt: str) -> str:
    query = urlencode({k: v for k, v in {**filters, "format": fmt}.items() if v not in (None, "", "any")})
    return f"/api/v1/review/export?{query}"
