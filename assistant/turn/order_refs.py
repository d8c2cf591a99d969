"""Order ids in a shopper's message, recognised by the shopper's own ids, whatever the shop's id format.

A shop's ids may be ``#W9250394``, ``AB-100073``, ``dj-cart-48`` or ``10234``: nothing here knows a
format. The shopper's own ids are matched as written in the message, forgiving a leading ``#``, case,
spaces and a separator between letters and digits; each is returned as the store keeps it. A token that
only *looks* like an order id (an id-like token, a token after "order" or "#", or a token shaped like the
shopper's own ids) and is not one of theirs is returned too, as written, so that it is refused.

Boundaries are ASCII (``re.ASCII``): an id touching a Chinese character (``我的订单AB-100073在哪里``) is an id, as
one touching a space is.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from assistant.records import Order
from assistant.turn.chinese_rules import LATEST as _LATEST_ZH

#: id-like tokens, as recognised before the shop's own ids were known (letters, then 4+ digits; # and digits)
ORDER_ID = re.compile(r"(?<![\w-])#?([A-Z]{1,4}-?\d{4,10}|#\d{4,10})(?![\w-])", re.IGNORECASE | re.ASCII)
#: a token named as an order: "order 10234", "order number dj-cart-48", "order #Q-42", "order id: X1"
_NAMED = re.compile(r"(?:\border(?:\s+(?:number|no\.?|id|ref(?:erence)?))?|订单(?:号码|编号|号)?)\s*[:#：]?\s*#?\s*"
                    r"([a-z0-9][a-z0-9_/-]*[a-z0-9]|[a-z0-9])(?![\w-])", re.IGNORECASE | re.ASCII)
#: a token after '#': "#Q-0042", "#12"
_HASHED = re.compile(r"(?<![\w#])#\s?([a-z0-9][a-z0-9_/-]*[a-z0-9]|[a-z0-9])(?![\w-])", re.IGNORECASE | re.ASCII)
_TOKEN = re.compile(r"(?<![\w#-])#?[a-z0-9][a-z0-9_/-]*[a-z0-9](?![\w-])", re.IGNORECASE | re.ASCII)
_SEPARATOR = r"[\s_/.-]?"
#: asks about the newest order only
LATEST = re.compile(r"\b(latest|last|most recent|newest|recent)\s+(?:\w+\s+)?(?:order|purchase|delivery|parcel|"
                    r"package)\b", re.I)


def normalize_order_id(value: str) -> str:
    """``"# W-92 50"`` -> ``"w9250"``: what two spellings of one id have in common."""
    return re.sub(r"[\s#_/.-]+", "", value).lower()


def _runs(core: str) -> list[str]:
    """Letter runs and digit runs of an id: ``"AB-100073"`` -> ``["AB", "100073"]``."""
    return re.findall(r"[a-z]+|\d+|[^\W\d_]+", core, re.IGNORECASE)


def _own_pattern(order_id: str) -> re.Pattern[str] | None:
    runs = _runs(order_id)
    if not runs:
        return None
    body = _SEPARATOR.join(re.escape(r) for r in runs)
    return re.compile(rf"(?<![\w$.,-])(?:#\s?)?({body})(?![\w-]|[.,]\d)", re.IGNORECASE | re.ASCII)


def _shape(token: str) -> str:
    """Letters kept (lower case), digit runs as '9', separators dropped: ``"dj-cart-48"`` -> ``"djcart9"``."""
    return re.sub(r"\d+", "9", normalize_order_id(token))


def _needs_context(order_id: str) -> bool:
    """A short number ("48") is an order id only when named as one ("order 48", "#48")."""
    core = normalize_order_id(order_id)
    return core.isdigit() and len(core) < 5


def _has_context(message: str, start: int) -> bool:
    before = message[max(0, start - 24):start].lower()
    return re.search(r"(?:\border\b[^.?!]{0,16}|订单[^。？！.?!]{0,6}|#\s?)$", before) is not None


def _id_like(token: str) -> bool:
    core = normalize_order_id(token)
    return any(c.isdigit() for c in core) and (any(c.isalpha() for c in core) or len(core) >= 4)


def find_order_ids(message: str, own_ids: Iterable[str] = ()) -> tuple[str, ...]:
    """The order ids a message names, in order: the shopper's own ones as stored, then others as written.

    ``own_ids``: the shopper's order ids as the store keeps them (none for an anonymous shopper)."""
    found: list[tuple[int, str]] = []
    spans: list[tuple[int, int]] = []
    own = [str(i) for i in own_ids if str(i).strip()]
    by_norm = {normalize_order_id(i): i for i in own}
    for order_id in sorted(own, key=lambda i: -len(normalize_order_id(i))):  # longest first: "W12" inside "W123"
        pattern = _own_pattern(order_id)
        if pattern is None:
            continue
        for m in pattern.finditer(message):
            if any(a < m.end() and m.start() < b for a, b in spans):
                continue
            if _needs_context(order_id) and not _has_context(message, m.start()):
                continue
            spans.append((m.start(), m.end()))
            found.append((m.start(), order_id))

    def other(start: int, end: int, token: str) -> None:
        if any(a < end and start < b for a, b in spans):
            return
        if normalize_order_id(token) in by_norm:  # an own id spelt in a way the patterns missed
            found.append((start, by_norm[normalize_order_id(token)]))
        else:
            found.append((start, token))
        spans.append((start, end))

    for m in ORDER_ID.finditer(message):  # as before: upper case, no '#'
        if any(ch.isdigit() for ch in m.group(1)):
            other(m.start(), m.end(), m.group(1).upper().lstrip("#"))
    for pattern in (_NAMED, _HASHED):
        for m in pattern.finditer(message):
            if _id_like(m.group(1)) or pattern is _HASHED and any(c.isdigit() for c in m.group(1)):
                other(m.start(1), m.end(1), m.group(1).lstrip("#"))
    shapes = {_shape(i) for i in own if re.search(r"[^\W\d_]", i) and re.search(r"\d", i)}
    if shapes:
        for m in _TOKEN.finditer(message):
            if _shape(m.group(0)) in shapes:
                other(m.start(), m.end(), m.group(0).lstrip("#"))
    return tuple(dict.fromkeys(order_id for _, order_id in sorted(found, key=lambda f: f[0])))


def resolve_order_id(requested: str, own_ids: Iterable[str]) -> str | None:
    """The shopper's own id that ``requested`` spells (``"w9250394"`` -> ``"#W9250394"``), or None."""
    want = normalize_order_id(requested)
    return next((i for i in own_ids if normalize_order_id(i) == want), None) if want else None


#: what a question about an order asks for, first match wins; anything else asks for the status (Chinese
#: words after the English ones: no \b next to a CJK character)
_ASKS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("tracking", re.compile(r"\b(track(?:ing)?|carrier|shipment number|parcel number)\b|物流单号|快递单号|运单号|"
                            r"追踪|跟踪|哪家快递|什么快递", re.I)),
    ("payment", re.compile(r"\b(how did i pay|paid (?:with|by|using)|payment method|which card|refund(?:ed|s)?)\b|"
                           r"怎么付|用什么付|支付方式|付款方式|哪张卡|退款", re.I)),
    ("total", re.compile(r"\b(total|how much|cost|costs|amount|charged?|price|paid|(?:did|do) i pay)\b|多少钱|总价|"
                         r"总金额|金额|总共|一共|花了|付了多少", re.I)),
    ("items", re.compile(r"\b(what did i (?:order|buy|get|purchase)|items?|products?|what(?:'s| is| was| were) in|"
                         r"contents?|what (?:was|is) (?:it|in it)|bought)\b|买了什么|买的什么|什么商品|哪些商品|"
                         r"哪些东西|"
                         r"什么东西|订了什么", re.I)),
)
#: the question is about money moving: payments and refunds belong in the answer
PAYMENTS = re.compile(r"\b(pa(?:y|id|yment)s?|refund(?:ed|s)?|charge[ds]?|card|hold|money)\b|付款|支付|退款|扣款|"
                      r"信用卡|冻结", re.I)


def asks_latest(message: str) -> bool:
    """The message asks about the newest order only ("my latest order", "我最近的订单")."""
    return bool(LATEST.search(message) or _LATEST_ZH.search(message))


def asked_about(question: str) -> str:
    """``tracking``, ``payment``, ``total``, ``items`` or ``status``: what a question about one order wants
    first."""
    return next((kind for kind, pattern in _ASKS if pattern.search(question)), "status")


def first_sentence_needs(order: Order, question: str, status_words: tuple[str, ...] = ()
                         ) -> list[tuple[str, ...]]:
    """What the first sentence of a reply about this one order must contain for this question: groups of
    spellings, one of each group (the tracking number, the total, each item's name, or the status, also as
    ``status_words``: the status in the reply's language)."""
    asked = asked_about(question)
    tracking = (order.tracking or {}).get("number")
    if asked == "tracking" and tracking:
        return [(str(tracking),)]
    if asked == "total" and order.total is not None:
        return [(f"{order.total:.2f}", f"{order.total:,.2f}")]
    if asked == "items":
        names = list(dict.fromkeys(i.name for i in order.items))
        return [(name,) for name in names] if len(names) <= 4 else [tuple(names)]
    if asked == "payment":
        return []
    return [(order.status, order.status.replace("_", " "), *status_words)]
