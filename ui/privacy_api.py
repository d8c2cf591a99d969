"""Privacy routes: a shopper's consent and own data export; staff export and erasure of one shopper."""

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, Field

from assistant.components import Components
from assistant.domain import ShopperIdentity
from assistant.errors import NotFoundError
from assistant.privacy.customer_data import erase_customer, export_customer
from assistant.staff.roles import RoleDependency
from ui.staff_access import role_check


class ConsentRequest(BaseModel):
    personalization: bool | None = Field(None, description="Personalized answers, recommendations and offers.")
    marketing: bool | None = Field(None, description="Marketing messages (personalized copy).")


def build_privacy_api(components: Components, shopper: Callable[..., ShopperIdentity],
                      require: RoleDependency | None = None) -> APIRouter:
    """Shopper routes (token) as they are; export and erasure of any shopper need the ``admin`` role."""
    router = APIRouter(tags=["privacy"])
    staff = role_check(components.settings.security, components.stores, require)("admin")

    @router.post("/me/consent")
    def set_consent(body: ConsentRequest, identity: ShopperIdentity = Depends(shopper)) -> dict[str, bool]:
        """Opt in or out of personalization and of marketing; stored with time and source."""
        customers = components.stores.customers
        state = customers.consent(identity.customer_id)
        for kind in ("personalization", "marketing"):
            value = getattr(body, kind)
            if value is not None:
                state = customers.set_consent(identity.customer_id, kind, value, "api")
        return {"personalization": state.personalization, "marketing": state.marketing}

    @router.get("/me/export")
    def my_export(identity: ShopperIdentity = Depends(shopper)) -> dict[str, Any]:
        """Everything stored about the signed-in shopper."""
        return export_customer(components.stores.engine, identity.customer_id)

    @router.get("/customers/{customer_id}/export", dependencies=[Depends(staff)])
    def export(customer_id: str) -> dict[str, Any]:
        """Everything stored about one shopper (admin)."""
        try:
            return export_customer(components.stores.engine, customer_id)
        except NotFoundError as e:
            raise HTTPException(404, e.user_message) from e

    @router.delete("/customers/{customer_id}", dependencies=[Depends(staff)])
    def erase(customer_id: str) -> dict[str, Any]:
        """Erase one shopper and everything of theirs (admin); checks nothing remains."""
        try:
            removed = erase_customer(components.stores.engine, components.stores.customers, customer_id)
        except NotFoundError as e:
            raise HTTPException(404, e.user_message) from e
        components.assistant.deps.recommender.refresh()  # co-purchase signals forget their orders
        return {"erased": customer_id, "removed": removed}

    return router
