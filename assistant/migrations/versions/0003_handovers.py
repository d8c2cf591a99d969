"""Hand-overs: conversations queued for a person, with reason, summary, and who took them.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 06:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _time(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "handovers",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("session_id", sa.String(64), nullable=False),
        sa.Column("customer_id", sa.String(128), nullable=True),
        sa.Column("turn_id", sa.String(64), nullable=True),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("agent", sa.String(128), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        _time("created_at"),
        _time("claimed_at", nullable=True),
        _time("resolved_at", nullable=True),
        sa.Column("open_session_id", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handovers")),
        sa.ForeignKeyConstraint(["session_id"], ["chat_sessions.id"], ondelete="CASCADE",
                                name=op.f("fk_handovers_session_id_chat_sessions")),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], name=op.f("fk_handovers_customer_id_customers"),
                                ondelete="CASCADE"),
        sa.UniqueConstraint("open_session_id", name=op.f("uq_handovers_open_session_id")),
        sa.CheckConstraint("reason IN ('customer_request', 'missing_knowledge', 'policy_restriction', "
                           "'tool_failure', 'angry_customer')", name=op.f("ck_handovers_reason")),
        sa.CheckConstraint("status IN ('open', 'claimed', 'resolved')", name=op.f("ck_handovers_status")),
    )
    op.create_index(op.f("ix_handovers_session_id"), "handovers", ["session_id"])
    op.create_index(op.f("ix_handovers_customer_id"), "handovers", ["customer_id"])
    op.create_index(op.f("ix_handovers_status_created"), "handovers", ["status", "created_at"])


def downgrade() -> None:
    op.drop_table("handovers")
