"""The admin API (``/api/v1/admin``, role ``admin``): shop data in, collections and counts, offers, settings.

A thin layer over :class:`assistant.staff.admin.Admin`. Errors: 415 for a file type no importer reads, 413
for a file over
``knowledge.max_file_mb``, 422 for a bad offer or an upload in which nothing could be imported, 404 for an unknown
offer, 409 for an offer id that exists already, 503 while the knowledge base is down: the app's error table
(``ui.error_table``). Every route needs ``require("admin")`` (401 / 403 otherwise).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, File, Form, UploadFile

from assistant.components import Components
from assistant.errors import ValidationError
from assistant.staff.admin import Admin, UploadKind, UploadTooLarge
from assistant.staff.roles import RoleDependency


def build_admin_api(components: Components, require: RoleDependency) -> APIRouter:
    admin = Admin(components)
    router = APIRouter(prefix="/api/v1/admin", tags=["admin"], dependencies=[Depends(require("admin"))])

    @router.post("/uploads")
    def upload(files: Annotated[list[UploadFile], File(description="Catalogue, policy, customer or offer files.")],
               kind: Annotated[UploadKind, Form(description="What the files hold; auto: told by name and "
                                                            "content.")] = "auto") -> dict[str, Any]:
        """Save and import files (incremental: unchanged records are not embedded again); the summary names every
        bad record with file and line. 415 / 413 refuse the whole upload before anything is stored."""
        limit = admin.max_upload_bytes
        received: list[tuple[str, bytes]] = []
        for file in files:
            data = file.file.read(limit + 1)  # never more than the limit in memory
            if len(data) > limit:
                too_big = (f"{file.filename} is over the {components.settings.knowledge.max_file_mb:g} MB limit "
                           "(knowledge.max_file_mb): split it or raise the limit")
                raise UploadTooLarge(too_big, user_message=too_big)
            received.append((file.filename or "", data))
        summary = admin.upload(received, kind)
        if all(r.rejected for r in summary.results):
            nothing = "nothing was imported and stored data is unchanged: " + "; ".join(
                str(p) for p in summary.errors[:10])
            raise ValidationError(nothing, user_message=nothing)
        return summary.to_dict()

    @router.post("/reingest")
    def reingest() -> dict[str, Any]:
        """Import again the demo shop (when in use) and every uploaded file; unchanged records are skipped."""
        return admin.reingest().to_dict()

    @router.get("/collections")
    def collections() -> dict[str, Any]:
        """Knowledge collections with counts per import set; products, policy chunks and documents, customers,
        offers."""
        return admin.collections().to_dict()

    @router.get("/offers")
    def offers() -> list[dict[str, Any]]:
        """Every offer (retired ones too) with its status: live, scheduled, expired or retired."""
        return [view.to_dict() for view in admin.offers()]

    @router.get("/offers/{offer_id}")
    def offer(offer_id: str) -> dict[str, Any]:
        return admin.offer(offer_id).to_dict()

    @router.post("/offers", status_code=201)
    def create_offer(body: Annotated[dict[str, Any], Body(description="An offer (offer.schema.json).")]
                     ) -> dict[str, Any]:
        """A new offer, validated like an imported one (422 naming the bad fields, 409 for an existing id)."""
        return admin.create_offer(body).to_dict()

    @router.put("/offers/{offer_id}")
    def update_offer(offer_id: str, body: Annotated[dict[str, Any], Body(
            description="The fields to change; eligibility is merged field by field; null removes a field.")]
                     ) -> dict[str, Any]:
        return admin.update_offer(offer_id, body).to_dict()

    @router.post("/offers/{offer_id}/disable")
    def disable_offer(offer_id: str) -> dict[str, Any]:
        """The offer expires now: no shopper is shown it any more."""
        return admin.disable_offer(offer_id).to_dict()

    @router.get("/settings")
    def settings() -> dict[str, Any]:
        """The effective settings, every secret masked."""
        return admin.settings_view()

    return router
