"""REST routes of the personalization loop, mounted under ``/api/v1`` by ``ui.shopper_api.build_api``.

- ``POST /offers/{offer_id}/feedback``: the signed-in shopper clicked, accepted or redeemed an offer they
  were shown; it updates the offer bandit. An offer never shown to them is a 404 and changes nothing.
- ``GET /offers/evaluation``: off-policy evaluation (IPS, SNIPS, doubly robust, bootstrap intervals) of the offer
  policies on the shop's logged offers, for staff with the ``reviewer`` role: which would have done better.
- ``GET /copy``, ``POST /copy/{id}/approve|edit|reject``: the review queue of generated marketing copy,
  for staff with the ``agent`` role (or the ``X-API-Key`` service key). The reviewer recorded is the signed-in
  principal (``service`` for the key); a ``reviewer`` field in the body is ignored.
"""

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query
from pydantic import ConfigDict, Field, model_validator

from assistant.components import Components
from assistant.domain import ShopperIdentity
from assistant.staff.roles import RoleDependency, StaffPrincipal
from ui.admin_models import CopyDraftView, OfferFeedbackView
from ui.error_table import responses
from ui.openapi_contract import RequestBody
from ui.staff_access import role_check
from ui.staff_models import ResponseModel


class OfferFeedbackRequest(RequestBody):
    """``order_id`` goes with ``redeemed`` and only with it (the schema says so too)."""

    model_config = ConfigDict(json_schema_extra={"allOf": [{
        "if": {"properties": {"kind": {"const": "redeemed"}}},
        "then": {"required": ["order_id"], "properties": {"order_id": {"type": "string"}}},
        "else": {"properties": {"order_id": {"type": "null"}}}}]})

    kind: str = Field(..., pattern="^(clicked|accepted|redeemed)$", description="What the shopper did.")
    order_id: str | None = Field(None, max_length=128, description="With 'redeemed': the order it was used in.")

    @model_validator(mode="after")
    def _order_with_redeemed(self) -> "OfferFeedbackRequest":
        if (self.kind == "redeemed") != (self.order_id is not None):
            raise ValueError("order_id is required with 'redeemed' and only goes with it")
        return self


class ReviewRequest(RequestBody):
    reason: str | None = Field(None, max_length=1000, description="Why (kept with the review).")


class EditRequest(ReviewRequest):
    text: str = Field(..., min_length=1, max_length=5000, description="The approved text.")


REVIEWED = responses(409, s409="The copy was reviewed already.")


class EstimateView(ResponseModel):
    value: float
    low: float = Field(..., description="Lower end of the 95% bootstrap interval.")
    high: float = Field(..., description="Upper end of the 95% bootstrap interval.")


class PolicyEvaluationView(ResponseModel):
    ips: EstimateView
    snips: EstimateView
    dr: EstimateView
    dr_uplift: EstimateView = Field(..., description="Doubly robust estimate minus the logged conversion rate.")
    effective_n: float = Field(..., description="Effective sample size of the policy's importance weights.")


class OfferEvaluationView(ResponseModel):
    """What each offer policy would have converted per showing on the shop's logged offers."""

    ready: bool = Field(..., description="False: too few usable logged showings; verdict says why.")
    rounds: int
    skipped: int = Field(0, description="Showings without a propensity or the eligible offers (older logs).")
    logged: EstimateView | None = None
    logging_policies: dict[str, int] = Field(default_factory=dict)
    policies: dict[str, PolicyEvaluationView] = Field(default_factory=dict)
    best: str | None = None
    verdict: str


def build_marketing_api(components: Components, shopper: Callable[..., ShopperIdentity],
                        require: RoleDependency | None = None) -> APIRouter:
    """``shopper`` is the dependency that verifies the shopper token (the chat's); ``require`` the staff role
    check (default: ``ui.staff_auth`` on the staff accounts). Errors are the app's error table: 404 for an offer
    never shown or a draft that does not exist, 422 for bad feedback, 409 for copy already reviewed."""
    router = APIRouter()
    Shopper = Annotated[ShopperIdentity, Depends(shopper)]
    Staff = Annotated[StaffPrincipal,
                      Depends(role_check(components.settings.security, components.staff_accounts, require)("agent"))]
    Reviewer = Annotated[StaffPrincipal, Depends(
        role_check(components.settings.security, components.staff_accounts, require)("reviewer"))]
    copy = components.copy_review

    @router.post("/offers/{offer_id}/feedback", tags=["offers"], response_model=OfferFeedbackView)
    def offer_feedback(offer_id: str, body: OfferFeedbackRequest, identity: Shopper) -> dict[str, Any]:
        """The shopper clicked, accepted or redeemed (in an order) an offer shown to them. Repeats are
        accepted and change nothing (``recorded: false``)."""
        outcome = components.privacy.offer_feedback(identity.customer_id, offer_id, body.kind, body.order_id)
        return {"offer_id": offer_id, "kind": body.kind, "recorded": outcome.recorded,
                "converted": outcome.converted, "status": "recorded" if outcome.recorded else "already recorded"}

    @router.get("/offers/evaluation", tags=["offers"], response_model=OfferEvaluationView)
    def offer_evaluation(_who: Reviewer, resamples: int = Query(500, ge=50, le=2000, description="Bootstrap "
                                                                "resamples."),
                         seed: int = Query(0, ge=0, le=2**31 - 1)) -> dict[str, Any]:
        """Thompson, LinUCB and uniform evaluated off-policy on every logged showing of an offer, and which of
        them would have done better than the policies that wrote the log (the same as
        ``concierge simulate offers --from-logs``)."""
        from assistant.personalization.off_policy import evaluate_log

        offers = components.settings.offers
        logged = components.stores.bandit.logged_offers()
        try:
            return evaluate_log(logged, offers.linucb_alpha, offers.linucb_epsilon, seed, resamples).to_dict()
        except ValueError as e:
            usable = sum(1 for o in logged if o.usable)
            return {"ready": False, "rounds": usable, "skipped": len(logged) - usable, "verdict": str(e)}

    @router.get("/copy", tags=["copy review"], response_model=list[CopyDraftView])
    def list_copy(_who: Staff, status: str | None = Query(None, pattern="^(pending|approved|edited|rejected)$"),
                  limit: int = Query(200, ge=1, le=1000)) -> list[dict[str, Any]]:
        """Generated marketing copy, oldest first, with the facts it was written from and its verdict."""
        return [d.to_dict() for d in copy.list(status, limit)]

    def review(draft_id: str, action: str, who: StaffPrincipal, body: ReviewRequest | None,
               text: str | None = None) -> dict[str, Any]:
        return copy.review(draft_id, action, who.username, text, body.reason if body else None).to_dict()

    @router.post("/copy/{draft_id}/approve", tags=["copy review"], response_model=CopyDraftView, responses=REVIEWED)
    def approve_copy(draft_id: str, who: Staff, body: Annotated[ReviewRequest | None, Body()] = None
                     ) -> dict[str, Any]:
        """Approve a pending piece of copy as written, as the signed-in reviewer."""
        return review(draft_id, "approve", who, body)

    @router.post("/copy/{draft_id}/edit", tags=["copy review"], response_model=CopyDraftView, responses=REVIEWED)
    def edit_copy(draft_id: str, body: EditRequest, who: Staff) -> dict[str, Any]:
        """Approve a pending piece of copy with the reviewer's text (problems against its facts are returned
        under ``verdict.review.warnings``)."""
        return review(draft_id, "edit", who, body, body.text)

    @router.post("/copy/{draft_id}/reject", tags=["copy review"], response_model=CopyDraftView, responses=REVIEWED)
    def reject_copy(draft_id: str, who: Staff, body: Annotated[ReviewRequest | None, Body()] = None
                    ) -> dict[str, Any]:
        """Reject a pending piece of copy, as the signed-in reviewer."""
        return review(draft_id, "reject", who, body)

    return router
