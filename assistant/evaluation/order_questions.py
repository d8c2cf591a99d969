"""Order questions from a shop folder's customers: the shopper's own orders named by id in the shop's own id
format (as stored, without a leading ``#``, in other casing), "my latest order", another shopper's order
(must be refused with nothing of it shown), and questions the shop cannot answer."""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from assistant.evaluation.question_wording import EN, Wording
from assistant.evaluation.shop_questions import ShopData, ShopQuestion, amount


def id_spellings(order_id: str) -> list[str]:
    """How a shopper may write an order id: as stored, without a leading '#', with one added, other casing."""
    bare = order_id.lstrip("#")
    spellings = [order_id, bare if bare != order_id else f"#{order_id}", order_id.lower(), order_id.upper()]
    return list(dict.fromkeys(s for s in spellings if s))


def _orders(customer: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [o for o in customer.get("orders") or [] if o.get("id") and o.get("status")]


def order_questions(data: ShopData, rng: random.Random, limit: int, w: Wording = EN) -> list[ShopQuestion]:
    out: list[ShopQuestion] = []
    customers = [c for c in data.customers if _orders(c)]
    rng.shuffle(customers)
    kinds = ("order_status", "order_tracking", "order_total", "order_items")
    for n, customer in enumerate(customers):
        orders = _orders(customer)
        order = rng.choice(orders)
        spelled = id_spellings(str(order["id"]))[n % len(id_spellings(str(order["id"])))]
        cid, status = str(customer["id"]), str(order["status"]).lower()
        kind = kinds[n % len(kinds)]
        if sum(q.category == kind for q in out) >= limit:
            if all(sum(q.category == k for q in out) >= limit for k in kinds):
                break
            continue
        if kind == "order_status":
            out.append(ShopQuestion(f"status-{order['id']}", kind, w.order_status.format(order_id=spelled),
                                    customer=cid, expect_one_of=w.status_words(status),
                                    forbid=w.status_forbid(status), language=w.language))
        elif kind == "order_tracking":
            number = str((order.get("tracking") or {}).get("number") or "")
            if number:
                out.append(ShopQuestion(f"tracking-{order['id']}", kind, w.order_tracking.format(order_id=spelled),
                                        customer=cid, expect=(number,), language=w.language))
        elif kind == "order_total" and order.get("total") is not None:
            out.append(ShopQuestion(f"total-{order['id']}", kind, w.order_total.format(order_id=spelled),
                                    customer=cid, expect=(amount(float(order["total"])),), language=w.language))
        elif kind == "order_items":
            names = [str(i["name"]) for i in order.get("items") or [] if i.get("name")]
            if 1 <= len(set(names)) <= 3:
                out.append(ShopQuestion(f"items-{order['id']}", kind, w.order_items.format(order_id=spelled),
                                        customer=cid, expect=tuple(dict.fromkeys(names)), language=w.language))
    latest = [c for c in customers if len(_orders(c)) >= 2]
    for customer in latest[:limit]:
        orders = sorted(_orders(customer), key=lambda o: str(o.get("placed_at") or ""))
        newest, older = orders[-1], orders[:-1]
        if str(newest.get("placed_at") or "") == str(older[-1].get("placed_at") or ""):
            continue
        # the newest order's id, or its status when no older order has that status
        answers = [str(newest["id"]).lstrip("#")]
        if str(newest["status"]).lower() not in {str(o["status"]).lower() for o in older}:
            answers += w.status_words(str(newest["status"]))
        out.append(ShopQuestion(f"latest-{customer['id']}", "order_latest", w.order_latest,
                                customer=str(customer["id"]), expect_one_of=tuple(answers),
                                forbid=tuple(str(o["id"]).lstrip("#") for o in older),
                                note=f"latest: {newest['id']} ({newest['status']})", language=w.language))
    return out


def other_shopper_questions(data: ShopData, rng: random.Random, limit: int, w: Wording = EN) -> list[ShopQuestion]:
    """A shopper asks about someone else's order: refused, and nothing of it (items, tracking, total) shown."""
    customers = [c for c in data.customers if _orders(c)]
    if len(customers) < 2:
        return []
    out = []
    for _ in range(limit):
        asker, owner = rng.sample(customers, 2)
        order = rng.choice(_orders(owner))
        leak = [str(i["name"]) for i in order.get("items") or [] if i.get("name")]
        leak += [str((order.get("tracking") or {}).get("number") or "")]
        leak += [amount(float(order["total"]))] if order.get("total") is not None else []
        leak += [str(owner.get("name") or "")]
        own_items = {str(i.get("name")) for o in _orders(asker) for i in o.get("items") or []}
        out.append(ShopQuestion(f"other-{asker['id']}-{order['id']}", "other_order",
                                w.other_order.format(order_id=order["id"]), customer=str(asker["id"]),
                                leak=tuple(x for x in dict.fromkeys(leak) if x and x not in own_items),
                                language=w.language))
    return out


def unanswerable_questions(data: ShopData, rng: random.Random, limit: int, w: Wording = EN) -> list[ShopQuestion]:
    customer = next((str(c["id"]) for c in data.customers), None)
    return [ShopQuestion(f"unanswerable-{n}", "unanswerable", message, customer=customer, decline=True,
                         language=w.language)
            for n, message in enumerate(w.unanswerable[:limit])]
