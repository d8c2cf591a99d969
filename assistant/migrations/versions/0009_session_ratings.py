"""Session ratings (CSAT): the shopper's 1-5 rating and comment of a conversation, one per session.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 23:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "session_ratings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("session_id", sa.String(64), nullable=False),
        sa.Column("customer_id", sa.String(128), nullable=True),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_session_ratings")),
        sa.ForeignKeyConstraint(["session_id"], ["chat_sessions.id"], ondelete="CASCADE",
                                name=op.f("fk_session_ratings_session_id_chat_sessions")),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], ondelete="CASCADE",
                                name=op.f("fk_session_ratings_customer_id_customers")),
        sa.UniqueConstraint("session_id", name=op.f("uq_session_ratings_session_id")),
        sa.CheckConstraint("score >= 1 AND score <= 5", name=op.f("ck_session_ratings_score")),
        sa.CheckConstraint("reason IN ('handover_resolved', 'quiet')", name=op.f("ck_session_ratings_reason")),
    )
    op.create_index(op.f("ix_session_ratings_customer_id"), "session_ratings", ["customer_id"])
    op.create_index(op.f("ix_session_ratings_created_at"), "session_ratings", ["created_at"])


def downgrade() -> None:
    op.drop_table("session_ratings")
