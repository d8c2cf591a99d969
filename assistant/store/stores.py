"""One call that opens the whole store: engine, schema, and a store object per aggregate."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from assistant.privacy.log_redaction import install_log_redaction
from assistant.store.analytics_queries import AnalyticsStore
from assistant.store.bandit_state import BanditStore
from assistant.store.campaigns import CampaignStore
from assistant.store.clock import Clock, IdFactory, SystemClock, UuidIds
from assistant.store.copy_queue import CopyStore
from assistant.store.customers import CustomerStore
from assistant.store.data_versions import track_changes
from assistant.store.db import build_engine, migrate, session_factory
from assistant.store.events import EventStore
from assistant.store.handovers import HandoverStore
from assistant.store.offer_store import OfferStore
from assistant.store.order_store import OrderStore
from assistant.store.purchase_events import PurchaseEventStore
from assistant.store.ratings import RatingStore
from assistant.store.review_queries import ReviewStore
from assistant.store.sessions import SessionStore, TurnStore
from assistant.store.shop_profiles import ShopProfileStore
from assistant.store.staff_accounts import StaffStore


@dataclass(frozen=True)
class Stores:
    engine: Engine
    customers: CustomerStore
    orders: OrderStore
    sessions: SessionStore
    turns: TurnStore
    events: EventStore
    offers: OfferStore
    handovers: HandoverStore
    bandit: BanditStore
    copy: CopyStore
    review: ReviewStore
    analytics: AnalyticsStore
    staff: StaffStore
    shop: ShopProfileStore  # the shop's name, currency and locale
    ratings: RatingStore  # the shoppers' ratings of their conversations (CSAT)
    campaigns: CampaignStore  # marketing campaigns and their members (arm, copy, sent)
    purchase_events: PurchaseEventStore  # purchases the shop reported as events, kept once by event id

    def close(self) -> None:
        self.engine.dispose()


def build_stores(engine: Engine, *, clock: Clock | None = None, ids: IdFactory | None = None) -> Stores:
    """Store objects sharing one engine, clock and id factory (the schema must be migrated). From here on, log
    records are redacted too (``assistant.privacy.log_redaction``): a process that holds shopper data logs none."""
    install_log_redaction()
    clock = clock or SystemClock()
    ids = ids or UuidIds()
    sessions = session_factory(engine)
    track_changes(sessions, clock)  # writes to offers, orders, purchase events, the shop profile: replicas reload them
    return Stores(
        engine=engine,
        customers=CustomerStore(sessions, clock),
        orders=OrderStore(sessions, clock),
        sessions=SessionStore(sessions, clock, ids),
        turns=TurnStore(sessions, clock, ids),
        events=EventStore(sessions, clock),
        offers=OfferStore(sessions, clock),
        handovers=HandoverStore(sessions, clock, ids),
        bandit=BanditStore(sessions, clock),
        copy=CopyStore(sessions, clock),
        review=ReviewStore(sessions, clock),
        analytics=AnalyticsStore(sessions, clock),
        staff=StaffStore(sessions, clock, ids),
        shop=ShopProfileStore(sessions, clock),
        ratings=RatingStore(sessions, clock),
        campaigns=CampaignStore(sessions, clock),
        purchase_events=PurchaseEventStore(sessions, clock),
    )


def open_stores(
    url: str, *, clock: Clock | None = None, ids: IdFactory | None = None, upgrade: bool = True
) -> Stores:
    """Build the engine for ``url``, migrate it to the latest schema (unless ``upgrade=False``) and
    return the stores. Call ``close()`` when done."""
    engine = build_engine(url)
    if upgrade:
        migrate(engine)
    return build_stores(engine, clock=clock, ids=ids)
