"""Order-action replies in the shopper's language, built from what the action turn did.

English replies are written by :mod:`assistant.orders.order_actions` and its policy (their wording is the
reference). In another language the reply is built from the outcome's facts (the verdict, the order, the
pending or done action, the refusal's reason code) with the message catalogue: nothing is translated by a model.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

from assistant.locales import REFERENCE, supported, text
from assistant.locales.local_formats import money_in
from assistant.orders.order_policy import ActionKind, PendingAction, format_address
from assistant.turn.chinese_rules import action_kind_zh

if TYPE_CHECKING:
    from assistant.orders.order_actions import ActionOutcome
    from assistant.settings import OrderPolicySettings

def action_kind(message: str) -> ActionKind | None:
    """The order action a message in a language other than English asks for (English is read by
    :func:`assistant.orders.order_actions.detect_kind` first): ``cancel``, ``return``, ``exchange``, ..."""
    return cast("ActionKind | None", action_kind_zh(message))


def _items(action: PendingAction, language: str) -> str:
    labels = []
    for item in action.items:
        options = ", ".join(f"{k} {v}" for k, v in item.options.items())
        key = "order.item_options" if options else "order.item"
        labels.append(text(key, language, name=item.name, quantity=item.quantity, options=options))
    return "；".join(labels) if language == "zh" else "; ".join(labels)


def _refund(action: PendingAction, language: str) -> str:
    r = action.refund
    if r is None:
        return text("action.no_refund", language)
    amount = money_in(r.amount, action.currency, language)
    key = "action.release" if r.kind == "authorization_release" else "action.refund"
    return text(key, language, amount=amount, method=r.method)


def _what(action: PendingAction, language: str, done: bool) -> str:
    suffix = "_done" if done else ""
    new = ", ".join(f"{k} {v}" for k, v in ((action.exchange_to or {}).get("options") or {}).items())
    return text(f"action.what.{action.kind}{suffix}", language, order_id=action.order_id,
                items=_items(action, language), refund=_refund(action, language), new=new,
                address=format_address(action.address))


def _refusal(outcome: ActionOutcome, language: str, orders: OrderPolicySettings) -> str:
    r = outcome.refusal
    assert r is not None
    days = orders.exchange_window_days if r.kind == "exchange" else orders.return_window_days
    key = f"refusal.{r.reason}" if r.reason in ("status", "window", "changed", "no_variant", "same_variant",
                                                 "out_of_stock", "address") else "refusal.other"
    reason = text(key, language, order_id=r.order_id or "", days=days)
    return text("action.refused", language, reason=reason)


def action_reply(outcome: ActionOutcome, language: str, orders: OrderPolicySettings,
                 session: Mapping[str, Any], signed_in: bool = True) -> str:
    """The reply to an action turn in ``language`` (English: the outcome's own reply)."""
    if supported(language) == REFERENCE:
        return outcome.reply
    v, order_id = outcome.verdict, outcome.order_id or ""
    if v == "action_proposed" and outcome.pending is not None:
        return text("action.propose", language, what=_what(outcome.pending, language, False),
                    minutes=int(orders.confirmation_ttl_minutes))
    if v == "action_done" and outcome.done is not None:
        return text("action.done", language, what=_what(outcome.done, language, True))
    if v == "refused":
        return text("action.not_yours", language, order_id=order_id)
    if v == "action_refused" and outcome.refusal is not None:
        return _refusal(outcome, language, orders)
    if v == "action_refused":
        return text("action.sign_in" if not signed_in else "action.no_orders", language)
    if v == "action_clarify":
        sep = "、" if language == "zh" else ", "
        if not outcome.order_id:
            return text("action.which_order", language, orders=sep.join(outcome.choices))
        if outcome.kind == "address_change":
            return text("action.new_address", language, order_id=order_id)
        if len(outcome.choices) > 1:
            return text("action.which_item", language, order_id=order_id) + " " + sep.join(outcome.choices)
        return text("action.which_variant", language, order_id=order_id)
    if v == "action_already_done":
        last = session.get("last_action") or {}
        pending = session.get("pending_action")
        what = _what(PendingAction.from_dict(pending), language, True) if pending else str(last.get("summary", ""))
        return text("action.already_done", language, what=what)
    if v == "action_expired":
        return text("action.expired", language, minutes=int(orders.confirmation_ttl_minutes))
    if v == "action_declined":
        return text("action.declined", language, order_id=order_id)
    if v == "nothing_pending" and outcome.reply.startswith("OK"):  # a "no" with nothing waiting
        return text("action.declined_nothing", language)
    return text("action.nothing_pending", language)
