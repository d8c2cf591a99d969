"""The staff page's charts, drawn on the server as PNG images (matplotlib, Agg) and shown with ``gr.Image``.

Gradio's own plots (``gr.LinePlot``, ``gr.BarPlot``) draw in the browser with Vega, which compiles its expressions
with ``new Function``: the staff page's Content-Security-Policy (``ui.web_guards.STAFF_CSP``) allows no evaluated
strings, so those plots stayed empty boxes. An image needs nothing but ``img-src 'self'``, the same as the campaign
tab's uplift plot (``assistant.personalization.uplift_report.uplift_plot``).

A ``Chart`` names its columns like the Gradio plots did (``x``, ``y``, ``color`` for one line or bar stack per
value); ``Chart.draw(frame)`` is the picture of a data frame, with a line saying so when the period has no data
(no rows, or only zero counts: :meth:`Chart.data`).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any, Literal

import gradio as gr

#: the drawn size in inches at ``DPI``: about 640 x 320 pixels, half the page's width at desktop size
SIZE = (6.4, 3.2)
DPI = 100
#: the longest tick label on a category axis (a theme's question, an offer id) before it is cut with "…"
MAX_TICK_CHARS = 24
#: the most ticks on a time axis
MAX_TICKS = 8
#: a colour-blind-safe palette (Okabe-Ito), dark enough to see on white
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"]


def _tick(value: Any) -> str:
    text = str(value)
    return text if len(text) <= MAX_TICK_CHARS else text[: MAX_TICK_CHARS - 1] + "…"


@dataclass(frozen=True)
class Chart:
    """One chart: a line per ``color`` value over ``x`` (``kind="line"``), or bars of ``y`` per ``x`` stacked by
    ``color`` (``kind="bar"``); ``y_max``: the top of the y axis (``None``: the data's)."""

    kind: Literal["line", "bar"]
    x: str
    y: str
    title: str
    color: str | None = None
    y_max: float | None = None

    def component(self, elem_id: str) -> gr.Image:
        """The empty image the chart is drawn into (inside the current ``gr.Blocks``)."""
        # the chart draws its title itself: Gradio's label would float over it
        return gr.Image(label=self.title, type="pil", format="png", interactive=False, show_label=False,
                        buttons=["download"], alt_text=f"Chart: {self.title}", elem_id=elem_id,
                        elem_classes=["staff-chart"])

    def draw(self, frame: Any) -> Any:
        """The chart of ``frame`` (a pandas ``DataFrame`` with the named columns) as a ``PIL.Image``."""
        from matplotlib.figure import Figure  # not pyplot: no global state, so requests may draw at once
        from matplotlib.ticker import MaxNLocator
        from PIL import Image

        fig = Figure(figsize=SIZE, dpi=DPI)
        ax = fig.subplots()
        ax.set_title(self.title if len(self.title) <= 70 else self.title[:69] + "…", fontsize=10, loc="left")
        ax.set_ylabel(self.y.replace("_", " "), fontsize=9)
        ax.tick_params(labelsize=8)
        ax.grid(axis="y", alpha=0.3)
        rows = self.data(frame)
        if not len(rows):
            ax.text(0.5, 0.5, "No data in this period", ha="center", va="center", transform=ax.transAxes,
                    fontsize=11, color="#4b5563")
            ax.set_xticks([])
            ax.set_ylim(0, self.y_max or 1)
        elif self.kind == "line":
            self._lines(ax, rows)
        else:
            self._bars(ax, rows)
        if self.y_max is None:  # counts: whole numbers on the axis, up to 1 at least (all zero: 0 to 1)
            ax.set_ylim(0, max(1.0, ax.get_ylim()[1]))
            ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        fig.tight_layout()
        out = io.BytesIO()
        fig.savefig(out, format="png")
        out.seek(0)
        image = Image.open(out)
        image.load()
        return image

    def data(self, frame: Any) -> Any:
        """The rows of ``frame`` there is something to draw for: those with a ``y`` value, none when a chart of
        counts (no ``y_max``) counts nothing at all (a day with no votes is a row of zeros, no data). A rate of 0
        is data: it is only there when something was shown or asked."""
        rows = frame.dropna(subset=[self.y]) if len(frame) else frame
        if self.y_max is None and len(rows) and not (rows[self.y] != 0).any():
            return rows.iloc[0:0]
        return rows

    def _groups(self, rows: Any) -> list[tuple[str, Any]]:
        if not self.color:
            return [("", rows)]
        return [(str(name), part) for name, part in rows.groupby(self.color, sort=True)]

    def _lines(self, ax: Any, rows: Any) -> None:
        import matplotlib.dates as mdates

        groups = self._groups(rows)
        for n, (name, part) in enumerate(groups):
            part = part.sort_values(self.x)
            ax.plot(part[self.x], part[self.y], marker="o", markersize=3, linewidth=1.6,
                    color=PALETTE[n % len(PALETTE)], label=name or None)
        xs = sorted(set(rows[self.x]))
        ax.set_xticks(xs[:: -(-len(xs) // MAX_TICKS)])  # the data's own days (or weeks), at most MAX_TICKS
        if str(rows[self.x].dtype).startswith("datetime"):
            ax.xaxis.set_major_formatter(mdates.DateFormatter("%m-%d"))  # type: ignore[no-untyped-call]
        ax.set_ylim(0, self.y_max if self.y_max is not None else None)
        if self.color:
            ax.legend(fontsize=8, frameon=False, loc="best")

    def _bars(self, ax: Any, rows: Any) -> None:
        values = rows[self.x]
        if str(values.dtype).startswith("datetime"):
            values = values.dt.strftime("%m-%d")
        rows = rows.assign(_x=values.astype(str))
        order = list(dict.fromkeys(sorted(rows["_x"]) if self.x in ("day", "week", "score") else rows["_x"]))
        bottoms = dict.fromkeys(order, 0.0)
        for n, (name, part) in enumerate(self._groups(rows)):
            sums = part.groupby("_x")[self.y].sum()
            heights = [float(sums.get(x, 0.0)) for x in order]
            ax.bar(range(len(order)), heights, bottom=[bottoms[x] for x in order], width=0.7,
                   color=PALETTE[n % len(PALETTE)], label=name or None)
            for x, h in zip(order, heights, strict=True):
                bottoms[x] += h
        step = -(-len(order) // MAX_TICKS) if self.x in ("day", "week") else 1  # a time axis: every k-th day
        shown = list(range(0, len(order), step))
        ax.set_xticks(shown, [_tick(order[i]) for i in shown], rotation=30 if len(shown) > 4 else 0,
                      ha="right" if len(shown) > 4 else "center")
        ax.set_xlim(-0.6, max(len(order), 4) - 0.4)  # a bar or two stay bars, not the whole width
        ax.set_ylim(0, self.y_max if self.y_max is not None else None)
        if self.color:
            ax.legend(fontsize=8, frameon=False, loc="best")
