"""Marketing copy waiting for review (in the copilot tab): agents approve, edit or reject generated copy."""

from __future__ import annotations

from typing import Any

import gradio as gr

from assistant.staff.copy_review import CopyReview
from ui.staff_views.view_support import RoleCheck, Update, call


class CopyReviewTab:
    """The copy queue's handlers; each checks for the ``agent`` role first."""

    def __init__(self, need: RoleCheck, copy_review: CopyReview) -> None:
        self.need = need
        self.copy_review = copy_review

    def copy_queue(self, request: gr.Request) -> tuple[list[list[Any]], Update]:
        self.need(request, "agent")
        drafts = self.copy_review.pending()
        rows: list[list[Any]] = [[d.id, d.kind, d.customer_id or d.segment or "", d.text] for d in drafts]
        return rows, gr.update(choices=[(f"{d.kind} · {d.customer_id or d.segment} · {d.id[:8]}", d.id)
                                        for d in drafts], value=drafts[0].id if drafts else None)

    def copy_text(self, draft_id: str | None, request: gr.Request) -> str:
        self.need(request, "agent")
        found = self.copy_review.get(draft_id) if draft_id else None
        return found.text if found else ""

    def review_copy(self, action: str, draft_id: str | None, text: str, request: gr.Request) -> str:
        who = self.need(request, "agent")
        if not draft_id:
            raise gr.Error("Choose a draft first.")
        if action == "approve":
            done = call(lambda: self.copy_review.approve(draft_id, who.username))
        elif action == "edit":
            done = call(lambda: self.copy_review.edit(draft_id, who.username, text))
        else:
            done = call(lambda: self.copy_review.reject(draft_id, who.username))
        return f"Copy {done.id[:8]} is now **{done.status}** (by {done.reviewer})."

    def approve_copy(self, draft_id: str | None, text: str, request: gr.Request) -> str:
        return self.review_copy("approve", draft_id, text, request)

    def edit_copy(self, draft_id: str | None, text: str, request: gr.Request) -> str:
        return self.review_copy("edit", draft_id, text, request)

    def reject_copy(self, draft_id: str | None, text: str, request: gr.Request) -> str:
        return self.review_copy("reject", draft_id, text, request)

    def build(self) -> None:
        """The copy queue's components and events (an accordion at the foot of the copilot tab)."""
        with gr.Accordion("Marketing copy waiting for review", open=False):
            copy_refresh = gr.Button("Refresh copy queue", elem_id="copy-refresh")
            copies = gr.Dataframe(headers=["id", "kind", "audience", "text"], datatype="str", interactive=False,
                                  wrap=True, elem_id="copy-queue")
            copy_id = gr.Dropdown(label="Draft", choices=[])
            copy_text = gr.Textbox(label="Text", lines=4)
            with gr.Row():
                approve = gr.Button("Approve")
                edit = gr.Button("Save edit")
                reject = gr.Button("Reject")
            copy_status = gr.Markdown()
        copy_refresh.click(self.copy_queue, None, [copies, copy_id])
        copy_id.change(self.copy_text, [copy_id], [copy_text])
        approve.click(self.approve_copy, [copy_id, copy_text], [copy_status])
        edit.click(self.edit_copy, [copy_id, copy_text], [copy_status])
        reject.click(self.reject_copy, [copy_id, copy_text], [copy_status])
