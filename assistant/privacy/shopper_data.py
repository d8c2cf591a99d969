"""What is stored about shoppers, as the shopper-facing UI and the privacy routes may reach it: the demo
sign-in's list, consent, offer feedback, export and erasure of one shopper.

The service ``ui.shopper_access``, ``ui.privacy_api``, ``ui.marketing_api`` and the health check call
(``Components.privacy``); the tables live in the store.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from assistant.personalization.offer_bandit import record_offer_feedback
from assistant.privacy.customer_data import erase_customer, export_customer
from assistant.records import ConsentKind, ConsentState, CustomerProfile
from assistant.store.bandit_state import FeedbackOutcome

if TYPE_CHECKING:
    from assistant.store.stores import Stores

__all__ = ["CONSENT_KINDS", "FeedbackOutcome", "ShopperData"]

CONSENT_KINDS: tuple[ConsentKind, ...] = ("personalization", "marketing")


class ShopperData:
    """``on_erased``: called after a shopper was erased (the recommender forgets their orders)."""

    def __init__(self, stores: Stores, on_erased: Callable[[], None] | None = None) -> None:
        self._stores = stores
        self._on_erased = on_erased

    # who there is ---------------------------------------------------------------------------------------
    def exists(self, customer_id: str) -> bool:
        return self._stores.customers.get(customer_id) is not None

    def count(self) -> int:
        return len(self._stores.customers.list_ids())

    def profiles(self, limit: int) -> list[CustomerProfile]:
        """The first ``limit`` shoppers (by id) with their profiles: the demo sign-in's choices."""
        store = self._stores.customers
        found = (store.get(customer_id) for customer_id in store.list_ids()[:limit])
        return [p for p in found if p is not None]

    # consent --------------------------------------------------------------------------------------------
    def consent(self, customer_id: str) -> ConsentState:
        return self._stores.customers.consent(customer_id)

    def set_consent(self, customer_id: str, source: str, *, personalization: bool | None = None,
                    marketing: bool | None = None) -> ConsentState:
        """Opt in or out of personalization and of marketing (``None``: unchanged); stored with time and source."""
        state = self.consent(customer_id)
        changes: tuple[tuple[ConsentKind, bool | None], ...] = (("personalization", personalization),
                                                                 ("marketing", marketing))
        for kind, value in changes:
            if value is not None:
                state = self._stores.customers.set_consent(customer_id, kind, value, source)
        return state

    # offers ---------------------------------------------------------------------------------------------
    def offer_feedback(self, customer_id: str, offer_id: str, kind: str,
                       order_id: str | None = None) -> FeedbackOutcome:
        """The shopper clicked, accepted or redeemed an offer shown to them (``NotFoundError`` if never shown
        to them or the order is not theirs, ``ValidationError`` for a bad kind)."""
        outcome: FeedbackOutcome = record_offer_feedback(self._stores, customer_id, offer_id, kind, order_id)
        return outcome

    # rights ---------------------------------------------------------------------------------------------
    def export(self, customer_id: str) -> dict[str, Any]:
        """Everything stored about one shopper (``NotFoundError`` if there is no such shopper)."""
        return export_customer(self._stores.engine, customer_id)

    def erase(self, customer_id: str) -> dict[str, int]:
        """Erase one shopper and everything of theirs; rows removed per table. Checks nothing remains."""
        removed = erase_customer(self._stores.engine, self._stores.customers, customer_id)
        if self._on_erased is not None:
            self._on_erased()
        return removed
