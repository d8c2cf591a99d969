"""The staff page's charts are drawn on the server (``ui.staff_views.staff_charts``): a PNG with the data's marks in
the palette's colours, one series per colour value, and a chart that says so when the period has no data. The
analytics tab hands the browser these images (Vega's in-browser plots stay empty under the staff page's CSP)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pandas as pd
import pytest

from ui.staff_views.analytics_tab import CHARTS
from ui.staff_views.staff_charts import PALETTE, Chart


def colours(image: Any) -> Counter[str]:
    """How many pixels of each palette colour the image has (anti-aliased edges aside)."""
    rgb = image.convert("RGB")
    wanted = {tuple(int(c[i:i + 2], 16) for i in (1, 3, 5)): c for c in PALETTE if c != "#000000"}  # not the axes
    return Counter(wanted[p] for p in rgb.getdata() if p in wanted)


def days(rows: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    frame["day"] = pd.to_datetime(frame["day"])
    return frame


def test_a_line_chart_draws_one_line_per_series_in_its_own_colour() -> None:
    frame = days([{"day": f"2026-11-{d:02d}", "series": s, "count": d * (2 if s == "turns" else 1)}
                  for d in range(1, 15) for s in ("conversations", "turns")])

    image = Chart("line", "day", "count", "Per day", color="series").draw(frame)

    assert image.format == "PNG" and image.size == (640, 320)
    drawn = colours(image)
    assert drawn[PALETTE[0]] > 200 and drawn[PALETTE[1]] > 200, drawn  # two lines of marks
    assert drawn[PALETTE[2]] == 0  # and no third


def test_a_stacked_bar_chart_draws_each_stack_and_an_empty_period_says_so() -> None:
    frame = days([{"day": "2026-11-01", "thumbs": "up", "count": 3}, {"day": "2026-11-01", "thumbs": "down",
                                                                          "count": 2}])
    chart = Chart("bar", "day", "count", "Thumbs", color="thumbs")

    full, empty = colours(chart.draw(frame)), colours(chart.draw(frame.iloc[0:0]))

    assert full[PALETTE[0]] > 1000 and full[PALETTE[1]] > 1000, full  # "down" and "up", stacked
    assert sum(empty.values()) == 0  # no marks: only the words "No data in this period"


@pytest.mark.parametrize("position", sorted(CHARTS))
def test_every_analytics_chart_draws_an_empty_period(position: int) -> None:
    chart = CHARTS[position]
    columns = [chart.x, chart.y, *([chart.color] if chart.color else [])]

    image = chart.draw(pd.DataFrame([], columns=columns))

    assert image.size == (640, 320)
