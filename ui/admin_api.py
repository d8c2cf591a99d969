"""The admin API (``/api/v1/admin``, role ``admin``): shop data in, collections and counts, offers, settings.

A thin layer over :class:`assistant.staff.admin.Admin`. Errors: 415 for a file type no importer reads, 413
for a file over ``knowledge.max_file_mb``, 422 for a bad offer or an upload in which nothing could be imported, 404
for an unknown offer, 409 for an offer id that exists already or a code another offer uses, 503 while the knowledge
base is down: the app's error table (``ui.error_table``). Every route needs ``require("admin")`` (401 / 403 otherwise).
"""

from __future__ import annotations

import copy
import json
from functools import cache
from importlib import resources
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, File, Form, UploadFile

from assistant.components import Components
from assistant.errors import ValidationError
from assistant.staff.admin import Admin, UploadKind, UploadTooLarge
from assistant.staff.roles import RoleDependency
from ui.admin_models import AdminOfferView, CollectionsView, ImportSummaryView, SettingsView
from ui.error_table import responses

#: an id that works in the offer's own URL (``/offers/{offer_id}``)
OFFER_ID = {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"}
#: what the schema cannot say: the dates in order, a fixed discount no larger than its minimum basket (and, for an
#: edit, the offer as changed keeps to every rule); a code no other offer uses is the store's state: a 409
RULES = ("The offer breaks a rule (starts_at before expires_at, a fixed discount no larger than its min_basket) or "
         "the body does not fit the schema; the detail names the fields.")
CODE_TAKEN = "The code is used by another offer (retired ones too): the detail names it; choose another code."


@cache
def offer_schemas() -> tuple[dict[str, Any], dict[str, Any]]:
    """The request bodies of creating and of changing an offer: ``knowledge/schemas/offer.schema.json`` with what
    the server also requires (an id fit for a URL, a value in the range of its kind, a positive cap), and for a
    change every field optional, ``null`` removing an optional one, the id not changeable."""
    offer = json.loads(resources.files("knowledge.schemas").joinpath("offer.schema.json").read_text("utf-8"))
    for key in ("$schema", "$id"):
        offer.pop(key, None)
    offer["properties"]["id"] = OFFER_ID
    rules = offer["properties"]["eligibility"]["properties"]
    rules["max_discount"] = {"type": ["number", "null"], "exclusiveMinimum": 0,
                             "description": rules["max_discount"]["description"]}
    offer["allOf"] = [
        {"if": {"properties": {"kind": {"const": "percent"}}},
         "then": {"properties": {"value": {"exclusiveMinimum": 0, "maximum": 100}}}},
        {"if": {"properties": {"kind": {"enum": ["fixed", "points_multiplier"]}}},
         "then": {"properties": {"value": {"exclusiveMinimum": 0}}}}]
    change = copy.deepcopy(offer)
    del change["required"], change["properties"]["id"], change["allOf"]
    change["minProperties"] = 1
    for name in ("description", "currency"):
        change["properties"][name] = {**change["properties"][name], "type": ["string", "null"]}
    for rule in change["properties"]["eligibility"]["properties"].values():
        kinds = rule["type"] if isinstance(rule["type"], list) else [rule["type"]]
        rule["type"] = [*dict.fromkeys([*kinds, "null"])]
    return offer, change


def checked(body: object, schema: dict[str, Any]) -> dict[str, Any]:
    """``body`` if it fits ``schema`` (the documented request body), else a 422 naming what does not."""
    import jsonschema

    problems = sorted(jsonschema.Draft202012Validator(schema).iter_errors(body), key=lambda e: list(e.path))
    if problems or not isinstance(body, dict):
        detail = "invalid request, the offer is not saved: " + "; ".join(
            f"{'.'.join(str(p) for p in e.path) or 'body'}: {e.message[:200]}" for e in problems[:5])
        raise ValidationError(detail, user_message=detail)
    return body


def request_body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


def build_admin_api(components: Components, require: RoleDependency) -> APIRouter:
    admin = Admin(components)
    router = APIRouter(prefix="/api/v1/admin", tags=["admin"], dependencies=[Depends(require("admin"))])

    @router.post("/uploads", response_model=ImportSummaryView, responses=responses(
        413, 415, 422, s413="A file over knowledge.max_file_mb (or the whole request over it): nothing is stored.",
        s415="A file type no importer reads (told by name and content): nothing is stored.",
        s422="No files, the same name twice, or nothing in the files could be imported: stored data is unchanged."))
    def upload(files: Annotated[list[UploadFile], File(min_length=1, description=(
                   "Catalogue, policy, customer or offer files (the type told by name and content)."))],
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

    @router.post("/reingest", response_model=ImportSummaryView)
    def reingest() -> dict[str, Any]:
        """Import again the demo shop (when in use) and every uploaded file; unchanged records are skipped."""
        return admin.reingest().to_dict()

    @router.get("/collections", response_model=CollectionsView)
    def collections() -> dict[str, Any]:
        """Knowledge collections with counts per import set; products, policy chunks and documents, customers,
        offers."""
        return admin.collections().to_dict()

    @router.get("/offers", response_model=list[AdminOfferView])
    def offers() -> list[dict[str, Any]]:
        """Every offer (retired ones too) with its status: live, scheduled, expired or retired."""
        return [view.to_dict() for view in admin.offers()]

    @router.get("/offers/{offer_id}", response_model=AdminOfferView)
    def offer(offer_id: str) -> dict[str, Any]:
        return admin.offer(offer_id).to_dict()

    create, change = offer_schemas()

    @router.post("/offers", status_code=201, response_model=AdminOfferView, openapi_extra=request_body(create),
                 responses=responses(409, 422, s409=f"An offer with this id exists already. {CODE_TAKEN}",
                                     s422=RULES))
    def create_offer(body: Annotated[dict[str, Any], Body(description="An offer (offer.schema.json).")]
                     ) -> dict[str, Any]:
        """A new offer, validated like an imported one (422 naming the bad fields; 409 for an existing id or a code
        another offer uses)."""
        return admin.create_offer(checked(body, create)).to_dict()

    @router.put("/offers/{offer_id}", response_model=AdminOfferView, openapi_extra=request_body(change),
                responses=responses(409, 422, s409=CODE_TAKEN, s422=RULES))
    def update_offer(offer_id: str, body: Annotated[dict[str, Any], Body(
            description="The fields to change; eligibility is merged field by field; null removes a field.")]
                     ) -> dict[str, Any]:
        """Change some fields of an offer; the offer as changed must keep to every rule (422 otherwise) and keep a
        code no other offer uses (409 otherwise)."""
        return admin.update_offer(offer_id, checked(body, change)).to_dict()

    @router.post("/offers/{offer_id}/disable", response_model=AdminOfferView)
    def disable_offer(offer_id: str) -> dict[str, Any]:
        """The offer expires now: no shopper is shown it any more."""
        return admin.disable_offer(offer_id).to_dict()

    @router.get("/settings", response_model=SettingsView)
    def settings() -> dict[str, Any]:
        """The effective settings, every secret masked."""
        return admin.settings_view()

    return router
