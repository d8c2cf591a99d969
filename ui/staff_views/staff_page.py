"""The staff page (Gradio, mounted at ``/staff``): the copilot for support agents with the marketing copy queue,
log review and analytics for reviewers, and the admin page, one module per tab.

Sign-in is the staff login (``/staff/login``, ``ui/staff_auth.py``): Gradio's ``auth_dependency`` lets only signed-in
staff load the page, and every event handler checks the role again on the server side (``StaffViews.need``):
hiding a tab is only a convenience, never the check. The views hold no business logic; they call the services.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import gradio as gr

from assistant.components import Components
from assistant.personalization.campaign_service import build_campaigns
from assistant.staff.admin import Admin
from assistant.staff.insights import build_insights
from assistant.staff.roles import StaffPrincipal
from ui.staff_views.admin_tab import AdminTab
from ui.staff_views.analytics_tab import AnalyticsTab
from ui.staff_views.campaign_tab import CampaignTab
from ui.staff_views.copilot_tab import CopilotTab
from ui.staff_views.copy_review_tab import CopyReviewTab
from ui.staff_views.insights_tab import InsightsTab
from ui.staff_views.log_review_tab import LogReviewTab
from ui.staff_views.view_support import Update

LOGIN = "/staff/login"


class StaffViews:
    """The role check and the tabs' handlers (``copilot``, ``copy_review``, ``log_review``, ``analytics``,
    ``admin``); ``principal_of(starlette_request)`` is the signed-in staff member or None."""

    def __init__(self, components: Components, principal_of: Callable[[Any], StaffPrincipal | None]) -> None:
        self.principal_of = principal_of
        # the services the REST routers call too; the copilot builds the turn service (the model) on first need
        self.copilot = CopilotTab(self.need, components.copilot)
        self.copy_review = CopyReviewTab(self.need, components.copy_review)
        self.log_review = LogReviewTab(self.need, components.log_review)
        self.analytics = AnalyticsTab(self.need, components.analytics)
        self.insights = InsightsTab(self.need, build_insights(components))  # on the analytics tab
        self.admin = AdminTab(self.need, Admin(components))
        self.campaigns = CampaignTab(self.need, build_campaigns(components))

    def need(self, request: gr.Request | None, role: str) -> StaffPrincipal:
        """The signed-in staff member if they have ``role``; a ``gr.Error`` otherwise (server-side check)."""
        who = self.principal_of(getattr(request, "request", None)) if request is not None else None
        if who is None:
            raise gr.Error(f"Your session has expired or you are not signed in: sign in again at {LOGIN}.")
        if not who.has(role):
            raise gr.Error(f"This needs the {role} role; {who.username} has {', '.join(sorted(who.roles))}.")
        return who

    def on_load(self, request: gr.Request) -> tuple[str, Update, Update, Update, Update, Update]:
        """The header and which tabs show (the handlers check the role again)."""
        who = self.principal_of(getattr(request, "request", None))
        if who is None:
            hidden = gr.update(visible=False)
            return f"Not signed in: [sign in]({LOGIN})", hidden, hidden, hidden, hidden, hidden
        header = (f"Signed in as **{html.escape(who.username)}** ({', '.join(sorted(who.roles))}) "
                  "<form method='post' action='/api/v1/staff/logout?next=/staff/login' style='display:inline'>"
                  "<button id='staff-logout' type='submit'>Sign out</button></form>")
        return (header, gr.update(visible=who.has("agent")), gr.update(visible=who.has("reviewer")),
                gr.update(visible=who.has("reviewer")), gr.update(visible=who.has("marketer")),
                gr.update(visible=who.has("admin")))


def build_staff_ui(components: Components, principal_of: Callable[[Any], StaffPrincipal | None]) -> gr.Blocks:
    """The staff page; ``principal_of(starlette_request)`` is ``StaffAuth.principal_from_request``."""
    views = StaffViews(components, principal_of)
    title = components.shop_profile.title("Concierge staff")
    blocks = gr.Blocks(title=title)
    with blocks:
        gr.Markdown(f"# {html.escape(title)}", elem_id="staff-title")  # the page's one top-level heading
        header = gr.Markdown("…", elem_id="staff-header")
        with gr.Tabs():
            with gr.Tab("Copilot", id="copilot", visible=False) as copilot_tab:
                views.copilot.build()
                views.copy_review.build()
            with gr.Tab("Log review", id="review", visible=False) as review_tab:
                views.log_review.build()
            with gr.Tab("Analytics", id="analytics", visible=False) as analytics_tab:
                views.analytics.build()
                views.insights.build()
            with gr.Tab("Campaigns", id="campaigns", visible=False) as campaigns_tab:
                campaign_pick = views.campaigns.build()
            with gr.Tab("Admin", id="admin", visible=False) as admin_tab:
                views.admin.build()
        blocks.load(views.on_load, None, [header, copilot_tab, review_tab, analytics_tab, campaigns_tab, admin_tab]
                    ).then(views.campaigns.on_open, campaign_pick, campaign_pick, show_progress="hidden")
        # the campaign list is there when the tab opens (a campaign made since, by the CLI or the API, too)
        campaigns_tab.select(views.campaigns.on_open, campaign_pick, campaign_pick, show_progress="hidden")
    return blocks
