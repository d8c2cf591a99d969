"""Campaigns from audience to channel file: the service behind ``concierge campaign`` and ``/api/v1/campaigns``.

1. ``create``: a name, audience rules (``audience_rules``), copy variants with their generation parameters
   (``campaign_copy``, checked against the configured backend), a holdout share and seed, a schedule window.
2. ``assign``: the audience is drawn once from the profiles as they are now (never a shopper without marketing
   consent) and split at random (seeded) into the holdout, which gets nothing, and the variants.
3. ``generate``: the copywriter writes each treated member's copy (per shopper, or once per tier for a segment
   variant) into the review queue as ``pending``; reviewers approve, edit or reject it there.
4. ``export``: inside the window only, a channel's file (``campaign_exports``) of the members with approved copy;
   they are marked sent (the first time), which is when their measured outcome starts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING

from assistant.errors import ConflictError, ValidationError
from assistant.personalization.audience_rules import NOT_SPENT, AudienceRules, assign_arms
from assistant.personalization.campaign_copy import VariantSpec, parse_variants
from assistant.personalization.campaign_exports import CHANNELS, FORMATS, ChannelExport, exportable, render
from assistant.personalization.copywriter import MarketingOptOut
from assistant.store.campaigns import HOLDOUT, Campaign, CampaignMember

if TYPE_CHECKING:
    from assistant.components import Components
    from assistant.personalization.copywriter import CopyWriter, Sampling
    from assistant.personalization.uplift import UpliftReport
    from assistant.records import Order
    from assistant.settings import Settings
    from assistant.store.copy_queue import CopyDraft
    from assistant.store.stores import Stores


@dataclass(frozen=True)
class AudienceDraw:
    """What ``assign`` did: members per arm, and how many shoppers each rule kept out."""

    campaign_id: str
    members: int
    arms: dict[str, int]
    excluded: dict[str, int]


@dataclass(frozen=True)
class GenerationRun:
    campaign_id: str
    queued: int  # pieces of copy added to the review queue
    members_with_copy: int
    skipped: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class CampaignStatus:
    campaign: Campaign
    arms: dict[str, int]
    copy: dict[str, int]  # draft status -> members
    sent: int

    def to_dict(self) -> dict[str, object]:
        return {"campaign": self.campaign.to_dict(), "arms": self.arms, "copy": self.copy, "sent": self.sent}


class Campaigns:
    """``writer`` builds the copywriter on first use (it loads the chat model); ``backend`` is the chat model's
    ``_llm_type`` (``concierge-<llm.mode>``) that variants are checked against."""

    def __init__(self, stores: Stores, settings: Settings, writer: Callable[[], CopyWriter], backend: str,
                 now: Callable[[], datetime] | None = None, shop_language: Callable[[], str] = lambda: "en") -> None:
        self.stores = stores
        self.settings = settings
        self._writer = writer
        self.backend = backend
        self.now = now or (lambda: datetime.now(UTC))
        self.shop_language = shop_language

    # defining and drawing ------------------------------------------------------------------------
    def create(self, *, name: str, rules: Mapping[str, object] | None, variants: object, holdout_share: float,
               starts_at: datetime, ends_at: datetime, created_by: str, seed: int = 0,
               campaign_id: str | None = None) -> Campaign:
        if not name.strip():
            raise ValidationError("a campaign without a name", user_message="Give the campaign a name.")
        parsed = AudienceRules.from_dict(rules)
        specs = parse_variants(variants, self.backend)
        return self.stores.campaigns.create(
            name=name.strip(), rules=parsed.to_dict(), variants=[s.to_dict() for s in specs],
            holdout_share=holdout_share, seed=seed, starts_at=_aware(starts_at), ends_at=_aware(ends_at),
            created_by=created_by, campaign_id=campaign_id)

    def audience(self, rules: AudienceRules) -> tuple[list[str], Counter[str]]:
        """The shoppers the rules select now, and per failing rule how many were left out."""
        now, language = self.now(), self.shop_language()
        chosen: list[str] = []
        excluded: Counter[str] = Counter()
        for customer_id in self.stores.customers.list_ids():
            profile = self.stores.customers.get(customer_id)
            if profile is None:
                continue
            reason = rules.why_not(profile, now, language)
            if reason is None:
                chosen.append(customer_id)
            else:
                excluded[reason] += 1
        return chosen, excluded

    def assign(self, campaign_id: str) -> AudienceDraw:
        """Draw the audience and the holdout once, recording every member's arm."""
        campaign = self.stores.campaigns.require(campaign_id)
        chosen, excluded = self.audience(AudienceRules.from_dict(campaign.rules))
        arms = assign_arms(chosen, campaign.variant_ids, campaign.holdout_share, campaign.seed)
        self.stores.campaigns.assign(campaign_id, arms)
        return AudienceDraw(campaign_id, len(arms), dict(Counter(a for _, a in arms)), dict(excluded))

    def members(self, campaign_id: str) -> list[CampaignMember]:
        self.stores.campaigns.require(campaign_id)
        return self.stores.campaigns.members(campaign_id)

    # copy ------------------------------------------------------------------------------------------
    def generate(self, campaign_id: str) -> GenerationRun:
        """Copy for every treated member without copy yet (or whose copy a reviewer rejected), queued for review;
        the holdout gets none."""
        campaign = self.stores.campaigns.require(campaign_id)
        members = self.stores.campaigns.members(campaign_id)
        waiting = [m for m in members if not m.holdout and not self._has_copy(m)]
        if not members:
            raise ConflictError(f"campaign {campaign_id} has no members", user_message=(
                f"Campaign {campaign_id} has no audience yet: assign it first."))
        specs = [VariantSpec.from_dict(raw) for raw in campaign.variants]
        for spec in specs:
            spec.check_backend(self.backend)
        writer = self._writer()
        drafts: dict[str, str] = {}
        skipped: Counter[str] = Counter()
        queued = 0
        try:  # what was queued is recorded on its members even when a later piece fails
            for spec in specs:
                sampling, n = spec.sampling(self.settings), spec.how_many(self.settings)
                ids = [m.customer_id for m in waiting if m.arm == spec.id]
                for customer_ids, write in self._pieces(writer, spec, ids, skipped):
                    try:
                        draft_id = write(n, sampling).id
                    except MarketingOptOut:
                        skipped["no marketing consent"] += len(customer_ids)
                        continue
                    except ValidationError as e:  # e.g. nothing in stock to recommend
                        skipped[e.user_message[:80]] += len(customer_ids)
                        continue
                    queued += 1
                    drafts.update(dict.fromkeys(customer_ids, draft_id))
        finally:
            self.stores.campaigns.set_drafts(campaign_id, drafts)
        return GenerationRun(campaign_id, queued, len(drafts), dict(skipped))

    def _has_copy(self, member: CampaignMember) -> bool:
        draft = self.stores.copy.get(member.draft_id) if member.draft_id else None
        return draft is not None and draft.status != "rejected"

    def _pieces(self, writer: CopyWriter, spec: VariantSpec, ids: list[str], skipped: Counter[str]
                ) -> list[tuple[list[str], Callable[[int, Sampling], CopyDraft]]]:
        """The pieces of copy a variant needs: one per member, or one per tier of its members (with consent)."""
        if spec.per == "shopper":
            return [([c], partial(writer.for_customer, c, spec.kind)) for c in ids]
        tiers: dict[str, list[str]] = {}
        for customer_id in ids:
            profile = self.stores.customers.get(customer_id)
            if profile is None or not profile.consent.marketing:
                skipped["no marketing consent"] += 1
            else:
                tiers.setdefault(profile.tier, []).append(customer_id)
        return [(members, partial(_segment_piece, writer, tier, spec.kind)) for tier, members in sorted(tiers.items())]

    def status(self, campaign_id: str) -> CampaignStatus:
        campaign = self.stores.campaigns.require(campaign_id)
        members = self.stores.campaigns.members(campaign_id)
        copy: Counter[str] = Counter()
        for m in members:
            if not m.holdout:
                draft = self.stores.copy.get(m.draft_id) if m.draft_id else None
                copy[draft.status if draft else "none"] += 1
        return CampaignStatus(campaign, dict(Counter(m.arm for m in members)), dict(copy),
                              sum(1 for m in members if m.sent_at is not None))

    # channels --------------------------------------------------------------------------------------
    def check_window(self, campaign: Campaign) -> None:
        """``ConflictError`` outside the campaign's schedule window, saying when it opens or closed."""
        now = self.now()
        if now < campaign.starts_at:
            raise ConflictError(f"campaign {campaign.id} has not started", user_message=(
                f"Campaign {campaign.id} opens at {campaign.starts_at.isoformat()} (it is {now.isoformat()}): "
                "nothing is exported before its window."))
        if now >= campaign.ends_at:
            raise ConflictError(f"campaign {campaign.id} has ended", user_message=(
                f"Campaign {campaign.id} closed at {campaign.ends_at.isoformat()} (it is {now.isoformat()}): "
                "nothing is exported after its window."))

    def export(self, campaign_id: str, channel: str, fmt: str = "csv", variant: str | None = None) -> ChannelExport:
        """The channel's file of members with approved copy, inside the window; they are marked sent."""
        if channel not in CHANNELS or fmt not in FORMATS:
            raise ValidationError(f"export {channel}/{fmt}", user_message=(
                f"Export to {' or '.join(CHANNELS)}, as {' or '.join(FORMATS)}."))
        campaign = self.stores.campaigns.require(campaign_id)
        if variant is not None and variant not in campaign.variant_ids:
            raise ValidationError(f"unknown variant {variant!r}", user_message=(
                f"Campaign {campaign_id} has the variants {', '.join(campaign.variant_ids)}."))
        self.check_window(campaign)
        chosen, skipped = exportable(self.stores.campaigns.members(campaign_id), self.stores.copy.get,
                                     self.stores.customers.get, variant)
        result = render(campaign, channel, fmt, chosen, skipped)
        self.stores.campaigns.mark_sent(campaign_id, result.customer_ids)
        return result


    # measured uplift -------------------------------------------------------------------------------
    def uplift(self, campaign_id: str, until: datetime | None = None, resamples: int = 2000) -> UpliftReport:
        """Treated arms against the holdout on the members' purchases from the first send until ``until`` (now):
        their orders (not cancelled) and the purchases the shop reported as events, each purchase once
        (``assistant.store.purchase_events``: an event that is a line of a stored order counts as that order).

        Every member counts in the arm they were drawn into, sent or not (intention to treat: leaving out
        treated members whose copy was never approved would compare a chosen group with a random one)."""
        from assistant.personalization.uplift import measure_uplift
        from assistant.store.purchase_events import purchases

        campaign = self.stores.campaigns.require(campaign_id)
        members = self.stores.campaigns.members(campaign_id)
        sent = [m.sent_at for m in members if m.sent_at is not None]
        if not sent:
            raise ConflictError(f"campaign {campaign_id} not sent", user_message=(
                f"Campaign {campaign_id} has not been sent yet (no export): there is nothing to measure."))
        outcomes = [(m.customer_id, order.placed_at, _revenue(order))
                    for m in members for order in self.stores.orders.list_for(m.customer_id)
                    if order.status not in NOT_SPENT]
        events = self.stores.purchase_events.for_customers(m.customer_id for m in members)
        outcomes += purchases(events)
        since, end = min(sent), _aware(until) if until else self.now()
        try:
            report = measure_uplift([(m.customer_id, m.arm) for m in members], outcomes, since, end,
                                    resamples=resamples, seed=campaign.seed, arms=campaign.variant_ids)
        except ValueError as e:
            raise ConflictError(f"uplift of {campaign_id}: {e}", user_message=f"Cannot measure campaign "
                                f"{campaign_id} yet: {e}.") from e
        unpriced = sum(1 for e in events if e.price is None and since <= e.at < end)
        if unpriced:
            report.notes.append(f"{unpriced} purchase event(s) in the window have no price: they count as "
                                "conversions and add nothing to revenue")
        return report


def _segment_piece(writer: CopyWriter, tier: str, kind: str, candidates: int, sampling: Sampling) -> CopyDraft:
    return writer.write(writer.facts_for_segment(tier), kind, candidates, sampling)


def _revenue(order: Order) -> float:
    if order.total is not None:
        return float(order.total)
    return float(sum(i.quantity * i.unit_price for i in order.items))


def _aware(when: datetime) -> datetime:
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def build_campaigns(components: Components) -> Campaigns:
    """The service over the components' stores; the copywriter uses the chat's deps (built when first needed)."""
    from assistant.personalization.copywriter import CopyWriter

    settings = components.settings
    return Campaigns(components.stores, settings,
                     lambda: CopyWriter(components.assistant.deps, components.stores.copy),
                     f"concierge-{settings.llm.mode}", shop_language=lambda: _language(components))


def _language(components: Components) -> str:
    locale = str(getattr(components.shop_profile, "locale", "") or "en")
    return locale.replace("_", "-").split("-")[0].lower() or "en"


__all__ = ["HOLDOUT", "AudienceDraw", "CampaignStatus", "Campaigns", "GenerationRun", "build_campaigns"]
