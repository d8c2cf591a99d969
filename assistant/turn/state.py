"""What one turn carries: its state as it moves through the graph, and the dependencies its nodes use.

Kept apart from the graph so that nodes in other modules (session nodes, the tool-calling agent) can name
these types without importing the graph that imports them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from assistant.domain import Event, ProductCard
from assistant.locales import template
from assistant.records import CustomerProfile, ShopProfile
from assistant.settings import Settings
from assistant.shop.catalog_index import CatalogIndex
from assistant.turn.facts import Facts
from assistant.turn.input_guard import GuardResult
from assistant.turn.understanding import Understanding

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from assistant.orders.order_actions import OrderActions
    from assistant.personalization.recommender import Recommender
    from assistant.staff.handover_notice import HandoverNotifier
    from assistant.store.customers import CustomerStore
    from assistant.store.stores import Stores
    from assistant.turn.shop_tools import ShopTools
    from assistant.turn.verifier import Verifier


@dataclass
class TurnDeps:
    settings: Settings
    shop_tools: ShopTools
    catalog: CatalogIndex
    customers: CustomerStore
    llm: BaseChatModel
    verifier: Verifier
    recommender: Recommender
    now: Callable[[], datetime]
    stores: Stores  # sessions, turns, hand-overs
    actions: OrderActions
    shop: ShopProfile = field(default_factory=ShopProfile)  # the shop's name, currency and locale
    notifier: HandoverNotifier | None = None  # tells agents of a new hand-over (support.webhook_url)


@dataclass
class TurnState:
    turn_id: str
    session_id: str
    customer_id: str | None
    message: str
    guard: GuardResult | None = None
    profile: CustomerProfile | None = None
    personalized: bool = False
    understanding: Understanding | None = None
    facts: Facts | None = None
    reply: str = ""
    raw: str = ""
    verdict: str = ""
    problems: list[str] = field(default_factory=list)
    status: str = "ok"
    handover: dict[str, str] | None = None
    products: list[ProductCard] = field(default_factory=list)
    offers: list[dict[str, Any]] = field(default_factory=list)
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    llm_usage: dict[str, Any] = field(default_factory=dict)
    session_state: dict[str, Any] | None = None  # the chat session's state as the turn found it
    handed_over: bool = False  # a person has this conversation: the assistant does not answer
    handover_reason: str | None = None
    action: dict[str, Any] | None = None  # what an order action turn did (for the trace)
    events: list[dict[str, Any]] = field(default_factory=list)  # more events to record with the turn
    carry: dict[str, Any] = field(default_factory=dict)  # what the next turn needs (pending action, ...)
    held_for: str | None = None  # an agent took the conversation over: the shopper's message waits for them
    message_language: str | None = None  # the message's own language, if it says enough to tell
    language: str = "en"  # the language of the reply: the message's, else the conversation's


Emit = Callable[[Event], None]
#: a node of the turn graph: the turn so far, its dependencies and the event writer -> an update of the state
Node = Callable[[TurnState, TurnDeps, Emit], dict[str, Any]]

#: said once to a shopper whose conversation an agent took over; later messages get no reply from the assistant
HELD = template("handover.held")


def stream_writer() -> Emit:
    from langgraph.config import get_stream_writer

    try:
        return get_stream_writer()
    except RuntimeError:  # called outside a graph run (unit tests call nodes directly)
        return lambda _event: None


