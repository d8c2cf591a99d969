"""The shop's order policy as code: what a shopper may do to an order, and exactly what would happen.

Pure functions of an order, the policy settings, the catalogue and the time. A check returns either a
:class:`PendingAction` (what will happen: order, items, refund amount and method) or a :class:`Refusal`
(why not, in words for the shopper). The same checks run again when the shopper confirms, because the
order may have moved on in between (see :func:`recheck`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from assistant.records import Order, OrderItem, money
from assistant.settings import OrderPolicySettings
from assistant.shop.catalog_index import CatalogIndex
from assistant.store.order_store import OrderChange

ActionKind = Literal["cancel", "return", "exchange", "address_change"]
#: the event written when an action is carried out
EVENT_KINDS: dict[str, str] = {"cancel": "order_cancelled", "return": "return_requested",
                               "exchange": "exchange_requested", "address_change": "address_changed"}
US_STATES = frozenset(
    "AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND OH OK "
    "OR PA RI SC SD TN TX UT VT VA WA WV WI WY".split())
CHANGEABLE_ITEM = ("ordered",)


@dataclass(frozen=True)
class ActionItem:
    position: int
    name: str
    quantity: int
    amount: float
    options: dict[str, Any] = field(default_factory=dict)

    def label(self) -> str:
        opts = ", ".join(f"{k} {v}" for k, v in self.options.items())
        return f"{self.quantity} x {self.name}" + (f" ({opts})" if opts else "")


@dataclass(frozen=True)
class Refund:
    amount: float
    method: str
    kind: Literal["refund", "authorization_release"] = "refund"
    fee: float = 0.0  # return label fee deducted


@dataclass(frozen=True)
class PendingAction:
    """An action the shopper was shown and may confirm until ``expires_at``; JSON-safe via ``to_dict``."""

    id: str
    kind: ActionKind
    order_id: str
    customer_id: str
    currency: str
    created_at: datetime
    expires_at: datetime
    items: tuple[ActionItem, ...] = ()
    refund: Refund | None = None
    exchange_to: dict[str, Any] | None = None  # {"variant_id", "options"}
    address: dict[str, Any] | None = None
    old_address: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["created_at"], data["expires_at"] = self.created_at.isoformat(), self.expires_at.isoformat()
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PendingAction:
        refund = data.get("refund")
        return cls(
            id=str(data["id"]), kind=data["kind"], order_id=str(data["order_id"]),
            customer_id=str(data["customer_id"]), currency=str(data.get("currency") or "USD"),
            created_at=datetime.fromisoformat(str(data["created_at"])),
            expires_at=datetime.fromisoformat(str(data["expires_at"])),
            items=tuple(ActionItem(**i) for i in data.get("items") or ()),
            refund=Refund(**refund) if refund else None, exchange_to=data.get("exchange_to"),
            address=data.get("address"), old_address=data.get("old_address"),
        )

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at

    def items_text(self) -> str:
        return "; ".join(i.label() for i in self.items)

    def refund_text(self) -> str:
        r = self.refund
        if r is None:
            return ""
        amount = money(r.amount, self.currency)
        if r.kind == "authorization_release":
            return f"the {amount} hold on your {r.method} will be released"
        return f"{amount} will be refunded to your {r.method}"


@dataclass(frozen=True)
class Refusal:
    kind: str
    order_id: str | None
    reason: str  # a code: status, window, out_of_stock, no_variant, same_variant, changed, address
    message: str  # what the shopper is told


def format_address(address: Mapping[str, Any] | None) -> str:
    if not address:
        return "no address"
    region = " ".join(str(address[k]) for k in ("state", "postcode") if address.get(k))
    parts = [address.get("line1"), address.get("line2"), address.get("city"), region]
    return ", ".join(str(p) for p in parts if p)


def _day(value: datetime) -> str:
    return value.date().isoformat()


def _status_phrase(status: str) -> str:
    return {"pending": "is still pending", "processed": "is already processed", "shipped": "has already shipped",
            "delivered": "was already delivered", "cancelled": "is already cancelled",
            "returned": "was already returned"}.get(status, f"is {status}")


def _original_method(order: Order) -> tuple[str, str]:
    """(method, kind) of the order's payment: a charge, else an authorization (a hold, not a charge)."""
    for kind in ("charge", "authorization"):
        for payment in order.payments:
            if payment.get("kind") == kind:
                return str(payment.get("method") or "original payment method"), kind
    return "original payment method", "charge"


class OrderPolicy:
    """Policy checks over one catalogue and one set of settings."""

    def __init__(self, settings: OrderPolicySettings, catalog: CatalogIndex) -> None:
        self.settings = settings
        self.catalog = catalog

    def _pending(self, kind: ActionKind, order: Order, action_id: str, now: datetime, *,
                 items: tuple[ActionItem, ...] = (), refund: Refund | None = None,
                 exchange_to: dict[str, Any] | None = None, address: dict[str, Any] | None = None,
                 old_address: dict[str, Any] | None = None) -> PendingAction:
        ttl = timedelta(minutes=self.settings.confirmation_ttl_minutes)
        return PendingAction(id=action_id, kind=kind, order_id=order.id, customer_id=order.customer_id,
                             currency=order.currency, created_at=now, expires_at=now + ttl, items=items,
                             refund=refund, exchange_to=exchange_to, address=address, old_address=old_address)

    def _refund_method(self, order: Order) -> str:
        if self.settings.refund_method == "store_credit":
            return "store credit (a gift card)"
        return _original_method(order)[0]

    # -- checks ------------------------------------------------------------------------------------
    def cancel(self, order: Order, action_id: str, now: datetime) -> PendingAction | Refusal:
        allowed = self.settings.cancellable_statuses
        if order.status not in allowed:
            hint = ""
            if order.status in ("processed", "shipped") and self.settings.returnable_statuses:
                hint = (f" Once it is delivered, you can return it within {self.settings.return_window_days} days"
                        " of delivery.")
            return Refusal("cancel", order.id, "status", f"Order {order.id} can't be cancelled: it "
                           f"{_status_phrase(order.status)}, and orders can be cancelled only while "
                           f"{' or '.join(allowed)}.{hint}")
        method, paid = _original_method(order)
        charged = sum(float(p.get("amount") or 0) for p in order.payments
                      if p.get("kind") in ("charge", "authorization"))
        refunded = sum(float(p.get("amount") or 0) for p in order.payments if p.get("kind") == "refund")
        amount = round(max(0.0, (charged or float(order.total or 0)) - refunded), 2)
        refund = Refund(amount, method, "authorization_release" if paid == "authorization" else "refund")
        items = tuple(ActionItem(i.position, i.name, i.quantity, round(i.unit_price * i.quantity, 2),
                                 dict(i.options or {})) for i in order.items)
        return self._pending("cancel", order, action_id, now, items=items, refund=refund)

    def window(self, kind: str, order: Order, days: int, now: datetime) -> Refusal | None:
        verb = "returned" if kind == "return" else "exchanged"
        if order.status not in self.settings.returnable_statuses:
            if order.status in ("pending", "processed", "shipped"):
                extra = " While it is pending you can still cancel it." \
                    if order.status in self.settings.cancellable_statuses else \
                    f" Once it is delivered, it can be {verb} within {days} days of delivery."
                text = f"Order {order.id} can't be {verb} yet: it {_status_phrase(order.status)}.{extra}"
            else:
                text = f"Order {order.id} can't be {verb}: it {_status_phrase(order.status)}."
            return Refusal(kind, order.id, "status", text)
        if order.delivered_at is None or now > order.delivered_at + timedelta(days=days):
            delivered = f" was delivered on {_day(order.delivered_at)}," if order.delivered_at else ""
            closed = f" (the window closed on {_day(order.delivered_at + timedelta(days=days))})" \
                if order.delivered_at else ""
            return Refusal(kind, order.id, "window", f"Order {order.id}{delivered} more than {days} days ago"
                           f"{closed}, so it can't be {verb}: items can be {verb} within {days} days of delivery.")
        return None

    def return_items(self, order: Order, items: Sequence[OrderItem], tier: str | None, action_id: str,
                     now: datetime) -> PendingAction | Refusal:
        refusal = self.window("return", order, self.settings.return_window_days, now)
        if refusal is not None:
            return refusal
        done = [i for i in items if i.status not in CHANGEABLE_ITEM]
        if done or not items:
            which = done[0].name if done else "these items"
            return Refusal("return", order.id, "changed", f"A return or exchange was already requested for "
                           f"{which} in order {order.id}.")
        subtotal = round(sum(i.unit_price * i.quantity for i in items), 2)
        fee = 0.0 if (tier or "").lower() in {t.lower() for t in self.settings.free_return_tiers} \
            else self.settings.return_label_fee
        everything = {i.position for i in items} == {i.position for i in order.items}
        shipping = float(order.shipping or 0) if self.settings.refund_shipping_on_return and everything else 0.0
        refund = Refund(round(max(0.0, subtotal + shipping - fee), 2), self._refund_method(order), "refund",
                        round(fee, 2))
        chosen = tuple(ActionItem(i.position, i.name, i.quantity, round(i.unit_price * i.quantity, 2),
                                  dict(i.options or {})) for i in items)
        return self._pending("return", order, action_id, now, items=chosen, refund=refund)

    def exchange(self, order: Order, item: OrderItem, wanted: Mapping[str, str], action_id: str, now: datetime
                 ) -> PendingAction | Refusal:
        refusal = self.window("exchange", order, self.settings.exchange_window_days, now)
        if refusal is not None:
            return refusal
        if item.status not in CHANGEABLE_ITEM:
            return Refusal("exchange", order.id, "changed", f"{item.name} in order {order.id} already has a "
                           "return or exchange requested; each item can be exchanged once.")
        target = {**{str(k): str(v) for k, v in (item.options or {}).items()}, **dict(wanted)}
        variant = self.find_variant(item.product_id, target)
        label = ", ".join(f"{k} {v}" for k, v in wanted.items())
        if variant is None:
            return Refusal("exchange", order.id, "no_variant", f"{item.name} doesn't come in {label}, so it "
                           f"can't be exchanged for that. {self.in_stock_text(item)}".strip())
        if variant.get("id") == item.variant_id or target == {str(k): str(v) for k, v in (item.options or {}).items()}:
            return Refusal("exchange", order.id, "same_variant", f"That is the {item.name} you already have "
                           f"({label}). {self.in_stock_text(item)}".strip())
        if int(variant.get("stock") or 0) <= 0:
            return Refusal("exchange", order.id, "out_of_stock", f"{item.name} in {label} is sold out, so it "
                           f"can't be exchanged for it; you can return the item for a refund within "
                           f"{self.settings.return_window_days} days of delivery instead. "
                           f"{self.in_stock_text(item)}".strip())
        chosen = (ActionItem(item.position, item.name, item.quantity, round(item.unit_price * item.quantity, 2),
                             dict(item.options or {})),)
        to = {"variant_id": variant.get("id"), "options": dict(variant.get("options") or {})}
        return self._pending("exchange", order, action_id, now, items=chosen, exchange_to=to)

    def change_address(self, order: Order, address: Mapping[str, Any], action_id: str, now: datetime
                       ) -> PendingAction | Refusal:
        allowed = self.settings.address_change_statuses
        if order.status not in allowed:
            return Refusal("address_change", order.id, "status", f"The address of order {order.id} can't be "
                           f"changed: it {_status_phrase(order.status)}, and the address can be changed only "
                           f"while the order is {' or '.join(allowed)}.")
        country = str(address.get("country") or "US").upper()
        state = str(address.get("state") or "").upper()
        if country not in self.settings.address_countries or (country == "US" and state not in US_STATES):
            return Refusal("address_change", order.id, "address", "We can ship only to an address in one of the "
                           "50 US states; please give a street, city, two-letter state and ZIP code.")
        return self._pending("address_change", order, action_id, now, address=dict(address),
                             old_address=dict(order.shipping_address or {}) or None)

    # -- catalogue ---------------------------------------------------------------------------------
    def find_variant(self, product_id: str, options: Mapping[str, str]) -> dict[str, Any] | None:
        product = self.catalog.get(product_id) or {}
        want = {k: v.lower() for k, v in options.items()}
        for variant in product.get("variants") or []:
            have = {str(k): str(v).lower() for k, v in (variant.get("options") or {}).items()}
            if have == want:
                return dict(variant)
        return None

    def in_stock_variants(self, item: OrderItem) -> list[dict[str, Any]]:
        """In-stock variants of the item's product other than its own, the most alike first."""
        product = self.catalog.get(item.product_id) or {}
        own = {str(k): str(v) for k, v in (item.options or {}).items()}
        variants = [dict(v) for v in product.get("variants") or []
                    if int(v.get("stock") or 0) > 0 and v.get("id") != item.variant_id]
        return sorted(variants, key=lambda v: -sum(own.get(str(k)) == str(x) for k, x in v["options"].items()))

    def in_stock_text(self, item: OrderItem, limit: int = 10) -> str:
        variants = self.in_stock_variants(item)
        if not variants:
            return ""
        listed = "; ".join(", ".join(f"{k} {v}" for k, v in (v.get("options") or {}).items())
                           for v in variants[:limit])
        return f"In stock for {item.name}: {listed}."


def recheck(policy: OrderPolicy, action: PendingAction, order: Order, tier: str | None, now: datetime
            ) -> Refusal | None:
    """The policy again, at confirmation time, on the order as it is now."""
    by_position = {i.position: i for i in order.items}
    items = [by_position[i.position] for i in action.items if i.position in by_position]
    result: PendingAction | Refusal
    if action.kind == "cancel":
        result = policy.cancel(order, action.id, now)
    elif action.kind == "return":
        result = policy.return_items(order, items, tier, action.id, now)
    elif action.kind == "exchange" and items and action.exchange_to:
        result = policy.exchange(order, items[0], action.exchange_to["options"], action.id, now)
    elif action.kind == "address_change" and action.address:
        result = policy.change_address(order, action.address, action.id, now)
    else:
        return Refusal(action.kind, order.id, "changed", f"Order {order.id} changed, so nothing was done.")
    return result if isinstance(result, Refusal) else None


def order_change(action: PendingAction, policy: OrderPolicy, turn_id: str | None) -> OrderChange:
    """What the store writes when the shopper confirmed ``action``."""
    s = policy.settings
    details: dict[str, Any] = {"turn_id": turn_id, "items": [i.position for i in action.items]}
    payment = None
    if action.refund is not None and action.refund.amount > 0:
        payment = {"kind": action.refund.kind, "method": action.refund.method, "amount": action.refund.amount,
                   "status": "done" if action.kind == "cancel" else "pending"}
    if action.kind == "cancel":
        return OrderChange(action.id, "cancel", tuple(s.cancellable_statuses), status="cancelled",
                           payment=payment, note="cancelled by the shopper in chat", details=details)
    if action.kind == "return":
        return OrderChange(action.id, "return_requested", tuple(s.returnable_statuses),
                           item_statuses={i.position: "return_requested" for i in action.items},
                           allowed_item_statuses=CHANGEABLE_ITEM, payment=payment,
                           note="return requested by the shopper in chat",
                           details={**details, "refund": action.refund and asdict(action.refund)})
    if action.kind == "exchange":
        return OrderChange(action.id, "exchange_requested", tuple(s.returnable_statuses),
                           item_statuses={i.position: "exchange_requested" for i in action.items},
                           allowed_item_statuses=CHANGEABLE_ITEM, note="exchange requested by the shopper in chat",
                           details={**details, "exchange_to": action.exchange_to})
    return OrderChange(action.id, "address_changed", tuple(s.address_change_statuses),
                       shipping_address=action.address, note="shipping address changed by the shopper in chat",
                       details=details)
