"""Privacy routes: a shopper's consent and own data export; staff export and erasure of one shopper."""

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends
from pydantic import Field

from assistant.components import Components
from assistant.domain import ShopperIdentity
from assistant.staff.roles import RoleDependency
from ui.admin_models import CustomerExport, ErasedCustomer
from ui.error_table import responses
from ui.openapi_contract import RequestBody
from ui.staff_access import role_check
from ui.staff_models import ConsentView


class ConsentRequest(RequestBody):
    personalization: bool | None = Field(None, description="Personalized answers, recommendations and offers.")
    marketing: bool | None = Field(None, description="Marketing messages (personalized copy).")


NO_CUSTOMER = responses(404, s404="The token names no customer of this shop.")


def build_privacy_api(components: Components, shopper: Callable[..., ShopperIdentity],
                      require: RoleDependency | None = None) -> APIRouter:
    """Shopper routes (token) as they are; export and erasure of any shopper need the ``admin`` role."""
    router = APIRouter(tags=["privacy"])
    staff = role_check(components.settings.security, components.staff_accounts, require)("admin")
    privacy = components.privacy

    @router.post("/me/consent", response_model=ConsentView, responses=NO_CUSTOMER)
    def set_consent(body: ConsentRequest, identity: ShopperIdentity = Depends(shopper)) -> dict[str, bool]:
        """Opt in or out of personalization and of marketing; stored with time and source."""
        state = privacy.set_consent(identity.customer_id, "api", personalization=body.personalization,
                                    marketing=body.marketing)
        return {"personalization": state.personalization, "marketing": state.marketing}

    @router.get("/me/export", response_model=CustomerExport, responses=NO_CUSTOMER)
    def my_export(identity: ShopperIdentity = Depends(shopper)) -> dict[str, Any]:
        """Everything stored about the signed-in shopper."""
        return privacy.export(identity.customer_id)

    @router.get("/customers/{customer_id}/export", dependencies=[Depends(staff)], response_model=CustomerExport)
    def export(customer_id: str) -> dict[str, Any]:
        """Everything stored about one shopper (admin); 404 for no such shopper."""
        return privacy.export(customer_id)

    @router.delete("/customers/{customer_id}", dependencies=[Depends(staff)], response_model=ErasedCustomer)
    def erase(customer_id: str) -> dict[str, Any]:
        """Erase one shopper and everything of theirs (admin); checks nothing remains; 404 for no such shopper.
        The recommender's co-purchase signals forget their orders."""
        return {"erased": customer_id, "removed": privacy.erase(customer_id)}

    return router
