"""Order actions in a conversation: propose in one turn, carry out after an explicit yes in the next.

The turn that asks resolves the order (and items, variant or address) from the message by rules, or from
the tool-calling model's arguments, and asks :class:`~assistant.orders.order_policy.OrderPolicy` whether it is
allowed. An allowed action becomes a :class:`~assistant.orders.order_policy.PendingAction` that the caller keeps
in the chat session's state; the reply lists exactly what will happen. The confirming turn re-checks
the policy on the order as it is then and applies the change through ``OrderStore.apply_change``
(idempotent by the action's id). Every reply here is built from the order and the policy: no model.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from assistant.errors import ConflictError, NotFoundError
from assistant.orders.order_policy import (
    EVENT_KINDS,
    ActionKind,
    OrderPolicy,
    PendingAction,
    Refusal,
    format_address,
    order_change,
    recheck,
)
from assistant.records import Order, OrderItem, money
from assistant.settings import OrderPolicySettings
from assistant.shop.catalog_index import CatalogIndex
from assistant.turn.order_refs import ORDER_ID
from assistant.turn.prompts import REFUSE_OTHER_ORDER
from assistant.turn.understanding import Understanding

if TYPE_CHECKING:
    from assistant.store.order_store import OrderStore

_KINDS: list[tuple[ActionKind, re.Pattern[str]]] = [
    ("address_change", re.compile(r"\b(address|ship (?:it|them) to|deliver (?:it|them) to)\b", re.I)),
    ("exchange", re.compile(r"\b(exchange|swap|(?:different|another|other) (?:size|colou?r|variant))\b", re.I)),
    ("cancel", re.compile(r"\bcancel", re.I)),
    ("return", re.compile(r"\b(return|send (?:it|them) back|refund)", re.I)),
]
_ADDRESS = re.compile(r"(\d+\s+[^,\n]+(?:,[^,\n]+)*?),\s*([A-Za-z .'-]+?),\s*([A-Za-z]{2})\.?\s+(\d{5}(?:-\d{4})?)\b")
_STOP = frozenset("the and for you your can how what does are with have this that from want would like please "
                  "order orders return exchange cancel item items size colour color instead one them into".split())
CONFIRM_HINT = 'Reply "yes" to confirm, or "no" to leave it as it is.'
VERBS = {"cancel": "cancelled", "return": "returned", "exchange": "exchanged", "address_change": "changed"}


@dataclass
class ActionOutcome:
    """What an action turn did: the reply, and what the session and the log must remember."""

    reply: str
    verdict: str  # action_proposed | action_done | action_refused | action_already_done | action_expired |
    #               action_declined | action_clarify | nothing_pending | refused
    kind: str | None = None
    order_id: str | None = None
    pending: PendingAction | None = None  # proposed now: keep it in the session for the next turn
    done: PendingAction | None = None  # carried out now
    refusal: Refusal | None = None
    events: list[dict[str, Any]] = field(default_factory=list)
    choices: tuple[str, ...] = ()  # what a clarifying question offers (order ids, item names), for other languages

    def trace(self) -> dict[str, Any]:
        action = self.pending or self.done
        return {"kind": self.kind, "order_id": self.order_id, "verdict": self.verdict,
                "action_id": action.id if action else None,
                "refusal": self.refusal.reason if self.refusal else None}


def detect_kind(text: str) -> ActionKind | None:
    return next((kind for kind, pattern in _KINDS if pattern.search(text)), None)


def parse_address(text: str) -> dict[str, Any] | None:
    """``12 Pine Street, Apt 4, Seattle, WA 98101`` -> an address dict; None if it is not written so."""
    m = _ADDRESS.search(ORDER_ID.sub(" ", text))
    if m is None:
        return None
    parts = [p.strip() for p in m.group(1).split(",")]
    return {"line1": parts[0], "line2": ", ".join(parts[1:]) or None, "city": m.group(2).strip(),
            "state": m.group(3).upper(), "postcode": m.group(4), "country": "US"}


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if len(w) > 2} - _STOP


def _stem(word: str) -> str:
    return word[:-1] if word.endswith("s") and len(word) > 3 else word


def _mentions(text: str, value: str) -> bool:
    return re.search(rf"(?<![\w.]){re.escape(value.lower())}(?![\w]|\.\d)", text) is not None


class OrderActions:
    def __init__(self, orders: OrderStore, catalog: CatalogIndex, settings: OrderPolicySettings,
                 new_id: Callable[[], str] = lambda: uuid.uuid4().hex) -> None:
        self.orders = orders
        self.policy = OrderPolicy(settings, catalog)
        self.new_id = new_id

    # -- proposing -----------------------------------------------------------------------------------
    def propose_from_message(self, customer_id: str | None, tier: str | None, text: str, u: Understanding,
                             now: datetime, default_kind: ActionKind | None = None, order_id: str | None = None
                             ) -> ActionOutcome:
        """Graph mode: what to do, to which order and items, all read from the shopper's message (or, when
        it answers the assistant's question, from what the question was about)."""
        kind = detect_kind(text) or default_kind or "return"
        cleaned = ORDER_ID.sub(" ", text).lower()
        return self.propose(kind, customer_id, tier, u.order_ids[0] if u.order_ids else order_id, cleaned, now,
                            wanted=None, address=parse_address(text), size=u.size or u.asked_size, colours=u.colours)

    def propose(self, kind: ActionKind, customer_id: str | None, tier: str | None, order_id: str | None,
                hint: str, now: datetime, *, wanted: Mapping[str, str] | None = None,
                address: Mapping[str, Any] | None = None, size: str | None = None,
                colours: Sequence[str] = ()) -> ActionOutcome:
        """Check ``kind`` on the shopper's order (named, or found from ``hint``) and build what will happen.

        ``hint`` is free text naming items and options; ``wanted`` (exchange) and ``address`` (address
        change) may be given directly (tool-calling mode)."""
        if customer_id is None:
            return ActionOutcome("Please sign in first: I can only change orders on your own account.",
                                 "action_refused", kind)
        found = self._order(kind, customer_id, order_id, hint)
        if isinstance(found, ActionOutcome):
            return found
        order = found
        action_id = self.new_id()
        result: PendingAction | Refusal
        if kind == "cancel":
            result = self.policy.cancel(order, action_id, now)
        elif kind == "address_change":
            if address is None and order.status in self.policy.settings.address_change_statuses:
                return ActionOutcome(f"What is the new shipping address for order {order.id}? Please write it "
                                     "as: street, city, two-letter state and ZIP code (for example: 12 Pine "
                                     "Street, Seattle, WA 98101).", "action_clarify", kind, order.id)
            result = self.policy.change_address(order, address or {}, action_id, now)
        else:
            items = self._items(order, hint)
            if kind == "return":
                items = items or [i for i in order.items if i.status == "ordered"] or list(order.items)
                result = self.policy.return_items(order, items, tier, action_id, now)
            else:
                exchange = self._exchange(order, items, hint, wanted, size, colours, action_id, now)
                if isinstance(exchange, ActionOutcome):
                    return exchange
                result = exchange
        if isinstance(result, Refusal):
            return ActionOutcome(result.message, "action_refused", kind, order.id, refusal=result)
        return ActionOutcome(self.describe(result), "action_proposed", kind, order.id, pending=result)

    def _order(self, kind: ActionKind, customer_id: str, order_id: str | None, hint: str) -> Order | ActionOutcome:
        if order_id:
            order = self.orders.get(customer_id, order_id)
            if order is None:  # made up or someone else's: the same words, nothing of it shown
                return ActionOutcome(REFUSE_OTHER_ORDER.format(order_id=order_id) + " Nothing was changed.",
                                     "refused", kind, order_id)
            return order
        orders: list[Order] = self.orders.list_for(customer_id)
        if not orders:
            return ActionOutcome("I can't find any orders on your account.", "action_refused", kind)
        s = self.policy.settings
        statuses = {"cancel": s.cancellable_statuses, "address_change": s.address_change_statuses}.get(
            kind, s.returnable_statuses)
        candidates = [o for o in orders if o.status in statuses] or orders
        named = [o for o in candidates if self._items(o, hint)]
        candidates = named or candidates
        if len(candidates) == 1 or not any(o.status in statuses for o in candidates):
            return candidates[0]  # the only one that fits, or the latest (the policy explains why not)
        listed = "; ".join(f"{o.id} ({o.status}, placed {o.placed_at.date().isoformat()}: "
                           f"{', '.join(i.name for i in o.items)})" for o in candidates[:5])
        verb = {"address_change": "change the address of"}.get(kind, kind)
        return ActionOutcome(f"Which order would you like to {verb}? {listed}.", "action_clarify", kind,
                             choices=tuple(o.id for o in candidates[:5]))

    def _items(self, order: Order, hint: str) -> list[OrderItem]:
        """The items of ``order`` that ``hint`` names best: by words of their name or category, and (in an
        order of several items) by option values such as a colour."""
        words = {_stem(w) for w in _words(hint)}
        scored: list[tuple[int, OrderItem]] = []
        for item in order.items:
            product = self.policy.catalog.get(item.product_id) or {}
            vocab = {_stem(w) for w in _words(f"{item.name} {str(product.get('category', '')).replace('-', ' ')}")}
            options = [str(v) for v in (item.options or {}).values()] if len(order.items) > 1 else []
            score = len(words & vocab) + 2 * sum(_mentions(hint, v) for v in options)
            if score:
                scored.append((score, item))
        best = max((score for score, _ in scored), default=0)
        return [item for score, item in scored if score == best]

    def _exchange(self, order: Order, items: list[OrderItem], hint: str, wanted: Mapping[str, str] | None,
                  size: str | None, colours: Sequence[str], action_id: str, now: datetime
                  ) -> PendingAction | Refusal | ActionOutcome:
        if len(items) != 1:
            items = list(order.items) if len(order.items) == 1 else items
        if len(items) != 1:
            names = ", ".join(i.name for i in (items or list(order.items)))
            return ActionOutcome(f"Which item of order {order.id} would you like to exchange: {names}?",
                                 "action_clarify", "exchange", order.id,
                                 choices=tuple(i.name for i in (items or list(order.items))))
        item = items[0]
        wanted = dict(wanted) if wanted else self._wanted(item, hint, size, colours)
        if not wanted:
            window = self.policy.window("exchange", order, self.policy.settings.exchange_window_days, now)
            if window is not None:
                return window
            return ActionOutcome(f"Which size or colour of {item.name} would you like instead? "
                                 f"{self.policy.in_stock_text(item)}".strip(), "action_clarify", "exchange", order.id,
                                 choices=(item.name,))
        return self.policy.exchange(order, item, wanted, action_id, now)

    def _wanted(self, item: OrderItem, hint: str, size: str | None, colours: Sequence[str]) -> dict[str, str]:
        """Option values the shopper asked for that differ from the item's own (``size 9``, ``black``)."""
        product = self.policy.catalog.get(item.product_id) or {}
        current = {str(k): str(v).lower() for k, v in (item.options or {}).items()}
        values: dict[str, list[str]] = {}
        for variant in product.get("variants") or []:
            for key, value in (variant.get("options") or {}).items():
                if str(value) not in values.setdefault(str(key), []):
                    values[str(key)].append(str(value))
        wanted: dict[str, str] = {}
        for key, options in values.items():
            hits = sorted((v for v in options if _mentions(hint, v) and v.lower() != current.get(key)),
                          key=len, reverse=True)
            if hits:
                wanted[key] = hits[0]
        if size and "size" in current and "size" not in wanted and size.lower() != current["size"]:
            wanted["size"] = size  # a size the product does not come in: the policy says so
        colour_key = next((k for k in current if k.startswith("colo")), None)
        other = [c for c in colours if c != current.get(colour_key or "")]
        if colour_key and colour_key not in wanted and other and not any(other[0] in v for v in current.values()):
            wanted[colour_key] = other[0]
        return wanted

    def describe(self, action: PendingAction) -> str:
        """Exactly what will happen, and how to confirm."""
        what = self._what(action, done=False)
        minutes = int(self.policy.settings.confirmation_ttl_minutes)
        return f"Here is what will happen if you confirm: {what} {CONFIRM_HINT} (This expires in {minutes} minutes.)"

    def _what(self, action: PendingAction, done: bool) -> str:
        order, items = action.order_id, action.items_text()
        if action.kind == "cancel":
            head = f"order {order} ({items}) {'is' if done else 'will be'} cancelled"
            refund = action.refund_text().replace(" will be ", " is " if done else " will be ")
            return f"{head}, and {refund}." if refund else f"{head}."
        if action.kind == "return":
            r = action.refund
            label = "" if r is None else (" The return label is free." if not r.fee else
                                          f" The {money(r.fee, action.currency)} return label is deducted.")
            refund = action.refund_text()
            return (f"a return of {items} from order {order} {'is registered' if done else 'will be started'}; "
                    f"{refund} once we receive the items.{label}")
        if action.kind == "exchange":
            new = ", ".join(f"{k} {v}" for k, v in ((action.exchange_to or {}).get("options") or {}).items())
            return (f"{items} from order {order} {'is' if done else 'will be'} exchanged for {new}, free of "
                    "charge and at the price you paid; we ship the new one when we receive yours.")
        return (f"order {order} {'will now ship' if done else 'will ship'} to {format_address(action.address)} "
                f"instead of {format_address(action.old_address)}.")

    # -- confirming ----------------------------------------------------------------------------------
    def confirm(self, customer_id: str | None, tier: str | None, state: Mapping[str, Any], now: datetime,
                turn_id: str | None) -> ActionOutcome:
        """The shopper said yes: carry out the pending action if it is still allowed, once."""
        raw = state.get("pending_action")
        if not raw:
            last = state.get("last_action")
            if last:
                return ActionOutcome(f"That's already done: {last['summary']} Nothing was changed again.",
                                     "action_already_done", last.get("kind"), last.get("order_id"))
            return ActionOutcome("There's nothing waiting for your confirmation, so nothing was changed. "
                                 "What would you like to do?", "nothing_pending")
        action = PendingAction.from_dict(raw)
        if customer_id is None or action.customer_id != customer_id:
            return ActionOutcome("There's nothing waiting for your confirmation, so nothing was changed.",
                                 "nothing_pending")
        if action.expired(now):
            minutes = int(self.policy.settings.confirmation_ttl_minutes)
            return ActionOutcome(f"That request expired (a confirmation is valid for {minutes} minutes), so "
                                 f"nothing was changed. Ask again if you still want order {action.order_id} "
                                 f"{VERBS[action.kind]}.", "action_expired", action.kind, action.order_id)
        try:
            order = self.orders.get(customer_id, action.order_id)
            if order is None:
                raise NotFoundError(f"order {action.order_id} is gone")
            if any(h.get("action_id") == action.id for h in order.history):
                return self._already(action)
            refusal = recheck(self.policy, action, order, tier, now)
            if refusal is None:
                applied = self.orders.apply_change(customer_id, order.id, order_change(action, self.policy, turn_id))
                if not applied.applied:
                    return self._already(action)
                return self._done(action)
        except (ConflictError, NotFoundError) as e:  # it moved on between the check and the change
            refusal = Refusal(action.kind, action.order_id, "changed", getattr(e, "user_message", str(e)))
        return ActionOutcome(f"I couldn't do that after all: {refusal.message} Nothing was changed.",
                             "action_refused", action.kind, action.order_id, refusal=refusal)

    def _already(self, action: PendingAction) -> ActionOutcome:
        return ActionOutcome(f"That's already done: {self._what(action, done=True)} Nothing was changed again.",
                             "action_already_done", action.kind, action.order_id)

    def _done(self, action: PendingAction) -> ActionOutcome:
        payload: dict[str, Any] = {"order_id": action.order_id, "action_id": action.id,
                                   "items": [{"position": i.position, "name": i.name, "quantity": i.quantity}
                                             for i in action.items]}
        if action.refund is not None:
            payload["refund"] = {"amount": action.refund.amount, "method": action.refund.method,
                                 "kind": action.refund.kind, "fee": action.refund.fee}
        if action.exchange_to:
            payload["exchange_to"] = action.exchange_to
        if action.address:
            payload["address"] = {k: action.address.get(k) for k in ("city", "state", "country")}
        return ActionOutcome(f"Done: {self._what(action, done=True)}", "action_done", action.kind,
                             action.order_id, done=action,
                             events=[{"kind": EVENT_KINDS[action.kind], "payload": payload}])

    def decline(self, state: Mapping[str, Any]) -> ActionOutcome:
        raw = state.get("pending_action")
        if not raw:
            return ActionOutcome("OK. Is there anything else I can help with?", "nothing_pending")
        action = PendingAction.from_dict(raw)
        return ActionOutcome(f"OK, I won't do that: order {action.order_id} stays as it is. Nothing was changed.",
                             "action_declined", action.kind, action.order_id)

    def summary(self, action: PendingAction) -> str:
        """One line for the session, for a repeated yes."""
        return self._what(action, done=True)
