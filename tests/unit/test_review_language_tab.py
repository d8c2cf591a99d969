"""The log review tab shows each turn's reply language and filters by it: the real service over SQLite, the tab's
handler called as Gradio calls it (the role check a recording stand-in)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import gradio as gr
import pytest

from assistant.staff.log_review import LogReview, TurnReplay
from assistant.staff.roles import StaffPrincipal
from assistant.store import CounterIds, FixedClock, Stores, TurnRecord, open_stores
from ui.staff_views.log_review_tab import ANY, REVIEW_HEADERS, LogReviewTab, replay_view


@pytest.fixture
def stores(tmp_path: Path, customer_record: Callable[..., dict[str, Any]]) -> Iterator[Stores]:
    opened = open_stores(f"sqlite:///{tmp_path / 'tab.db'}", clock=FixedClock(datetime(2026, 11, 21, tzinfo=UTC)),
                         ids=CounterIds("t"))
    opened.customers.upsert_from_record(customer_record("c1"), "test")
    session = opened.sessions.open_session("c1")
    for n, language in enumerate(("zh", "en", None)):
        opened.turns.record_turn(TurnRecord(session_id=session, customer_id="c1", message=f"m{n}", reply=f"r{n}",
                                            created_at=datetime(2026, 11, 20, 10, n, tzinfo=UTC),
                                            trace={"language": language} if language else {}), [])
    yield opened
    opened.close()


def reviewer(checked: list[str]) -> Callable[[gr.Request | None, str], StaffPrincipal]:
    def need(_request: gr.Request | None, role: str) -> StaffPrincipal:
        checked.append(role)
        return StaffPrincipal("rita", frozenset({"reviewer"}))
    return need


def search(tab: LogReviewTab, language: str) -> tuple[list[list[Any]], str]:
    rows, _, _, links = tab.search_turns("", "", "", "", "", "", ANY, ANY, ANY, ANY, ANY, gr.Request(), language)
    return rows, links


def test_the_review_table_has_a_language_column_and_filters_by_language(stores: Stores) -> None:
    checked: list[str] = []
    tab = LogReviewTab(reviewer(checked), LogReview(stores.review))
    column = REVIEW_HEADERS.index("language")

    every, _ = search(tab, ANY)
    chinese, links = search(tab, "zh")
    unknown, _ = search(tab, "unknown")

    assert [row[column] for row in every] == ["", "en", "zh"]  # newest first; the last turn recorded none
    assert [row[REVIEW_HEADERS.index("message")] for row in chinese] == ["m0"] and "language=zh" in links
    assert [row[REVIEW_HEADERS.index("message")] for row in unknown] == ["m2"]
    assert checked == ["reviewer"] * 3
    assert tab.log_review.languages() == ("en", "zh", "unknown")


def test_a_replay_says_which_language_the_turn_replied_in(stores: Stores) -> None:
    review = LogReview(stores.review)
    turn = review.search().items[-1]

    found = review.get_replay(turn.id)

    assert isinstance(found, TurnReplay) and "in zh" in replay_view(found)
