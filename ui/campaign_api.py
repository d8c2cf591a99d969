"""``/api/v1/campaigns``: marketing campaigns, for staff with the ``marketer`` role (an ``admin`` has every role).

A thin layer over :class:`assistant.personalization.campaign_service.Campaigns`: create a campaign (audience rules,
copy variants with their generation parameters, holdout share and seed, schedule window), draw its audience and
holdout once (``assign``), write its copy into the review queue (``generate``; reviewers use ``/api/v1/copy``),
read its members and state, export a channel's file (``export``: CSV or JSON for an e-mail tool, hashed e-mails
for an ad platform), and measure its uplift against the holdout (``uplift``). 422 for a bad rule or a generation
parameter the configured backend lacks, 404 for an unknown campaign, 409 for a second draw, an export outside the
schedule window (the detail says when it opens or closed), or an uplift before anything was sent.
"""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, Field

from assistant.components import Components
from assistant.errors import ValidationError
from assistant.personalization.campaign_service import Campaigns, build_campaigns
from assistant.staff.roles import RoleDependency, StaffPrincipal
from ui.error_table import responses
from ui.openapi_contract import RequestBody
from ui.staff_access import role_check
from ui.staff_models import ResponseModel


class AudienceBody(RequestBody):
    """Every rule given must hold; marketing consent always must (see docs/campaigns.md)."""

    tiers: list[str] | None = None
    categories: list[str] | None = Field(None, description="An active category preference names one of them.")
    brands: list[str] | None = Field(None, description="An active brand preference names one of them.")
    min_affinity: float | None = Field(None, ge=0, le=1, description="Least confidence of that preference.")
    ordered_within_days: int | None = Field(None, ge=0)
    not_ordered_for_days: int | None = Field(None, ge=0)
    min_spend: float | None = Field(None, ge=0)
    max_spend: float | None = Field(None, ge=0)
    languages: list[str] | None = None
    personalization: bool | None = Field(None, description="Require personalization consent (or its absence).")


class VariantBody(RequestBody):
    id: str = Field(..., pattern="^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")
    kind: Literal["email", "push", "banner"] = "email"
    per: Literal["shopper", "segment"] = Field("shopper", description="Copy per shopper or once per tier.")
    candidates: int | None = Field(None, ge=1, le=10, description="Texts written; the best verified one is queued.")
    max_new_tokens: int | None = Field(None, ge=16, le=2048, description="Length: most tokens per candidate.")
    temperature: float | None = Field(None, ge=0, le=2)
    top_k: int | None = Field(None, ge=0, le=1000)
    top_p: float | None = Field(None, ge=0.01, le=1)
    beams: int | None = Field(None, ge=1, le=16, description="Beam search, where the backend has it (422 if not).")


class CampaignRequest(RequestBody):
    id: str | None = Field(None, pattern="^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
    name: str = Field(..., min_length=1, max_length=200)
    audience: AudienceBody | None = Field(None, description="No rules: every shopper who agreed to marketing.")
    variants: list[VariantBody] = Field(..., min_length=1, max_length=10)
    holdout_share: float = Field(0.1, ge=0, lt=1, description="Share of the audience that gets nothing.")
    seed: int = Field(0, ge=0, le=2**31 - 1, description="Seed of the holdout draw.")
    starts_at: str = Field(..., json_schema_extra={"format": "date-time"},
                           description="Exports are refused before this.")
    ends_at: str = Field(..., json_schema_extra={"format": "date-time"}, description="... and from this time on.")


class CampaignView(ResponseModel):
    id: str
    name: str
    rules: dict[str, Any]
    variants: list[dict[str, Any]]
    holdout_share: float
    seed: int
    starts_at: str
    ends_at: str
    created_by: str
    created_at: str


class CampaignStatusView(ResponseModel):
    campaign: CampaignView
    arms: dict[str, int] = Field(..., description="Members per arm ('holdout' or a variant id).")
    copy_: dict[str, int] = Field(..., alias="copy", description="Treated members per status of their copy.")
    sent: int


class AudienceDrawView(ResponseModel):
    campaign_id: str
    members: int
    arms: dict[str, int]
    excluded: dict[str, int] = Field(..., description="Shoppers left out, per rule that failed.")


class GenerationView(ResponseModel):
    campaign_id: str
    queued: int = Field(..., description="Pieces of copy added to the review queue (pending).")
    members_with_copy: int
    skipped: dict[str, int]


class MemberView(ResponseModel):
    campaign_id: str
    customer_id: str
    arm: str
    draft_id: str | None
    assigned_at: str
    sent_at: str | None


class IntervalView(BaseModel):
    low: float
    high: float


class ArmView(BaseModel):
    arm: str
    shoppers: int
    converters: int
    conversion_rate: float
    conversion_ci: IntervalView
    revenue: float
    revenue_per_shopper: float


class ComparisonView(BaseModel):
    """One treated arm (or all pooled) minus the holdout: conversion as a fraction, revenue per shopper."""

    arm: str
    treated: ArmView
    holdout: ArmView
    conversion_diff: float
    conversion_ci: IntervalView
    conversion_relative: float | None
    conversion_relative_ci: IntervalView | None
    revenue_diff: float
    revenue_ci: IntervalView
    revenue_relative: float | None
    revenue_relative_ci: IntervalView | None
    conversion_significant: bool
    revenue_significant: bool


class UpliftView(BaseModel):
    """Treated vs holdout from the first send (``assistant.personalization.uplift``)."""

    since: str
    until: str
    confidence: float
    resamples: int
    seed: int
    arms: list[ArmView]
    comparisons: list[ComparisonView]
    pooled: ComparisonView
    purchases_counted: int
    purchases_ignored: int
    notes: list[str]
    conversion_method: str
    revenue_method: str


FILE_SCHEMA = {"type": "object", "properties": {
    "campaign": {"type": "string"}, "name": {"type": "string"}, "channel": {"type": "string"},
    "rows": {"type": "array", "items": {"type": "object", "additionalProperties": {"type": "string"}}}}}
EXPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "The channel's file; X-Skipped says how many members were left out and why.",
          "content": {"text/csv": {"schema": {"type": "string"}}, "application/json": {"schema": FILE_SCHEMA}}},
    **responses(404, 409, 422, s409="Outside the campaign's schedule window.")}


def _when(value: str, name: str) -> datetime:
    """An ISO 8601 time in UTC (a time without an offset is taken as UTC)."""
    try:
        when = datetime.fromisoformat(value)
        return (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(UTC)
    except (ValueError, OverflowError) as e:
        raise ValidationError(f"bad {name}", user_message=f"{name} is an ISO 8601 time, e.g. "
                              "2026-12-01T09:00:00Z.") from e


def build_campaign_api(components: Components, require: RoleDependency | None = None,
                       service: Callable[[Components], Campaigns] = build_campaigns) -> APIRouter:
    router = APIRouter(prefix="/api/v1/campaigns", tags=["campaigns"])
    Marketer = Annotated[StaffPrincipal, Depends(
        role_check(components.settings.security, components.staff_accounts, require)("marketer"))]
    campaigns = service(components)

    @router.get("", response_model=list[CampaignView])
    def list_campaigns(_who: Marketer) -> list[dict[str, Any]]:
        """Every campaign, newest first."""
        return [c.to_dict() for c in campaigns.stores.campaigns.all()]

    @router.post("", status_code=201, response_model=CampaignView, responses=responses(409, 422))
    def create_campaign(body: CampaignRequest, who: Marketer) -> dict[str, Any]:
        """A new campaign; 422 names a bad rule, or a generation parameter the configured backend lacks."""
        return campaigns.create(
            name=body.name, rules=body.audience.model_dump(exclude_none=True) if body.audience else {},
            variants=[v.model_dump(exclude_none=True) for v in body.variants], holdout_share=body.holdout_share,
            seed=body.seed, starts_at=_when(body.starts_at, "starts_at"), ends_at=_when(body.ends_at, "ends_at"),
            created_by=who.username, campaign_id=body.id).to_dict()

    @router.get("/{campaign_id}", response_model=CampaignStatusView, responses=responses(404))
    def campaign_status(campaign_id: str, _who: Marketer) -> dict[str, Any]:
        """The campaign, its members per arm, their copy per review status, how many were sent."""
        return campaigns.status(campaign_id).to_dict()

    @router.post("/{campaign_id}/assign", response_model=AudienceDrawView, responses=responses(404, 409))
    def assign(campaign_id: str, _who: Marketer) -> dict[str, Any]:
        """Draw the audience from the profiles now, and the holdout (seeded); once per campaign."""
        return dict(campaigns.assign(campaign_id).__dict__)

    @router.post("/{campaign_id}/generate", response_model=GenerationView, responses=responses(404, 409, 422))
    def generate(campaign_id: str, _who: Marketer) -> dict[str, Any]:
        """Write every treated member's copy into the review queue (pending); the holdout gets none."""
        return dict(campaigns.generate(campaign_id).__dict__)

    @router.get("/{campaign_id}/members", response_model=list[MemberView], responses=responses(404))
    def members(campaign_id: str, _who: Marketer) -> list[dict[str, Any]]:
        """Every member with their arm, copy and send time."""
        return [m.to_dict() for m in campaigns.members(campaign_id)]

    @router.get("/{campaign_id}/uplift", response_model=UpliftView, responses=responses(404, 409))
    def uplift(campaign_id: str, _who: Marketer,
               resamples: int = Query(2000, ge=100, le=20000, description="Bootstrap resamples.")) -> dict[str, Any]:
        """Conversion and revenue per shopper, each variant and all pooled against the holdout, with intervals, on
        the members' orders since the first send (409 before anything was sent)."""
        return campaigns.uplift(campaign_id, resamples=resamples).to_dict()

    @router.get("/{campaign_id}/export", response_class=Response, responses=EXPORT_RESPONSES)
    def export(campaign_id: str, _who: Marketer,
               channel: Literal["email", "ads"] = Query("email", description="email: copy per member; ads: "
                                                        "SHA-256 of normalised e-mails."),
               format: Literal["csv", "json"] = Query("csv"),
               variant: str | None = Query(None, max_length=32, description="Only this variant's members.")
               ) -> Response:
        """The channel's file of treated members whose copy was approved, inside the schedule window; they are
        marked sent. Never in it: the holdout, unreviewed or rejected copy, shoppers who opted out since."""
        result = campaigns.export(campaign_id, channel, format, variant)
        skipped = ", ".join(f"{k}: {v}" for k, v in sorted(result.skipped.items())) or "none"
        return Response(result.content, media_type=result.media_type, headers={
            "Content-Disposition": f'attachment; filename="{result.filename}"', "X-Skipped": skipped})

    return router
