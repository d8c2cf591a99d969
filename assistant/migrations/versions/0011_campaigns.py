"""Marketing campaigns: the campaign as defined (rules, variants, holdout share and seed, window) and its members
(the arm each shopper fell in, the copy written for them, when it was sent), erased with the shopper.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 23:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _time(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "campaigns",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("rules", JSON, nullable=False),
        sa.Column("variants", JSON, nullable=False),
        sa.Column("holdout_share", sa.Float(), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        _time("starts_at"),
        _time("ends_at"),
        sa.Column("created_by", sa.String(128), nullable=False),
        _time("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
        sa.CheckConstraint("holdout_share >= 0 AND holdout_share < 1", name=op.f("ck_campaigns_holdout_share")),
    )
    op.create_table(
        "campaign_members",
        sa.Column("campaign_id", sa.String(64), nullable=False),
        sa.Column("customer_id", sa.String(128), nullable=False),
        sa.Column("arm", sa.String(64), nullable=False),
        sa.Column("draft_id", sa.String(64), nullable=True),
        _time("assigned_at"),
        _time("sent_at", nullable=True),
        sa.PrimaryKeyConstraint("campaign_id", "customer_id", name=op.f("pk_campaign_members")),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"], ondelete="CASCADE",
                                name=op.f("fk_campaign_members_campaign_id_campaigns")),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], ondelete="CASCADE",
                                name=op.f("fk_campaign_members_customer_id_customers")),
        sa.ForeignKeyConstraint(["draft_id"], ["copy_drafts.id"], ondelete="SET NULL",
                                name=op.f("fk_campaign_members_draft_id_copy_drafts")),
    )
    op.create_index(op.f("ix_campaign_members_customer_id"), "campaign_members", ["customer_id"])


def downgrade() -> None:
    op.drop_table("campaign_members")
    op.drop_table("campaigns")
