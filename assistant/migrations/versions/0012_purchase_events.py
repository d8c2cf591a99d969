"""Purchase events: purchases the shop reported as events, kept once by event id so that a campaign's uplift and
the purchase signals count them (``assistant.store.purchase_events``), erased with the shopper.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 02:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MONEY = sa.Numeric(12, 2, asdecimal=False)


def upgrade() -> None:
    op.create_table(
        "purchase_events",
        sa.Column("id", sa.String(100), nullable=False),
        sa.Column("customer_id", sa.String(128), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("product_id", sa.String(128), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=True),
        sa.Column("price", MONEY, nullable=True),
        sa.Column("currency", sa.String(3), nullable=True),
        sa.Column("order_id", sa.String(128), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_purchase_events")),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], ondelete="CASCADE",
                                name=op.f("fk_purchase_events_customer_id_customers")),
    )
    op.create_index(op.f("ix_purchase_events_customer_at"), "purchase_events", ["customer_id", "at"])
    op.create_index(op.f("ix_purchase_events_order_id"), "purchase_events", ["order_id"])


def downgrade() -> None:
    op.drop_table("purchase_events")
