"""How a measured uplift is shown: a table for the campaign page, a text summary for the CLI, a PNG
(the figures come from :mod:`assistant.personalization.uplift`)."""

from __future__ import annotations

from pathlib import Path

from assistant.personalization.uplift import POOLED, UpliftArm, UpliftComparison, UpliftReport

# ---- presentation: a table for the campaign page, a text summary for the CLI, a PNG -------------------------

UPLIFT_TABLE_HEADERS = ["arm", "shoppers", "converters", "conversion", "conversion uplift (pp) [CI]",
                        "relative", "revenue / shopper", "revenue uplift / shopper [CI]", "relative revenue"]


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:+.1%}"


def _row(stats: UpliftArm, comparison: UpliftComparison | None) -> list[str | int]:
    base: list[str | int] = [stats.arm, stats.shoppers, stats.converters, f"{stats.conversion_rate:.2%}"]
    if comparison is None:
        return [*base, "— (baseline)", "—", f"{stats.revenue_per_shopper:.2f}", "— (baseline)", "—"]
    c = comparison
    conversion = (f"{c.conversion_diff * 100:+.2f} [{c.conversion_ci.low * 100:+.2f}, "
                  f"{c.conversion_ci.high * 100:+.2f}]{' *' if c.conversion_significant else ''}")
    revenue = (f"{c.revenue_diff:+.2f} [{c.revenue_ci.low:+.2f}, {c.revenue_ci.high:+.2f}]"
               f"{' *' if c.revenue_significant else ''}")
    return [*base, conversion, _pct(c.conversion_relative), f"{stats.revenue_per_shopper:.2f}", revenue,
            _pct(c.revenue_relative)]


def uplift_table_rows(report: UpliftReport) -> list[list[str | int]]:
    """Rows for a ``gr.Dataframe(headers=UPLIFT_TABLE_HEADERS)``: holdout, each variant, all treated pooled.

    Uplifts are in percentage points (conversion) and currency per shopper (revenue) with the interval in
    brackets; ``*`` marks an interval that excludes zero.
    """
    rows = [_row(report.holdout, None)]
    rows += [_row(c.treated, c) for c in report.comparisons]
    rows.append(_row(report.pooled.treated, report.pooled))
    return rows


def format_uplift(report: UpliftReport) -> str:
    """The table as plain text, for ``concierge campaign ...`` output."""
    rows = [UPLIFT_TABLE_HEADERS, *([str(v) for v in r] for r in uplift_table_rows(report))]
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(UPLIFT_TABLE_HEADERS))]
    lines = [f"Uplift {report.since:%Y-%m-%d %H:%M} to {report.until:%Y-%m-%d %H:%M} UTC, "
             f"{report.confidence:.0%} intervals ({report.resamples} bootstrap resamples, seed {report.seed})"]
    lines += ["  ".join(str(v).ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines += [f"note: {n}" for n in report.notes]
    return "\n".join(lines)


def uplift_plot(report: UpliftReport, path: Path | str) -> Path:
    """Each variant's (and the pooled) uplift with its interval against zero, as a PNG (matplotlib, Agg).

    Two panels: conversion in percentage points, revenue per shopper in currency. A bar that stays clear
    of the zero line is an effect chance alone rarely makes.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    comparisons = [*report.comparisons, report.pooled]
    labels = [c.arm for c in comparisons]
    ys = list(range(len(comparisons)))[::-1]
    panels = [
        ("conversion uplift (percentage points)", [c.conversion_diff * 100 for c in comparisons],
         [(c.conversion_ci.low * 100, c.conversion_ci.high * 100) for c in comparisons]),
        ("revenue uplift per shopper", [c.revenue_diff for c in comparisons],
         [(c.revenue_ci.low, c.revenue_ci.high) for c in comparisons]),
    ]
    fig, axes = plt.subplots(1, 2, figsize=(10, 1.2 + 0.6 * len(comparisons)), dpi=110, sharey=True)
    try:
        for ax, (title, values, intervals) in zip(axes, panels, strict=True):
            for y, value, (low, high), c in zip(ys, values, intervals, comparisons, strict=True):
                colour = "tab:gray" if low <= 0 <= high else ("tab:green" if low > 0 else "tab:red")
                marker = "D" if c.arm == POOLED else "o"
                ax.errorbar([value], [y], xerr=[[value - low], [high - value]], fmt=marker, color=colour, capsize=4)
            ax.axvline(0, color="black", linewidth=1)
            ax.set_title(title)
            ax.grid(axis="x", alpha=0.3)
        axes[0].set_yticks(ys, labels)
        fig.suptitle(f"Campaign uplift vs a holdout of {report.holdout.shoppers} shoppers, "
                     f"{report.confidence:.0%} intervals")
        fig.tight_layout()
        fig.savefig(target)
    finally:
        plt.close(fig)
    return target
