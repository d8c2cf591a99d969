"""``concierge insights``: thumbs-down turns, hand-overs, review labels and declined questions grouped into themes,
and the knowledge gaps (declined questions the shop's documents do not answer), over a period.

Added to the ``concierge`` app by ``ui.cli.main``; the service is ``assistant.staff.insights``.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer

from ui.cli.cli_context import cli_context, progress_bar, user_errors

if TYPE_CHECKING:
    from assistant.staff.insights import InsightReport, InsightTurn

DAY_FORMATS = ["%Y-%m-%d"]


def _counts(counts: dict[str, int]) -> str:
    from assistant.staff.insights import SIGNAL_NAMES

    return " · ".join(f"{SIGNAL_NAMES[s]} {n}" for s, n in counts.items() if n)


def _example(turn: InsightTurn) -> str:
    when = turn.created_at.strftime("%Y-%m-%d %H:%M")
    return f"      {turn.turn_id}  {when}  {turn.message[:160]!r}"


def format_insights(report: InsightReport, top: int = 10) -> str:
    """The report as text: themes (largest first) with counts, reasons, the weekly trend and example turns; then
    the knowledge gaps with their example turns and what to do about them."""
    lines = [f"Insights: {report.message}"]
    if not report.turns:
        return "\n".join(lines)
    lines.append(f"flagged turns: {_counts(report.counts)}")
    lines.append(f"\nThemes (messages alike: average cosine >= {report.threshold}), largest first:")
    for n, theme in enumerate(report.themes[:top], start=1):
        lines.append(f"{n:>3}. {theme.representative[:160]!r}: {theme.turns} turn{'s' * (theme.turns != 1)} "
                     f"({_counts(theme.counts)})")
        if theme.details:
            lines.append("      reasons and labels: " + ", ".join(f"{d} {c}" for d, c in theme.details.items()))
        lines.append(f"      per week from {theme.weekly[0][0]}: " + " ".join(str(c) for _, c in theme.weekly))
        lines.extend(_example(t) for t in theme.examples[:3])
    if len(report.themes) > top:
        rest = report.themes[top:]
        lines.append(f"     ... {len(rest)} more themes ({sum(t.turns for t in rest)} turns); --top shows more")
    lines.append(f"\nKnowledge gaps (declined questions whose best policy or product passage scores below "
                 f"{report.gap_score}):")
    if not report.gaps:
        lines.append("     none: the shop's documents have a passage near every declined question")
    for n, gap in enumerate(report.gaps, start=1):
        best = (f"best score {gap.best_score:.2f}, nearest: {gap.nearest}" if gap.nearest
                else "no policy or product passage at all")
        lines.append(f"{n:>3}. {gap.question[:160]!r}: {gap.turns} turn{'s' * (gap.turns != 1)}, {best}")
        lines.extend(_example(t) for t in gap.examples)
    if report.hint:
        lines.append("\n" + report.hint)
    return "\n".join(lines)


def insights_cmd(
    ctx: typer.Context,
    start: Annotated[datetime | None, typer.Option(formats=DAY_FORMATS, help="First day (UTC), YYYY-MM-DD. "
                                                   "Default: 12 weeks before --end.")] = None,
    end: Annotated[datetime | None, typer.Option(formats=DAY_FORMATS, help="Last day (UTC), YYYY-MM-DD. "
                                                 "Default: today.")] = None,
    threshold: Annotated[float | None, typer.Option(min=-1.0, max=1.0, help="Lowest average cosine similarity "
                                                    "inside a theme (default 0.35).")] = None,
    gap_score: Annotated[float | None, typer.Option(min=-1.0, max=1.0, help="A declined question whose best policy "
                                                    "or product passage scores below this is a knowledge gap "
                                                    "(default 0.4).")] = None,
    top: Annotated[int, typer.Option(min=1, help="Themes listed.")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="The whole report as JSON.")] = False,
) -> None:
    """Thumbs-down turns, hand-overs, review labels and declined ("I don't know") questions grouped into themes
    by meaning (a representative question, counts, the trend per week), and the knowledge gaps with example turns:
    add a policy paragraph for each and re-ingest."""
    from assistant.staff.insights import DEFAULT_GAP_SCORE, DEFAULT_THRESHOLD, build_insights

    started = time.perf_counter()
    insights = build_insights(cli_context(ctx).components)
    with user_errors(), ExitStack() as bars:
        updates: dict[str, Callable[[int, int], None]] = {}

        def progress(step: str, done: int, total: int) -> None:
            if step not in updates:
                updates[step] = bars.enter_context(progress_bar(step))
            updates[step](done, total)

        report = insights.report(start.date() if start else None, end.date() if end else None,
                                 threshold=DEFAULT_THRESHOLD if threshold is None else threshold,
                                 gap_score=DEFAULT_GAP_SCORE if gap_score is None else gap_score, progress=progress)
    typer.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=1) if as_json else format_insights(report, top))
    print(f"grouped {report.turns} flagged turns into {len(report.themes)} themes and {len(report.gaps)} knowledge "
          f"gaps in {time.perf_counter() - started:.1f}s", file=sys.stderr)
