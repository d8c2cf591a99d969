"""``CampaignStore``: marketing campaigns and who is in them.

A campaign keeps its audience rules, its copy variants, the holdout share and seed, and its schedule window as
given, so that a later reader sees what was run. Its members are assigned once (``assign``): each with the arm it
fell in (``holdout`` or a variant id) and when; the copy written for a member (a draft of the review queue) and
when it was exported to a channel (``sent_at``) are recorded on the member. Members belong to their shopper and
are erased with them (``ON DELETE CASCADE``); a campaign's members go with the campaign.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, Float, ForeignKey, Integer, String, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from assistant.errors import ConflictError, NotFoundError, ValidationError
from assistant.store.clock import Clock, SystemClock
from assistant.store.columns import JSONType, UTCDateTime, require_json
from assistant.store.db import read, write
from assistant.store.models import Base

HOLDOUT = "holdout"


class CampaignRow(Base):
    """One campaign as the marketer defined it."""

    __tablename__ = "campaigns"
    __table_args__ = (CheckConstraint("holdout_share >= 0 AND holdout_share < 1", name="holdout_share"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    rules: Mapped[dict[str, Any]] = mapped_column(JSONType)
    variants: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    holdout_share: Mapped[float] = mapped_column(Float)
    seed: Mapped[int] = mapped_column(Integer)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CampaignMemberRow(Base):
    """One shopper in one campaign: the arm they fell in, the copy written for them, when it was sent."""

    __tablename__ = "campaign_members"

    campaign_id: Mapped[str] = mapped_column(String(64), ForeignKey("campaigns.id", ondelete="CASCADE"),
                                             primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(128), ForeignKey("customers.id", ondelete="CASCADE"),
                                             primary_key=True, index=True)
    arm: Mapped[str] = mapped_column(String(64))
    draft_id: Mapped[str | None] = mapped_column(String(64), ForeignKey("copy_drafts.id", ondelete="SET NULL"),
                                                 nullable=True)
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


@dataclass(frozen=True)
class Campaign:
    id: str
    name: str
    rules: dict[str, Any]
    variants: tuple[dict[str, Any], ...]
    holdout_share: float
    seed: int
    starts_at: datetime
    ends_at: datetime
    created_by: str
    created_at: datetime

    @property
    def variant_ids(self) -> tuple[str, ...]:
        return tuple(str(v["id"]) for v in self.variants)

    def to_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        out["variants"] = [dict(v) for v in self.variants]
        for key in ("starts_at", "ends_at", "created_at"):
            out[key] = out[key].isoformat()
        return out


@dataclass(frozen=True)
class CampaignMember:
    campaign_id: str
    customer_id: str
    arm: str  # "holdout" or a variant id
    assigned_at: datetime
    draft_id: str | None = None
    sent_at: datetime | None = None

    @property
    def holdout(self) -> bool:
        return self.arm == HOLDOUT

    def to_dict(self) -> dict[str, Any]:
        return {"campaign_id": self.campaign_id, "customer_id": self.customer_id, "arm": self.arm,
                "draft_id": self.draft_id, "assigned_at": self.assigned_at.isoformat(),
                "sent_at": self.sent_at.isoformat() if self.sent_at else None}


def _campaign(row: CampaignRow) -> Campaign:
    return Campaign(row.id, row.name, dict(row.rules or {}), tuple(dict(v) for v in row.variants or []),
                    row.holdout_share, row.seed, row.starts_at, row.ends_at, row.created_by, row.created_at)


def _member(row: CampaignMemberRow) -> CampaignMember:
    return CampaignMember(row.campaign_id, row.customer_id, row.arm, row.assigned_at, row.draft_id, row.sent_at)


class CampaignStore:
    def __init__(self, sessions: sessionmaker[Session], clock: Clock | None = None) -> None:
        self._sessions = sessions
        self._clock = clock or SystemClock()

    def create(self, *, name: str, rules: Mapping[str, Any], variants: Iterable[Mapping[str, Any]],
               holdout_share: float, seed: int, starts_at: datetime, ends_at: datetime, created_by: str,
               campaign_id: str | None = None) -> Campaign:
        """Store a new campaign (its rules and variants are checked by the service that builds them)."""
        if not 0 <= holdout_share < 1:
            raise ValidationError(f"holdout share {holdout_share}", user_message="The holdout share is from 0 "
                                  "up to (not including) 1, e.g. 0.1 for 10%.")
        if ends_at <= starts_at:
            raise ValidationError("a campaign window that ends before it starts",
                                  user_message="The campaign's window must end after it starts.")
        rules, listed = dict(rules), [dict(v) for v in variants]
        require_json(rules, "a campaign's rules")
        require_json(listed, "a campaign's variants")
        row = CampaignRow(id=campaign_id or uuid.uuid4().hex[:16], name=name, rules=rules, variants=listed,
                          holdout_share=holdout_share, seed=seed, starts_at=starts_at, ends_at=ends_at,
                          created_by=created_by, created_at=self._clock.now())
        with write(self._sessions, "creating a campaign") as session:
            if session.get(CampaignRow, row.id) is not None:
                raise ConflictError(f"campaign {row.id} exists", user_message=f"A campaign {row.id!r} exists "
                                    "already; choose another id.")
            session.add(row)
            session.flush()
            return _campaign(row)

    def get(self, campaign_id: str) -> Campaign | None:
        with read(self._sessions, f"reading campaign {campaign_id}") as session:
            row = session.get(CampaignRow, campaign_id)
            return _campaign(row) if row is not None else None

    def require(self, campaign_id: str) -> Campaign:
        found = self.get(campaign_id)
        if found is None:
            raise NotFoundError(f"no campaign {campaign_id!r}", user_message=f"There is no campaign {campaign_id!r}.")
        return found

    def all(self) -> list[Campaign]:
        """Every campaign, newest first."""
        with read(self._sessions, "listing campaigns") as session:
            rows = session.scalars(select(CampaignRow).order_by(CampaignRow.created_at.desc(), CampaignRow.id))
            return [_campaign(r) for r in rows]

    def delete(self, campaign_id: str) -> bool:
        with write(self._sessions, f"deleting campaign {campaign_id}") as session:
            row = session.get(CampaignRow, campaign_id)
            if row is None:
                return False
            session.delete(row)
            return True

    # members -----------------------------------------------------------------------------------
    def assign(self, campaign_id: str, arms: Iterable[tuple[str, str]]) -> int:
        """Record each (customer_id, arm) as a member, all at once; a campaign is assigned only once
        (``ConflictError`` otherwise: a second draw would change who is in the holdout)."""
        now = self._clock.now()
        with write(self._sessions, f"assigning campaign {campaign_id}") as session:
            campaign = session.get(CampaignRow, campaign_id, with_for_update=True)
            if campaign is None:
                raise NotFoundError(f"no campaign {campaign_id!r}", user_message=f"There is no campaign "
                                    f"{campaign_id!r}.")
            known = {HOLDOUT, *(str(v["id"]) for v in campaign.variants)}
            if session.scalar(select(func.count()).where(CampaignMemberRow.campaign_id == campaign_id)):
                raise ConflictError(f"campaign {campaign_id} is assigned already", user_message=(
                    f"Campaign {campaign_id} already has its audience and holdout; they are drawn once."))
            count = 0
            for customer_id, arm in arms:
                if arm not in known:
                    raise ValidationError(f"unknown arm {arm!r}", user_message=f"An arm is one of {sorted(known)}.")
                session.add(CampaignMemberRow(campaign_id=campaign_id, customer_id=customer_id, arm=arm,
                                              assigned_at=now))
                count += 1
            session.flush()
            return count

    def members(self, campaign_id: str) -> list[CampaignMember]:
        with read(self._sessions, f"reading the members of campaign {campaign_id}") as session:
            rows = session.scalars(select(CampaignMemberRow).where(CampaignMemberRow.campaign_id == campaign_id)
                                   .order_by(CampaignMemberRow.customer_id))
            return [_member(r) for r in rows]

    def set_drafts(self, campaign_id: str, drafts: Mapping[str, str]) -> int:
        """Record the copy draft written for each member (customer_id -> draft id)."""
        with write(self._sessions, f"recording the copy of campaign {campaign_id}") as session:
            changed = 0
            for customer_id, draft_id in drafts.items():
                result = session.execute(update(CampaignMemberRow).where(
                    CampaignMemberRow.campaign_id == campaign_id, CampaignMemberRow.customer_id == customer_id,
                    CampaignMemberRow.arm != HOLDOUT).values(draft_id=draft_id))
                changed += int(getattr(result, "rowcount", 0) or 0)
            return changed

    def mark_sent(self, campaign_id: str, customer_ids: Iterable[str]) -> int:
        """Record now as the send time of members not sent before (a holdout member is never sent)."""
        now, ids = self._clock.now(), sorted(set(customer_ids))
        if not ids:
            return 0
        with write(self._sessions, f"marking campaign {campaign_id} sent") as session:
            result = session.execute(update(CampaignMemberRow).where(
                CampaignMemberRow.campaign_id == campaign_id, CampaignMemberRow.customer_id.in_(ids),
                CampaignMemberRow.arm != HOLDOUT, CampaignMemberRow.sent_at.is_(None)).values(sent_at=now))
            return int(getattr(result, "rowcount", 0) or 0)
