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
from ui.staff_views.staff_charts import Chart
from ui.staff_views.view_support import RoleCheck, call, parse_day

#: the columns of the table of volume and resolution per reply language
LANGUAGE_COLUMNS = ["language", "turns", "conversations", "handed_over", "unanswered", "reopened", "resolved",
                    "resolution_rate"]
#: the columns of the CSAT table (one row per kind of conversation, and all)
CSAT_COLUMNS = ["conversations", "ratings", "mean", "score_1", "score_2", "score_3", "score_4", "score_5"]
CSAT_NAMES = {"assistant": "assistant only", "handover": "with a person", "all": "all"}

#: the charts, drawn on the server (``ui.staff_views.staff_charts``), in the order ``AnalyticsTab.analytics`` returns
#: their data
VOLUME = Chart("line", "day", "count", "Conversations and turns per day", color="series")
RATES = Chart("line", "day", "rate", "Resolved, thumbs-up rate, verifier fallback rate per day", color="series",
              y_max=1)
REASONS = Chart("bar", "reason", "count", "Hand-over reasons")
THUMBS = Chart("bar", "day", "count", "Thumbs up / down per day", color="thumbs")
PER_OFFER = Chart("bar", "offer_id", "conversion_rate", "Offer shown → accepted, per offer", y_max=1)
PER_SEGMENT = Chart("bar", "segment", "conversion_rate", "Offer shown → accepted, per segment", y_max=1)
SHARES = Chart("line", "day", "share", "Bandit arm shares over time", color="offer_id", y_max=1)
PER_LANGUAGE = Chart("line", "day", "conversations", "Conversations per day, by reply language", color="language")
SCORES = Chart("bar", "score", "count", "Ratings by score", color="conversations")
#: ``AnalyticsTab.analytics``'s outputs drawn as charts, by position
CHARTS = {1: VOLUME, 2: RATES, 3: REASONS, 4: THUMBS, 5: PER_OFFER, 6: PER_SEGMENT, 7: SHARES, 8: PER_LANGUAGE,
          11: SCORES}


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

    def show(self, start: str, end: str, request: gr.Request) -> tuple[Any, ...]:
        """``analytics`` as the tab shows it: the figures of ``CHARTS`` drawn as images, the tables as data."""
        out = self.analytics(start, end, request)
        return tuple(CHARTS[n].draw(v) if n in CHARTS else v for n, v in enumerate(out))

    def build(self) -> None:
        """The tab's components and events (inside the page's ``gr.Tab``)."""
        first, last = default_range()
        with gr.Row():
            start = gr.Textbox(first, label="From (YYYY-MM-DD)", elem_id="analytics-start")
            end = gr.Textbox(last, label="To (YYYY-MM-DD)", elem_id="analytics-end")
            go = gr.Button("Show", variant="primary", elem_id="analytics-show")
        summary = gr.Markdown(elem_id="analytics-summary")
        with gr.Row():
            volume = VOLUME.component("analytics-volume")
            resolution = RATES.component("analytics-rates")
        with gr.Row():
            reasons = REASONS.component("analytics-reasons")
            thumbs = THUMBS.component("analytics-thumbs")
        with gr.Row():
            per_offer = PER_OFFER.component("analytics-per-offer")
            per_segment = PER_SEGMENT.component("analytics-per-segment")
        shares = SHARES.component("analytics-shares")
        with gr.Row():
            per_language = PER_LANGUAGE.component("analytics-per-language")
            language_table = gr.Dataframe(headers=LANGUAGE_COLUMNS, datatype="str", interactive=False,
                                          label="Volume and resolution by reply language",
                                          elem_id="analytics-languages")
        with gr.Row():
            csat_table = gr.Dataframe(headers=CSAT_COLUMNS, datatype="str", interactive=False,
                                      label="CSAT: shoppers' ratings (1-5), assistant only and with a person",
                                      elem_id="analytics-csat")
            csat_scores = SCORES.component("analytics-csat-scores")
        go.click(self.show, [start, end],
                 [summary, volume, resolution, reasons, thumbs, per_offer, per_segment, shares, per_language,
                  language_table, csat_table, csat_scores])


def default_range() -> tuple[str, str]:
    """The last 30 days, as the form's first values."""
    today = date.today()
    return (today - timedelta(days=30)).isoformat(), today.isoformat()
