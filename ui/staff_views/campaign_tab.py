"""The campaign page for marketers (issue 18 item 3): each campaign's audience, copy and sends, and its measured
uplift against the holdout as a table and a plot (``assistant.personalization.campaign_service``,
``assistant.personalization.uplift``). Creating, drawing, generating and exporting stay in the CLI and the REST API
(``concierge campaign``, ``/api/v1/campaigns``); the page is where a campaign's result is read."""

from __future__ import annotations

import html
import tempfile
from pathlib import Path
from typing import Any

import gradio as gr

from assistant.personalization.campaign_service import Campaigns
from assistant.personalization.uplift_report import UPLIFT_TABLE_HEADERS, uplift_plot, uplift_table_rows
from ui.staff_views.view_support import RoleCheck, call

ROLE = "marketer"


def status_text(service: Campaigns, campaign_id: str) -> str:
    """One campaign in words: window, holdout share, members per arm, copy per review status, sent."""
    status = service.status(campaign_id)
    c = status.campaign
    arms = ", ".join(f"{html.escape(arm)} {n}" for arm, n in sorted(status.arms.items())) or "not drawn yet"
    copy = ", ".join(f"{html.escape(s)} {n}" for s, n in sorted(status.copy.items())) or "none yet"
    return (f"**{html.escape(c.name)}** ({html.escape(c.id)}) · window {c.starts_at:%Y-%m-%d %H:%M} to "
            f"{c.ends_at:%Y-%m-%d %H:%M} UTC · holdout {c.holdout_share:.0%}\n\n"
            f"Members per arm: {arms}. Copy: {copy}. Sent: {status.sent}.")


class CampaignTab:
    """The campaign page's handlers; each checks for the ``marketer`` role first (admins have every role)."""

    def __init__(self, need: RoleCheck, service: Campaigns, plots: Path | None = None) -> None:
        self.need = need
        self.service = service
        self.plots = plots or Path(tempfile.mkdtemp(prefix="concierge-uplift-"))

    def choices(self, request: gr.Request, current: str | None = None) -> Any:
        """The campaigns to choose from; the one chosen (``current``) stays chosen, else the first."""
        self.need(request, ROLE)
        found = call(self.service.stores.campaigns.all)
        ids = [c.id for c in found]
        return gr.update(choices=[(f"{c.name} ({c.id})", c.id) for c in found],
                         value=current if current in ids else (ids[0] if ids else None))

    def listed(self, current: str | None, request: gr.Request) -> Any:
        """The "Refresh list" button: ``choices``, keeping the campaign chosen."""
        return self.choices(request, current)

    def on_open(self, current: str | None, request: gr.Request) -> Any:
        """The list as the page loads and each time the tab opens; nothing (and no error) without the role: the
        page loads for every staff member, and the tab shows only to marketers."""
        try:
            self.need(request, ROLE)
        except gr.Error:
            return gr.skip()
        return self.choices(request, current)

    def show(self, campaign_id: str | None, request: gr.Request) -> tuple[str, list[list[Any]], str | None]:
        """The campaign's status, its uplift table and the plot's file (none before anything was sent)."""
        self.need(request, ROLE)
        if not campaign_id:
            return "No campaign yet: create one with `concierge campaign create` or POST /api/v1/campaigns.", [], None
        text = call(lambda: status_text(self.service, campaign_id))
        try:
            report = call(lambda: self.service.uplift(campaign_id))
        except gr.Error as not_yet:  # not sent yet, or no holdout: say why instead of a table
            return f"{text}\n\n{not_yet.message}", [], None
        plot = uplift_plot(report, self.plots / f"{campaign_id}.png")
        return text + f"\n\nMeasured from {report.since:%Y-%m-%d %H:%M} to {report.until:%Y-%m-%d %H:%M} UTC.", \
            uplift_table_rows(report), str(plot)

    def build(self) -> gr.Dropdown:
        """The tab's components and events; the campaign list (``StaffViews`` fills it with ``on_open``)."""
        gr.Markdown("### Campaigns: did the personalized copy and offers sell more than the holdout?")
        with gr.Row():
            pick = gr.Dropdown(label="Campaign", choices=[], elem_id="campaign-pick")
            refresh = gr.Button("Refresh list", elem_id="campaign-refresh")
            go = gr.Button("Measure", variant="primary", elem_id="campaign-show")
        summary = gr.Markdown(elem_id="campaign-summary")
        table = gr.Dataframe(headers=UPLIFT_TABLE_HEADERS, datatype="str", interactive=False, wrap=True,
                             label="Conversion and revenue per shopper, each variant against the holdout "
                                   "(* the interval excludes zero)", elem_id="campaign-uplift")
        plot = gr.Image(label="Uplift with its 95% interval", type="filepath", interactive=False,
                        elem_id="campaign-plot")
        refresh.click(self.listed, pick, pick)
        go.click(self.show, pick, [summary, table, plot])
        return pick
