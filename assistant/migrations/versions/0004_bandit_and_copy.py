"""The offer bandit's counts per (segment, offer), and the review queue of generated marketing copy.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _time(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "bandit_arms",
        sa.Column("segment", sa.String(200), nullable=False),
        sa.Column("offer_id", sa.String(128), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False)
          for name in ("shown", "clicked", "accepted", "redeemed", "conversions")),
        _time("updated_at"),
        sa.PrimaryKeyConstraint("segment", "offer_id", name=op.f("pk_bandit_arms")),
    )
    op.create_table(
        "copy_drafts",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("customer_id", sa.String(128), nullable=True),
        sa.Column("segment", sa.String(200), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("original_text", sa.Text(), nullable=False),
        sa.Column("facts", JSON, nullable=False),
        sa.Column("verdict", JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reviewer", sa.String(128), nullable=True),
        _time("created_at"),
        _time("updated_at"),
        _time("reviewed_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_copy_drafts")),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], name=op.f("fk_copy_drafts_customer_id_customers"),
                                ondelete="CASCADE"),
        sa.CheckConstraint("kind IN ('email', 'push', 'banner')", name=op.f("ck_copy_drafts_kind")),
        sa.CheckConstraint("status IN ('pending', 'approved', 'edited', 'rejected')",
                           name=op.f("ck_copy_drafts_status")),
        sa.CheckConstraint("customer_id IS NOT NULL OR segment IS NOT NULL", name=op.f("ck_copy_drafts_audience")),
    )
    op.create_index(op.f("ix_copy_drafts_customer_id"), "copy_drafts", ["customer_id"])
    op.create_index(op.f("ix_copy_drafts_status"), "copy_drafts", ["status"])


def downgrade() -> None:
    op.drop_index(op.f("ix_copy_drafts_status"), table_name="copy_drafts")
    op.drop_index(op.f("ix_copy_drafts_customer_id"), table_name="copy_drafts")
    op.drop_table("copy_drafts")
    op.drop_table("bandit_arms")
