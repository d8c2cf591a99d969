"""The admin tab: upload and import shop data, re-ingest everything, collections and counts, offers, settings."""

from __future__ import annotations

import json
from typing import Any

import gradio as gr

from assistant.shop.import_summary import ImportSummary
from assistant.staff.admin import Admin
from ui.staff_views.staff_text import plain
from ui.staff_views.view_support import RoleCheck, Update, call


class AdminTab:
    """The admin's handlers; each checks for the ``admin`` role first."""

    def __init__(self, need: RoleCheck, admin: Admin) -> None:
        self.need = need
        self.admin = admin

    def upload(self, files: list[Any] | None, kind: str, request: gr.Request,
               progress: gr.Progress = gr.Progress()) -> str:  # noqa: B008 - Gradio's progress injection
        self.need(request, "admin")
        if not files:
            raise gr.Error("Choose one or more files to upload.")
        payload = []
        for f in files:
            path = f if isinstance(f, str) else getattr(f, "name", str(f))
            with open(path, "rb") as fh:
                payload.append((path.rsplit("/", 1)[-1], fh.read()))
        summary = call(lambda: self.admin.upload(payload, kind,  # type: ignore[arg-type]
                                                 progress=lambda x, d: progress(x, desc=d)))
        return summary_md(summary)

    def reingest(self, request: gr.Request, progress: gr.Progress = gr.Progress()) -> str:  # noqa: B008
        self.need(request, "admin")
        summary = call(lambda: self.admin.reingest(progress=lambda x, d: progress(x, desc=d)))
        return summary_md(summary)

    def collections(self, request: gr.Request) -> dict[str, Any]:
        self.need(request, "admin")
        return call(lambda: self.admin.collections().to_dict())

    def offers(self, request: gr.Request) -> tuple[list[list[Any]], Update]:
        self.need(request, "admin")
        views = self.admin.offers()
        rows = [[v.offer["id"], v.offer.get("title", ""), v.offer.get("code", ""), v.status] for v in views]
        return rows, gr.update(choices=[str(v.offer["id"]) for v in views])

    def offer_json(self, offer_id: str | None, request: gr.Request) -> str:
        self.need(request, "admin")
        if not offer_id:
            return ""
        return json.dumps(call(lambda: self.admin.offer(offer_id)).offer, indent=2)

    def save_offer(self, offer_id: str | None, text: str, request: gr.Request) -> str:
        self.need(request, "admin")
        if not offer_id:
            raise gr.Error("Choose an offer first.")
        try:
            changes = json.loads(text)
        except json.JSONDecodeError as e:
            raise gr.Error(f"The offer is not valid JSON: {e}") from e
        if not isinstance(changes, dict):
            raise gr.Error("The offer must be a JSON object.")
        view = call(lambda: self.admin.update_offer(offer_id, changes))
        return f"Saved offer {view.offer['id']} ({view.status})."

    def settings(self, request: gr.Request) -> dict[str, Any]:
        self.need(request, "admin")
        return self.admin.settings_view()

    def build(self) -> None:
        """The tab's components and events (inside the page's ``gr.Tab``)."""
        with gr.Row():
            with gr.Column():
                # a button named by its text (Gradio's drop area is named otherwise than it reads, which screen
                # readers' users speaking to their computer cannot say); the chosen files are listed under it
                files = gr.UploadButton("Choose knowledge files (catalogue, policies, customers, offers)",
                                        file_count="multiple", elem_id="admin-files")
                chosen = gr.Markdown("No files chosen.", elem_id="admin-chosen")
                kind = gr.Radio(["auto", "catalog", "policies", "customers", "offers"], value="auto", label="Kind")
                with gr.Row():
                    upload = gr.Button("Upload and import", variant="primary", elem_id="admin-upload")
                    reingest = gr.Button("Re-ingest everything", elem_id="admin-reingest")
                summary = gr.Markdown(elem_id="admin-summary")
            with gr.Column():
                counts_btn = gr.Button("Collections and counts")
                counts = gr.JSON(label="Collections")
        files.upload(chosen_md, [files], [chosen])
        upload.click(self.upload, [files, kind], [summary])
        reingest.click(self.reingest, None, [summary])
        counts_btn.click(self.collections, None, [counts])
        with gr.Accordion("Offers", open=False):
            offers_btn = gr.Button("Load offers")
            offers = gr.Dataframe(headers=["id", "title", "code", "status"], datatype="str", interactive=False)
            offer_id = gr.Dropdown(label="Offer", choices=[])
            offer = gr.Code(language="json", label="Offer (edit and save)")
            save = gr.Button("Save offer")
            saved = gr.Markdown()
        offers_btn.click(self.offers, None, [offers, offer_id])
        offer_id.change(self.offer_json, [offer_id], [offer])
        save.click(self.save_offer, [offer_id, offer], [saved])
        with gr.Accordion("Settings (secrets masked)", open=False):
            settings_btn = gr.Button("Show settings")
            settings = gr.JSON()
        settings_btn.click(self.settings, None, [settings])


def chosen_md(files: list[Any] | None) -> str:
    """The names of the files chosen for upload (as literal text)."""
    names = [str(getattr(f, "name", f)).rsplit("/", 1)[-1] for f in files or []]
    return "Chosen: " + ", ".join(plain(n) for n in names) if names else "No files chosen."


def summary_md(summary: ImportSummary) -> str:
    """An import's summary line, its first 50 problems, the passages quarantined (they read as instructions to
    the assistant and were not stored) and the documents cut at the size caps: every value as literal text."""
    data = summary.to_dict()
    text = summary.summary()
    lines = [f"**{plain(text)}**" if text else "**Done.**"]
    lines += [f"- {plain(e)}" for e in (data.get("errors") or [])[:50]]
    quarantined, cut = summary.quarantined, data.get("cut") or []
    if quarantined:
        lines += ["", f"**Quarantined passages ({len(quarantined)}), not stored:**"]
        lines += [f"- {plain(q)}" for q in quarantined[:50]]
    if cut:
        lines += ["", f"**Documents cut at the size caps ({len(cut)}):**"] + [f"- {plain(c)}" for c in cut[:50]]
    return "\n".join(lines)
