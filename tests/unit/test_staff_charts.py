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


#: the colour of the words "No data in this period"
LABEL = (0x4B, 0x55, 0x63)


def says_no_data(image: Any) -> bool:
    """Whether the image's middle (where the words go) has the label's colour in it."""
    width, height = image.size
    middle = image.convert("RGB").crop((width // 4, height // 3, 3 * width // 4, 2 * height // 3))
    return sum(1 for p in middle.getdata() if p == LABEL) > 20


@pytest.mark.parametrize("position", sorted(CHARTS))
def test_every_analytics_chart_says_when_its_period_has_no_data(position: int) -> None:
    chart = CHARTS[position]
    columns = [chart.x, chart.y, *([chart.color] if chart.color else [])]

    assert says_no_data(chart.draw(pd.DataFrame([], columns=columns)))


def test_days_without_votes_are_no_data_the_thumbs_chart_says_so() -> None:
    # the analytics fill every day of the period: with no votes each day is a row of zero counts
    thumbs = CHARTS[4]
    assert thumbs.title == "Thumbs up / down per day"
    zeros = days([{"day": f"2026-11-{d:02d}", "thumbs": s, "count": 0} for d in range(1, 8) for s in ("up", "down")])
    votes = zeros.assign(count=[1 if n == 3 else 0 for n in range(len(zeros))])

    assert says_no_data(thumbs.draw(zeros)) and not says_no_data(thumbs.draw(votes))
    assert sum(colours(thumbs.draw(votes)).values()) > 100  # one vote is a bar


@pytest.mark.parametrize("position", [n for n in sorted(CHARTS) if CHARTS[n].y_max is None])
def test_a_chart_of_counts_that_counts_nothing_says_so(position: int) -> None:
    chart = CHARTS[position]
    row = {chart.x: "2026-11-01" if chart.x == "day" else "a", chart.y: 0, **({chart.color: "b"} if chart.color
                                                                              else {})}
    frame = days([row]) if chart.x == "day" else pd.DataFrame([row])

    assert says_no_data(chart.draw(frame))


def test_a_rate_of_zero_is_data_not_an_empty_period() -> None:
    per_offer = CHARTS[5]  # offers shown and none taken: 0% is what happened
    frame = pd.DataFrame([{"offer_id": "offer-a", "conversion_rate": 0.0}, {"offer_id": "offer-b",
                                                                            "conversion_rate": 0.0}])

    assert per_offer.y_max is not None and not says_no_data(per_offer.draw(frame))
