"""A campaign's files for the tools that send it: the e-mail tool's and the ad platform's.

- ``email`` (CSV or JSON): one row per treated member whose copy a reviewer approved: customer id, e-mail,
  first name, variant, kind, the approved text, the offer codes in it, the draft id.
- ``ads`` (CSV or JSON): the same members' e-mail addresses normalised (trimmed, lower case) and hashed with
  SHA-256, the format ad platforms match audiences on; no address leaves in the clear.

Never in a file: the holdout, a member whose copy is pending or rejected (nothing unreviewed is exported), a
shopper who has withdrawn marketing consent since the draw, a shopper without an e-mail address. Each is
counted under ``skipped`` so the marketer sees why a file is shorter than the audience.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from assistant.records import CustomerProfile
from assistant.store.campaigns import Campaign, CampaignMember
from assistant.store.copy_queue import CopyDraft

CHANNELS = ("email", "ads")
FORMATS = ("csv", "json")
APPROVED = ("approved", "edited")
EMAIL_COLUMNS = ("customer_id", "email", "first_name", "variant", "kind", "text", "offer_codes", "draft_id")


def normalise_email(email: str) -> str:
    """How ad platforms want an address before hashing: no surrounding spaces, lower case."""
    return email.strip().lower()


def hashed_email(email: str) -> str:
    return hashlib.sha256(normalise_email(email).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ChannelExport:
    campaign_id: str
    channel: str
    format: str
    content: str
    rows: int
    customer_ids: tuple[str, ...]
    skipped: dict[str, int] = field(default_factory=dict)

    @property
    def media_type(self) -> str:
        return "text/csv" if self.format == "csv" else "application/json"

    @property
    def filename(self) -> str:
        return f"campaign-{self.campaign_id}-{self.channel}.{self.format}"


def exportable(members: Iterable[CampaignMember], draft: Callable[[str], CopyDraft | None],
               profile: Callable[[str], CustomerProfile | None], variant: str | None = None
               ) -> tuple[list[tuple[CampaignMember, CopyDraft, CustomerProfile]], Counter[str]]:
    """The members that may be sent, with their approved copy and profile, and why the others may not."""
    chosen: list[tuple[CampaignMember, CopyDraft, CustomerProfile]] = []
    skipped: Counter[str] = Counter()
    for member in members:
        if member.holdout:
            skipped["holdout"] += 1
            continue
        if variant is not None and member.arm != variant:
            continue
        piece = draft(member.draft_id) if member.draft_id else None
        if piece is None:
            skipped["no copy"] += 1
            continue
        if piece.status not in APPROVED:
            skipped[f"copy {piece.status}"] += 1
            continue
        shopper = profile(member.customer_id)
        if shopper is None or not shopper.consent.marketing:
            skipped["no marketing consent"] += 1
            continue
        if not shopper.email or "@" not in shopper.email:
            skipped["no e-mail address"] += 1
            continue
        chosen.append((member, piece, shopper))
    return chosen, skipped


def render(campaign: Campaign, channel: str, fmt: str,
           chosen: list[tuple[CampaignMember, CopyDraft, CustomerProfile]], skipped: Counter[str]) -> ChannelExport:
    if channel == "email":
        rows: list[dict[str, str]] = [{
            "customer_id": m.customer_id, "email": str(p.email).strip(),
            "first_name": p.name.split()[0] if p.name else "", "variant": m.arm, "kind": d.kind, "text": d.text,
            "offer_codes": " ".join(str(o.get("code", "")) for o in d.facts.get("offers", [])), "draft_id": d.id}
            for m, d, p in chosen]
        columns: tuple[str, ...] = EMAIL_COLUMNS
    else:
        rows = [{"email_sha256": hashed_email(str(p.email))} for _, _, p in chosen]
        columns = ("email_sha256",)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        content = out.getvalue()
    else:
        content = json.dumps({"campaign": campaign.id, "name": campaign.name, "channel": channel, "rows": rows},
                             ensure_ascii=False, indent=1)
    return ChannelExport(campaign.id, channel, fmt, content, len(rows), tuple(m.customer_id for m, _, _ in chosen),
                         dict(skipped))
