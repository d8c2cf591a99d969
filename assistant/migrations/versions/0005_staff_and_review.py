"""Staff accounts and their sessions, reviewers' labels on turns, and who wrote a turn's reply.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 08:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _time(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    with op.batch_alter_table("turns") as batch:
        batch.add_column(sa.Column("author", sa.String(160), nullable=False, server_default="assistant"))
    op.create_table(
        "staff_users",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("username", sa.String(128), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("roles", sa.String(64), nullable=False),
        _time("created_at"),
        _time("disabled_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_users")),
        sa.UniqueConstraint("username", name=op.f("uq_staff_users_username")),
    )
    op.create_table(
        "staff_sessions",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(64), nullable=False),
        _time("created_at"),
        _time("expires_at"),
        _time("last_seen_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_sessions")),
        sa.ForeignKeyConstraint(["user_id"], ["staff_users.id"], name=op.f("fk_staff_sessions_user_id_staff_users"),
                                ondelete="CASCADE"),
    )
    op.create_index(op.f("ix_staff_sessions_user_id"), "staff_sessions", ["user_id"])
    op.create_index(op.f("ix_staff_sessions_expires_at"), "staff_sessions", ["expires_at"])
    op.create_table(
        "turn_labels",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("turn_id", sa.String(64), nullable=False),
        sa.Column("label", sa.String(32), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("reviewer", sa.String(128), nullable=False),
        _time("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_turn_labels")),
        sa.ForeignKeyConstraint(["turn_id"], ["turns.id"], name=op.f("fk_turn_labels_turn_id_turns"),
                                ondelete="CASCADE"),
        sa.CheckConstraint("label IN ('correct', 'incorrect', 'outdated_knowledge', 'policy_violation')",
                           name=op.f("ck_turn_labels_label")),
    )
    op.create_index(op.f("ix_turn_labels_turn_id"), "turn_labels", ["turn_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_turn_labels_turn_id"), table_name="turn_labels")
    op.drop_table("turn_labels")
    op.drop_index(op.f("ix_staff_sessions_expires_at"), table_name="staff_sessions")
    op.drop_index(op.f("ix_staff_sessions_user_id"), table_name="staff_sessions")
    op.drop_table("staff_sessions")
    op.drop_table("staff_users")
    with op.batch_alter_table("turns") as batch:
        batch.drop_column("author")
