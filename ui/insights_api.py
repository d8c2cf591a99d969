"""``GET /api/v1/analytics/insights``: themes and knowledge gaps of the period's flagged turns (reviewer role).

A thin layer over ``assistant.staff.insights.Insights.report``. The app includes this router before the
reviewers' router, whose ``/api/v1/analytics/{name}`` would otherwise take the path.

(No ``from __future__ import annotations`` here: FastAPI must resolve the ``Reviewer`` alias, local to
``build_insights_api``, at definition time.)
"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import Field

from assistant.staff.insights import DEFAULT_GAP_SCORE, DEFAULT_THRESHOLD, Insights
from assistant.staff.roles import RoleDependency, StaffPrincipal
from ui.review_api import parse_day
from ui.staff_models import ResponseModel


class InsightTurnView(ResponseModel):
    """A flagged turn: the shopper's message as logged (redacted), the signals that flagged it."""

    turn_id: str
    session_id: str
    created_at: str = Field(..., description="ISO time, UTC.")
    message: str
    signals: list[str] = Field(..., description="thumbs_down, handover, label and/or declined.")
    details: list[str] = Field(..., description="The hand-over reasons and review labels of the turn.")


class WeekCountView(ResponseModel):
    week: str = Field(..., description="The Monday the week starts on, YYYY-MM-DD.")
    count: int


class ThemeView(ResponseModel):
    """Flagged turns whose messages read alike."""

    representative: str = Field(..., description="The message nearest the theme's centroid.")
    turns: int
    counts: dict[str, int] = Field(..., description="Turns per signal (a turn may have several).")
    details: dict[str, int] = Field(..., description="Turns per hand-over reason and per review label.")
    weekly: list[WeekCountView] = Field(..., description="Turns per week of the period.")
    examples: list[InsightTurnView] = Field(..., description="The newest turns of the theme.")


class KnowledgeGapView(ResponseModel):
    """Declined questions alike that no policy or product passage answers."""

    question: str = Field(..., description="The question nearest the gap's centroid.")
    turns: int
    best_score: float = Field(..., description="The best retrieval score any of them got (cosine).")
    nearest: str | None = Field(..., description="What scored it: a policy title or a product name.")
    examples: list[InsightTurnView]


class InsightsView(ResponseModel):
    """Themes (largest first) and knowledge gaps (most asked first) of a period."""

    start: str = Field(..., description="First day, YYYY-MM-DD.")
    end: str = Field(..., description="Last day, YYYY-MM-DD.")
    threshold: float
    gap_score: float
    turns: int = Field(..., description="Flagged turns in the period.")
    counts: dict[str, int] = Field(..., description="Flagged turns per signal.")
    themes: list[ThemeView]
    gaps: list[KnowledgeGapView]
    message: str = Field(..., description="The report in a sentence, or why there is nothing to show.")
    hint: str = Field(..., description="What to do about the gaps (empty without gaps).")


def build_insights_api(insights: Insights, require: RoleDependency) -> APIRouter:
    """The insights route; ``require("reviewer")`` guards it (an admin has the role too)."""
    router = APIRouter(prefix="/api/v1", tags=["review"])
    Reviewer = Annotated[StaffPrincipal, Depends(require("reviewer"))]

    @router.get("/analytics/insights", response_model=InsightsView)
    def insights_report(
        _who: Reviewer,
        start: Annotated[str | None, Query(max_length=40, description="First day, YYYY-MM-DD.")] = None,
        end: Annotated[str | None, Query(max_length=40, description="Last day, YYYY-MM-DD.")] = None,
        threshold: Annotated[float, Query(ge=-1, le=1, description="Lowest average cosine similarity inside a "
                                          "theme.")] = DEFAULT_THRESHOLD,
        gap_score: Annotated[float, Query(ge=-1, le=1, description="A declined question whose best passage scores "
                                          "below this is a knowledge gap.")] = DEFAULT_GAP_SCORE,
    ) -> dict[str, Any]:
        """Thumbs-down turns, hand-overs, problem labels and declined questions grouped into themes by meaning
        (default: the last 12 weeks), and the knowledge gaps with example turns."""
        return insights.report(parse_day(start, "start"), parse_day(end, "end"), threshold=threshold,
                               gap_score=gap_score).to_dict()

    return router
