"""What the admin, copy review, privacy, preference and operations routes answer, as response models (the
conventions of :mod:`ui.staff_models`: the fields named and no others, times as the services write them).

An offer is answered exactly in the offer format of ``knowledge/schemas/offer.schema.json``, the format offers are
imported and created in; the settings as the typed settings tree, a section per field, secrets masked.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any, Literal

from pydantic import Field, create_model

from assistant.settings import Settings
from ui.staff_models import PreferenceView, ResponseModel


# uploads and re-ingest ------------------------------------------------------------------------------------------
class ImportedFile(ResponseModel):
    """What importing one file (or one part of the demo shop) did."""

    source: str = Field(..., description="The import set: uploads/<kind>/<name>, <shop>/catalog ...")
    kind: str
    added: int
    updated: int
    unchanged: int
    removed: int
    failed: int
    rejected: bool = Field(..., description="Nothing in the file could be imported: nothing stored or changed.")
    summary: str
    errors: list[str] = Field(..., description="Each bad record as file:line: why.")
    notices: list[str] = Field(..., description="Passages quarantined and documents cut, as file: kind: why.")
    quarantined: list[str] = Field(..., description="Passages not stored (they read as instructions).")
    cut: list[str] = Field(..., description="Documents cut short (over a size cap).")


class ImportTotals(ResponseModel):
    added: int
    updated: int
    unchanged: int
    removed: int
    failed: int


class ImportSummaryView(ResponseModel):
    """What an upload or a re-ingest did, in all and per file."""

    ok: bool = Field(..., description="No record failed and no file was rejected.")
    summary: str
    totals: ImportTotals
    errors: list[str] = Field(..., description="Every bad record as file:line: why.")
    quarantined: list[str]
    cut: list[str]
    files: list[ImportedFile]


# collections ----------------------------------------------------------------------------------------------------
class CollectionView(ResponseModel):
    kind: str = Field(..., description="products or policies.")
    name: str = Field(..., description="The Chroma collection.")
    count: int = Field(..., description="Documents: one per product, one per policy chunk.")
    by_origin: dict[str, int] = Field(..., description="Documents per import set.")


class CollectionsView(ResponseModel):
    collections: list[CollectionView]
    products: int
    policy_chunks: int
    policy_documents: int
    customers: int
    offers_active: int
    offers_total: int


# offers ---------------------------------------------------------------------------------------------------------
@cache
def offer_format() -> dict[str, Any]:
    """``knowledge/schemas/offer.schema.json`` as an OpenAPI schema (its ``$schema`` and ``$id`` left out)."""
    schema = json.loads(resources.files("knowledge.schemas").joinpath("offer.schema.json").read_text("utf-8"))
    return {k: v for k, v in schema.items() if k not in ("$schema", "$id")}


def _offer_schema(schema: dict[str, Any]) -> None:
    """The ``offer`` field's schema: the offer format (a JSON object, as the field's type says)."""
    description = schema.get("description")
    schema.clear()
    schema.update(offer_format(), description=description)


class AdminOfferView(ResponseModel):
    """An offer as stored, with whether it can be shown now."""

    offer: dict[str, Any] = Field(..., description="The offer (knowledge/schemas/offer.schema.json).",
                                  json_schema_extra=_offer_schema)
    active: bool = Field(..., description="false: retired (its file no longer lists it).")
    status: Literal["live", "scheduled", "expired", "retired"]


class DerivedPaths(ResponseModel):
    database_url: str = Field(..., description="Its password masked.")
    chroma_path: str
    model_cache_dir: str
    uploads: str


#: the settings as the admin sees them: a JSON object per section of the settings tree, and the derived paths
_SETTINGS_FIELDS: dict[str, Any] = {
    "derived": (DerivedPaths, Field(..., description="Paths derived from the settings.")),
    **{name: (dict[str, Any], Field(..., description=f"The {name} section (assistant/settings.py), secrets masked."))
       for name in Settings.model_fields}}
SettingsView = create_model("SettingsView", __base__=ResponseModel, __doc__="The effective settings, every secret "
                            "masked.", **_SETTINGS_FIELDS)


# marketing copy, offer feedback ---------------------------------------------------------------------------------
class CopyDraftView(ResponseModel):
    """A piece of generated marketing copy, with the facts it was written from and its verdict."""

    id: str
    customer_id: str | None = None
    segment: str | None = None
    kind: str
    text: str
    original_text: str = Field(..., description="As generated, before any edit.")
    facts: dict[str, Any]
    verdict: dict[str, Any] = Field(..., description="The checks against the facts (and review.warnings after an "
                                                     "edit).")
    status: str = Field(..., description="pending, approved, edited or rejected.")
    reviewer: str | None = None
    created_at: str = Field(..., description="ISO 8601 date and time.")
    updated_at: str = Field(..., description="ISO 8601 date and time.")
    reviewed_at: str | None = Field(None, description="ISO 8601 date and time.")


class OfferFeedbackView(ResponseModel):
    offer_id: str
    kind: str = Field(..., description="clicked, accepted or redeemed.")
    recorded: bool = Field(..., description="false: a repeat, nothing changed.")
    converted: bool = Field(..., description="It counted as a conversion for the offer bandit.")
    status: str = Field(..., description="recorded or already recorded.")


# privacy and preferences ----------------------------------------------------------------------------------------
class CustomerExport(ResponseModel):
    """Everything stored about one shopper (messages and replies as stored: redacted)."""

    customer_id: str
    tables: dict[str, list[dict[str, Any]]] = Field(..., description="The shopper's rows, per table.")


class ErasedCustomer(ResponseModel):
    erased: str = Field(..., description="The shopper's id.")
    removed: dict[str, int] = Field(..., description="Rows removed, per table.")


class ShopperPreferences(ResponseModel):
    customer_id: str
    preferences: list[PreferenceView] = Field(..., description="Stated first, then by confidence.")


class RemovedPreferenceView(ResponseModel):
    id: int
    kind: str
    value: str
    origin: str
    removed_at: str | None = Field(None, description="ISO 8601 date and time.")


class PreferenceRemoved(ResponseModel):
    status: Literal["removed"]
    preference: RemovedPreferenceView


# operations (``ui/server.py``) ----------------------------------------------------------------------------------
class HealthView(ResponseModel):
    status: Literal["ok"]
    knowledge: dict[str, int] = Field(..., description="Documents per knowledge collection.")
    customers: int
    pages: Literal["starting", "ready"] = Field(
        ..., description="Whether the chat page and the staff views answer yet: `starting` for a moment after a "
                         "start (the REST API already answers; the pages answer 503 with Retry-After), then `ready`.")


class SearchHit(ResponseModel):
    id: str
    score: float = Field(..., description="Cosine similarity, 1 = same direction.")
    text: str
    citation: dict[str, str | int | None] = Field(..., description="What to cite: kind, id, source and title, "
                                                                   "heading and position (policies) or name and "
                                                                   "product_id (products).")
