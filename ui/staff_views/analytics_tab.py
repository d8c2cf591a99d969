"""The analytics tab for reviewers: volume, resolution, hand-over reasons, thumbs, verifier fallbacks, offer
conversion per offer and per segment, the bandit's arm shares, volume and resolution per reply language, and the
shoppers' ratings (CSAT) for conversations with the assistant only and with a person, over a period.

Resolved means: not handed over, not ended in "I don't know", not reopened within a day (see
``assistant.store.conversation_outcomes``); the summary says how many conversations each of the three took away."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import gradio as gr

from assistant.staff.analytics import Analytics
from ui.staff_views.view_support import RoleCheck, call, parse_day

#: the columns of the table of volume and resolution per reply language
LANGUAGE_COLUMNS = ["language", "turns", "conversations", "handed_over", "unanswered", "reopened", "resolved",
                    "resolution_rate"]
#: the columns of the CSAT table (one row per kind of conversation, and all)
CSAT_COLUMNS = ["conversations", "ratings", "mean", "score_1", "score_2", "score_3", "score_4", "score_5"]
CSAT_NAMES = {"assistant": "assistant only", "handover": "with a person", "all": "all"}


def resolution_summary(total: dict[str, Any]) -> str:
    """The period's resolution in words: what counts, and what kept the others from counting."""
    if total["resolution_rate"] is None:
        return "No conversations in this period."
    return (f"{total['conversations']} conversations, resolved: **{total['resolution_rate']:.0%}** "
            f"({total['resolved']}: not handed over, not ended in \"I don't know\", not reopened within a day); "
            f"{total['handed_over']} handed over, {total['unanswered']} ended in \"I don't know\", "
            f"{total['reopened']} reopened")


def csat_summary(rows: list[dict[str, Any]]) -> str:
    """CSAT per kind of conversation in words: mean of 5 and how many ratings."""
    parts = [f"{CSAT_NAMES.get(r['conversations'], r['conversations'])} "
             + (f"{r['mean']:.2f}/5 ({r['ratings']} rating{'' if r['ratings'] == 1 else 's'})"
                if r["mean"] is not None else "no ratings")
             for r in rows if r["conversations"] != "all"]
    return "CSAT: " + ", ".join(parts)


class AnalyticsTab:
    """The analytics handler; it checks for the ``reviewer`` role first."""

    def __init__(self, need: RoleCheck, service: Analytics) -> None:
        self.need = need
        self.service = service

    def analytics(self, start: str, end: str, request: gr.Request) -> tuple[Any, ...]:
        """The summary line and the figures (as data frames) for the period."""
        import pandas as pd

        self.need(request, "reviewer")
        first, last = parse_day(start, "From"), parse_day(end, "To")
        a = self.service

        def run(name: str) -> list[dict[str, Any]]:
            return list(call(lambda: a.run(name, first, last)))

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
        rates = ([{"day": r["day"], "series": "resolved", "rate": r["resolution_rate"]}
                  for r in resolution if r["resolution_rate"] is not None]
                 + [{"day": r["day"], "series": "thumbs up", "rate": r["up_rate"]} for r in feedback
                    if r["up_rate"] is not None]
                 + [{"day": r["day"], "series": "verifier fallback", "rate": r["fallback_rate"]} for r in fallbacks
                    if r["fallback_rate"] is not None])
        thumbs = [{"day": r["day"], "thumbs": s, "count": r[s]} for r in feedback for s in ("up", "down")]
        rate = total["resolution_rate"]
        languages = run("resolution_by_language")
        csat = run("csat")
        summary = resolution_summary(total)
        if languages and rate is not None:
            summary += "; by language: " + ", ".join(
                f"{r['language']} {r['conversations']} ({r['resolution_rate']:.0%} resolved)" for r in languages
                if r["resolution_rate"] is not None)
        summary += "; " + csat_summary(csat)
        scores = [{"conversations": CSAT_NAMES[r["conversations"]], "score": str(n), "count": r[f"score_{n}"]}
                  for r in csat if r["conversations"] != "all" for n in range(1, 6)]
        csat_table = [{**r, "conversations": CSAT_NAMES.get(r["conversations"], r["conversations"])} for r in csat]
        return (summary, frame(long_volume, ["day", "series", "count"]), frame(rates, ["day", "series", "rate"]),
                frame(run("handover_reasons"), ["reason", "count", "share"]), frame(thumbs, ["day", "thumbs", "count"]),
                frame(run("offer_conversion"), ["offer_id", "shown", "converted", "conversion_rate"]),
                frame(run("segment_conversion"), ["segment", "shown", "converted", "conversion_rate"]),
                frame(run("arm_shares"), ["day", "offer_id", "shown", "share"]),
                frame(run("volume_by_language"), ["day", "language", "conversations", "turns"]),
                frame(languages, LANGUAGE_COLUMNS), frame(csat_table, CSAT_COLUMNS),
                frame(scores, ["conversations", "score", "count"]))

    def build(self) -> None:
        """The tab's components and events (inside the page's ``gr.Tab``)."""
        first, last = default_range()
        with gr.Row():
            start = gr.Textbox(first, label="From (YYYY-MM-DD)", elem_id="analytics-start")
            end = gr.Textbox(last, label="To (YYYY-MM-DD)", elem_id="analytics-end")
            go = gr.Button("Show", variant="primary", elem_id="analytics-show")
        summary = gr.Markdown(elem_id="analytics-summary")
        with gr.Row():
            volume = gr.LinePlot(x="day", y="count", color="series", title="Conversations and turns per day",
                                 y_lim=[0, None])
            resolution = gr.LinePlot(x="day", y="rate", color="series", title="Resolved (not handed over, no \"I "
                                     "don't know\" at the end, not reopened within a day); thumbs-up rate; verifier "
                                     "fallback rate", y_lim=[0, 1])
        with gr.Row():
            reasons = gr.BarPlot(x="reason", y="count", title="Hand-over reasons", y_lim=[0, None])
            thumbs = gr.BarPlot(x="day", y="count", color="thumbs", title="Thumbs up / down per day",
                                y_lim=[0, None])
        with gr.Row():
            per_offer = gr.BarPlot(x="offer_id", y="conversion_rate", title="Offer shown → accepted, per offer",
                                   y_lim=[0, 1])
            per_segment = gr.BarPlot(x="segment", y="conversion_rate", title="Offer shown → accepted, per segment",
                                     y_lim=[0, 1])
        shares = gr.LinePlot(x="day", y="share", color="offer_id", title="Bandit arm shares over time",
                             y_lim=[0, 1])
        with gr.Row():
            per_language = gr.LinePlot(x="day", y="conversations", color="language",
                                       title="Conversations per day, by reply language", y_lim=[0, None])
            language_table = gr.Dataframe(headers=LANGUAGE_COLUMNS, datatype="str", interactive=False,
                                          label="Volume and resolution by reply language",
                                          elem_id="analytics-languages")
        with gr.Row():
            csat_table = gr.Dataframe(headers=CSAT_COLUMNS, datatype="str", interactive=False,
                                      label="CSAT: shoppers' ratings (1-5), assistant only and with a person",
                                      elem_id="analytics-csat")
            csat_scores = gr.BarPlot(x="score", y="count", color="conversations", title="Ratings by score",
                                     y_lim=[0, None])
        go.click(self.analytics, [start, end],
                 [summary, volume, resolution, reasons, thumbs, per_offer, per_segment, shares, per_language,
                  language_table, csat_table, csat_scores])


def default_range() -> tuple[str, str]:
    """The last 30 days, as the form's first values."""
    today = date.today()
    return (today - timedelta(days=30)).isoformat(), today.isoformat()
