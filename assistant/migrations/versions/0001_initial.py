"""Initial schema: customers, consent, preferences, orders and items, sessions, turns, events.

Revision ID: 0001
Revises:
Create Date: 2025-01-01 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
MONEY = sa.Numeric(12, 2, asdecimal=False)


# Constraint names are spelled out (op.f) so this revision does not depend on the models' naming
# convention, which may change later.


def _time(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _pk(table: str, column: str = "id") -> sa.PrimaryKeyConstraint:
    return sa.PrimaryKeyConstraint(column, name=op.f(f"pk_{table}"))


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete="CASCADE"
    )


def _ck(table: str, name: str, condition: str) -> sa.CheckConstraint:
    return sa.CheckConstraint(condition, name=op.f(f"ck_{table}_{name}"))


def upgrade() -> None:
    op.create_table(
        "customers",
        sa.Column("id", sa.String(128), nullable=False),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("phone", sa.String(64), nullable=True),
        sa.Column("tier", sa.String(32), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        _time("joined_at", nullable=True),
        sa.Column("address", JSON, nullable=True),
        sa.Column("attributes", JSON, nullable=False),
        sa.Column("origin", sa.String(128), nullable=True),
        sa.Column("source_hash", sa.String(64), nullable=True),
        _time("created_at"),
        _time("updated_at"),
        _pk("customers"),
    )
    op.create_index(op.f("ix_customers_origin"), "customers", ["origin"])

    op.create_table(
        "consents",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("customer_id", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        _time("at"),
        _pk("consents"),
        _fk("consents", "customer_id", "customers"),
        _ck("consents", "kind", "kind IN ('personalization', 'marketing')"),
    )
    op.create_index(op.f("ix_consents_customer_id"), "consents", ["customer_id"])
    op.create_index(op.f("ix_consents_customer_kind_at"), "consents", ["customer_id", "kind", "at"])

    op.create_table(
        "preferences",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("customer_id", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("value", sa.String(300), nullable=False),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("source", sa.String(128), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("evidence_count", sa.Integer(), nullable=False),
        _time("created_at"),
        _time("updated_at"),
        _time("removed_at", nullable=True),
        _pk("preferences"),
        _fk("preferences", "customer_id", "customers"),
        _ck("preferences", "origin", "origin IN ('explicit', 'inferred')"),
        _ck("preferences", "confidence", "confidence >= 0 AND confidence <= 1"),
        sa.UniqueConstraint("customer_id", "kind", "value", "origin", name=op.f("uq_preferences_key")),
    )
    op.create_index(op.f("ix_preferences_customer_id"), "preferences", ["customer_id"])

    op.create_table(
        "orders",
        sa.Column("id", sa.String(128), nullable=False),
        sa.Column("customer_id", sa.String(128), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        _time("placed_at"),
        _time("updated_at", nullable=True),
        _time("delivered_at", nullable=True),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("total", MONEY, nullable=True),
        sa.Column("shipping", MONEY, nullable=True),
        sa.Column("shipping_address", JSON, nullable=True),
        sa.Column("tracking", JSON, nullable=True),
        sa.Column("payments", JSON, nullable=False),
        sa.Column("history", JSON, nullable=False),
        _pk("orders"),
        _fk("orders", "customer_id", "customers"),
    )
    op.create_index(op.f("ix_orders_customer_id"), "orders", ["customer_id"])
    op.create_index(op.f("ix_orders_customer_placed"), "orders", ["customer_id", "placed_at"])

    op.create_table(
        "order_items",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("order_id", sa.String(128), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.String(128), nullable=False),
        sa.Column("variant_id", sa.String(128), nullable=True),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("options", JSON, nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price", MONEY, nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        _pk("order_items"),
        _fk("order_items", "order_id", "orders"),
        sa.UniqueConstraint("order_id", "position", name=op.f("uq_order_items_position")),
    )
    op.create_index(op.f("ix_order_items_order_id"), "order_items", ["order_id"])

    op.create_table(
        "chat_sessions",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("customer_id", sa.String(128), nullable=True),
        sa.Column("channel", sa.String(32), nullable=False),
        _time("created_at"),
        _time("last_seen_at"),
        sa.Column("state", JSON, nullable=False),
        _pk("chat_sessions"),
        _fk("chat_sessions", "customer_id", "customers"),
    )
    op.create_index(op.f("ix_chat_sessions_customer_id"), "chat_sessions", ["customer_id"])
    op.create_index(op.f("ix_chat_sessions_created_at"), "chat_sessions", ["created_at"])

    op.create_table(
        "turns",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("session_id", sa.String(64), nullable=False),
        sa.Column("customer_id", sa.String(128), nullable=True),
        _time("created_at"),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("reply", sa.Text(), nullable=False),
        sa.Column("intent", sa.String(64), nullable=True),
        sa.Column("verdict", sa.String(64), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("handover", sa.Boolean(), nullable=False),
        sa.Column("trace", JSON, nullable=False),
        sa.Column("latency_ms", sa.Integer(), nullable=True),
        sa.Column("model", sa.String(200), nullable=True),
        _pk("turns"),
        _fk("turns", "session_id", "chat_sessions"),
        _fk("turns", "customer_id", "customers"),
        _ck("turns", "status", "status IN ('ok', 'error', 'fallback')"),
    )
    op.create_index(op.f("ix_turns_customer_id"), "turns", ["customer_id"])
    op.create_index(op.f("ix_turns_created_at"), "turns", ["created_at"])
    op.create_index(op.f("ix_turns_session_created"), "turns", ["session_id", "created_at"])

    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("customer_id", sa.String(128), nullable=True),
        sa.Column("session_id", sa.String(64), nullable=True),
        sa.Column("turn_id", sa.String(64), nullable=True),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("payload", JSON, nullable=False),
        _time("created_at"),
        _pk("events"),
        _fk("events", "customer_id", "customers"),
        _fk("events", "session_id", "chat_sessions"),
        _fk("events", "turn_id", "turns"),
    )
    op.create_index(op.f("ix_events_customer_id"), "events", ["customer_id"])
    op.create_index(op.f("ix_events_session_id"), "events", ["session_id"])
    op.create_index(op.f("ix_events_turn_id"), "events", ["turn_id"])
    op.create_index(op.f("ix_events_kind"), "events", ["kind"])
    op.create_index(op.f("ix_events_created_at"), "events", ["created_at"])
    op.create_index(op.f("ix_events_customer_created"), "events", ["customer_id", "created_at"])


def downgrade() -> None:
    for table in (
        "events", "turns", "chat_sessions", "order_items", "orders", "preferences", "consents", "customers",
    ):
        op.drop_table(table)
