"""``/api/v1/me/preferences``: what we think the signed-in shopper likes, and removing any of it.

Stated and inferred preferences, each with its confidence now (inferred ones decay with age), its evidence
count, the turn it was first inferred from and whether it is used for recommendations. Removing one leaves
a tombstone: it is never inferred again.
"""

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path

from assistant.components import Components
from assistant.domain import ShopperIdentity
from ui.admin_models import PreferenceRemoved, ShopperPreferences
from ui.error_table import responses


def build_preferences_api(components: Components, shopper: Callable[..., ShopperIdentity]) -> APIRouter:
    router = APIRouter(prefix="/me", tags=["profile"])
    Shopper = Annotated[ShopperIdentity, Depends(shopper)]

    @router.get("/preferences", response_model=ShopperPreferences,
                responses=responses(404, s404="The token names no customer of this shop."))
    def my_preferences(identity: Shopper) -> dict[str, Any]:
        """"What we think you like": the shopper's preferences, stated and inferred from their chats."""
        items = components.assistant.preferences(identity)
        return {"customer_id": identity.customer_id, "preferences": items}

    @router.delete("/preferences/{preference_id}", response_model=PreferenceRemoved)
    def remove_my_preference(identity: Shopper,
                             preference_id: Annotated[int, Path(ge=1, le=2**62)]) -> dict[str, Any]:
        """Remove one of the shopper's preferences for good: it is never inferred again."""
        removed = components.assistant.remove_preference(identity, preference_id)
        return {"status": "removed", "preference": removed}

    return router
