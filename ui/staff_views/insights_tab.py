"""The insights view for reviewers (on the analytics tab): thumbs-down turns, hand-overs, review labels and declined
questions grouped into themes by meaning, with plots of the counts per theme and the trend per week, and the
knowledge gaps with example turns and what to do about them (``assistant.staff.insights``)."""

from __future__ import annotations

from typing import Any

import gradio as gr

from assistant.staff.insights import SIGNAL_NAMES, InsightReport, Insights
from ui.staff_views.staff_charts import Chart
from ui.staff_views.view_support import RoleCheck, call, parse_day

THEME_COLUMNS = ["theme", "representative", "turns", *SIGNAL_NAMES.values(), "reasons and labels"]
GAP_COLUMNS = ["question", "turns", "best score", "nearest document", "example turns"]
#: themes drawn in the trend plot (the largest)
TREND_THEMES = 6
#: the charts, drawn on the server (``ui.staff_views.staff_charts``)
COUNTS = Chart("bar", "theme", "count", "Flagged turns per theme, by signal", color="signal")
TREND = Chart("line", "week", "count", "Turns per week, largest themes", color="theme")


def _label(n: int, text: str) -> str:
    return f"{n}. {text[:40]}{'…' if len(text) > 40 else ''}"


def insight_rows(report: InsightReport) -> dict[str, list[dict[str, Any]]]:
    """The report as rows for the plots and tables: ``counts`` (theme, signal, count), ``trend`` (week, theme,
    count), ``themes`` and ``gaps`` (``THEME_COLUMNS`` / ``GAP_COLUMNS``)."""
    counts: list[dict[str, Any]] = []
    trend: list[dict[str, Any]] = []
    themes: list[dict[str, Any]] = []
    for n, theme in enumerate(report.themes, start=1):
        label = _label(n, theme.representative)
        counts.extend({"theme": label, "signal": SIGNAL_NAMES[s], "count": c} for s, c in theme.counts.items() if c)
        if n <= TREND_THEMES:
            trend.extend({"week": w, "theme": label, "count": c} for w, c in theme.weekly)
        themes.append({"theme": n, "representative": theme.representative, "turns": theme.turns,
                       **{SIGNAL_NAMES[s]: c for s, c in theme.counts.items()},
                       "reasons and labels": ", ".join(f"{d} {c}" for d, c in theme.details.items())})
    gaps = [{"question": g.question, "turns": g.turns, "best score": round(g.best_score, 3) if g.nearest else None,
             "nearest document": g.nearest or "",
             "example turns": "; ".join(f"{e.turn_id} ({e.created_at:%Y-%m-%d %H:%M}): {e.message[:120]}"
                                        for e in g.examples)} for g in report.gaps]
    return {"counts": counts, "trend": trend, "themes": themes, "gaps": gaps}


def insight_summary(report: InsightReport) -> str:
    """The report in words: how many turns per signal, and what to do about the gaps."""
    if not report.turns:
        return report.message
    parts = ", ".join(f"{SIGNAL_NAMES[s]} {c}" for s, c in report.counts.items() if c)
    text = f"{report.message} Flagged turns: {parts}."
    if report.gaps:
        text += f"\n\n**Knowledge gaps** (declined questions no document answers, best score < {report.gap_score}): " \
                + report.hint
    return text


class InsightsTab:
    """The insights handler; it checks for the ``reviewer`` role first."""

    def __init__(self, need: RoleCheck, service: Insights) -> None:
        self.need = need
        self.service = service

    def show(self, start: str, end: str, request: gr.Request,
             progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:  # noqa: B008 - how Gradio injects it
        """``frames`` as the view shows them: the counts per theme and the trend drawn as charts."""
        summary, counts, trend, themes, gaps = self.frames(start, end, request, progress)
        return summary, COUNTS.draw(counts), TREND.draw(trend), themes, gaps

    def frames(self, start: str, end: str, request: gr.Request, progress: Any = None) -> tuple[Any, ...]:
        """The summary, the counts per theme, the weekly trend, the themes and the gaps."""
        import pandas as pd

        self.need(request, "reviewer")
        first, last = parse_day(start, "From"), parse_day(end, "To")

        def step(what: str, done: int, total: int) -> None:
            if progress is not None:
                progress((done, total), desc=what)

        report = call(lambda: self.service.report(first.date() if first else None, last.date() if last else None,
                                                  progress=step))
        rows = insight_rows(report)
        trend = pd.DataFrame(rows["trend"], columns=["week", "theme", "count"])
        trend["week"] = pd.to_datetime(trend["week"])
        return (insight_summary(report), pd.DataFrame(rows["counts"], columns=["theme", "signal", "count"]), trend,
                pd.DataFrame(rows["themes"], columns=THEME_COLUMNS), pd.DataFrame(rows["gaps"], columns=GAP_COLUMNS))

    def build(self) -> None:
        """The view's components and events (inside the analytics tab)."""
        gr.Markdown("### Insights: what shoppers were unhappy with, and what the shop's documents do not answer")
        with gr.Row():
            start = gr.Textbox("", label="From (YYYY-MM-DD; empty: 12 weeks before To)", elem_id="insights-start")
            end = gr.Textbox("", label="To (YYYY-MM-DD; empty: today)", elem_id="insights-end")
            go = gr.Button("Group into themes", variant="primary", elem_id="insights-show")
        summary = gr.Markdown(elem_id="insights-summary")
        with gr.Row():
            counts = COUNTS.component("insights-counts")
            trend = TREND.component("insights-trend")
        themes = gr.Dataframe(headers=THEME_COLUMNS, datatype="str", interactive=False, wrap=True,
                              label="Themes (messages alike), largest first", elem_id="insights-themes")
        gaps = gr.Dataframe(headers=GAP_COLUMNS, datatype="str", interactive=False, wrap=True,
                            label="Knowledge gaps: add a policy paragraph for each, then re-ingest",
                            elem_id="insights-gaps")
        go.click(self.show, [start, end], [summary, counts, trend, themes, gaps])
