"""The analytics tab splits volume and resolution by the reply language each turn recorded: the real service over
SQLite, the tab's handler called as Gradio calls it (the role check a recording stand-in)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import gradio as gr
import pytest

from assistant.staff.analytics import Analytics
from assistant.staff.roles import StaffPrincipal
from assistant.store import CounterIds, FixedClock, Stores, TurnRecord, open_stores
from ui.staff_views.analytics_tab import CHARTS, LANGUAGE_COLUMNS, AnalyticsTab


@pytest.fixture
def stores(tmp_path: Path, customer_record: Callable[..., dict[str, Any]]) -> Iterator[Stores]:
    opened = open_stores(f"sqlite:///{tmp_path / 'tab.db'}", clock=FixedClock(datetime(2026, 11, 21, tzinfo=UTC)),
                         ids=CounterIds("t"))
    opened.customers.upsert_from_record(customer_record("c1"), "test")
    yield opened
    opened.close()


def test_the_tab_shows_conversations_and_resolution_per_language(stores: Stores) -> None:
    when = datetime(2026, 11, 20, 10, tzinfo=UTC)
    for language, handover in (("zh", True), ("zh", False), ("en", False)):
        session = stores.sessions.open_session("c1")
        stores.turns.record_turn(TurnRecord(session_id=session, customer_id="c1", message="m", reply="r",
                                            created_at=when, handover=handover, trace={"language": language}), [])
    checked: list[str] = []

    def need(_request: gr.Request | None, role: str) -> StaffPrincipal:
        checked.append(role)
        return StaffPrincipal("rita", frozenset({"reviewer"}))

    tab = AnalyticsTab(need, Analytics(stores.analytics))

    out = tab.analytics("2026-11-20", "2026-11-20", gr.Request())

    assert checked == ["reviewer"]
    summary, per_language, table = out[0], out[8], out[9]
    assert "by language: zh 2 (50% resolved), en 1 (100% resolved)" in summary
    assert list(table.columns) == LANGUAGE_COLUMNS
    assert table.to_dict("records") == [
        {"language": "zh", "turns": 2, "conversations": 2, "handed_over": 1, "unanswered": 0, "reopened": 0,
         "resolved": 1, "resolution_rate": 0.5},
        {"language": "en", "turns": 1, "conversations": 1, "handed_over": 0, "unanswered": 0, "reopened": 0,
         "resolved": 1, "resolution_rate": 1.0}]
    assert {(r["language"], r["conversations"]) for r in per_language.to_dict("records")} == {("en", 1), ("zh", 2)}

    drawn = tab.show("2026-11-20", "2026-11-20", gr.Request())  # as the page shows it: charts as PNG images

    assert [n for n, v in enumerate(drawn) if getattr(v, "format", None) == "PNG"] == sorted(CHARTS)
    assert drawn[9].equals(table) and drawn[0] == summary
